#!/bin/bash
# 60-integrity: tampering with the remote files of a sealbox chain (full +
# incremental, --volsize 1).  Each restore must exit 6, name the damaged
# remote file on its "sealbox: error:" line, and leave no file with wrong
# bytes in DEST:
#   a byte flipped in a volume, in the full's manifest, in the inc's manifest;
#   a truncated volume; a volume and a manifest replaced by ones signed by
#   the foreign key; a volume re-encrypted and signed by the right key (its
#   ciphertext no longer matches the manifest's hash); a manifest and a
#   volume re-encrypted unsigned (the seal's hash catches them). First: the
#   volumes carry the signing key's signature, the sealed sets' manifests,
#   signatures and index none (their seal proves them).
source "$(dirname "$0")/lib.sh"

make_keys
SRC="$T/src"
make_tree "$SRC"
GOOD="$T/pristine"
mkdir "$GOOD"
sb_backup "file://$GOOD" "$SRC" --volsize 1
snapshot_copy "$SRC" 1
wait_next_second
mutate_tree "$SRC" 1
sb_backup "file://$GOOD" "$SRC" --volsize 1
snapshot_copy "$SRC" 2

one() { # one GLOB: the single file in $GOOD matching GLOB (basename)
    local m=("$GOOD"/$1)
    [ ${#m[@]} = 1 ] || { ls -l "$GOOD" >&2; fail "expected one file matching $1"; }
    basename "${m[0]}"
}
FULL_VOL1=$(one 'duplicity-full.*.vol1.difftar.gpg')
FULL_VOL2=$(one 'duplicity-full.*.vol2.difftar.gpg')
FULL_VOL3=$(one 'duplicity-full.*.vol3.difftar.gpg')
FULL_MAN=$(one 'duplicity-full.*.manifest.gpg')
INC_MAN=$(one 'duplicity-inc.*.manifest.gpg')
INC_VOL1=$(one 'duplicity-inc.*.vol1.difftar.gpg')

truncate_half() { truncate -s $(($(stat -c %s "$1") / 2)) "$1"; }
decrypt() { # decrypt FILE OUT
    gpg --homedir "$RESTORE_GNUPGHOME" --batch --quiet --pinentry-mode loopback \
        --passphrase "$SEALBOX_SECRET_PASSPHRASE" --decrypt -o "$2" "$1" 2>>"$T/out/gpg.log"
}
resign() { # resign SIGNER FILE: same plaintext, re-encrypted, signed by SIGNER
    decrypt "$2" "$T/plain.tmp"
    rm -f "$2"
    gpg --batch --quiet --pinentry-mode loopback --passphrase '' --trust-model always \
        -u "$1" -r "$ENC_FPR" --sign --encrypt -o "$2" "$T/plain.tmp" 2>>"$T/out/gpg.log"
    rm -f "$T/plain.tmp"
}
reencrypt() { # reencrypt FILE: same plaintext, re-encrypted, unsigned
    decrypt "$1" "$T/plain.tmp"
    rm -f "$1"
    gpg --batch --quiet --trust-model always -r "$ENC_FPR" --encrypt -o "$1" "$T/plain.tmp" \
        2>>"$T/out/gpg.log"
    rm -f "$T/plain.tmp"
}
signer() { # signer FILE: the fingerprint of its good signature, or nothing
    gpg --homedir "$RESTORE_GNUPGHOME" --batch --quiet --pinentry-mode loopback \
        --passphrase "$SEALBOX_SECRET_PASSPHRASE" --status-fd 1 --decrypt -o /dev/null "$1" \
        2>>"$T/out/gpg.log" | awk '$2 == "VALIDSIG" { print $NF; exit }'
}

log "volumes are signed; a sealed set's manifest, signatures and index are not (its seal proves them)"
for f in "$FULL_VOL1" "$FULL_VOL2" "$INC_VOL1"; do
    [ "$(signer "$GOOD/$f")" = "$SIGN_FPR" ] || fail "$f is not signed by the signing key"
done
for f in "$FULL_MAN" "$INC_MAN" "$(one 'duplicity-full-signatures.*.sigtar.gpg')" \
    "$(one 'sealbox-full.*.index.gpg')"; do
    rm -f "$T/plain.tmp"
    decrypt "$GOOD/$f" "$T/plain.tmp" || fail "$f does not decrypt"
    [ -z "$(signer "$GOOD/$f")" ] || fail "$f is signed: the seal alone should prove it"
done
rm -f "$T/plain.tmp"

n=0
# tampered NAME FILE ACTION...: copy the chain, apply ACTION to FILE, restore.
tampered() {
    local what=$1 file=$2
    shift 2
    n=$((n + 1))
    local tgt="$T/t$n" dest="$T/r$n"
    log "$what ($file)"
    cp -a "$GOOD" "$tgt"
    "$@" "$tgt/$file"
    cmp -s "$GOOD/$file" "$tgt/$file" && fail "tampering did not change $file"
    expect_exit 6 sb restore --target "file://$tgt" --sign-key "$SIGN_FPR" \
        --secret-key "$T/enc-secret.asc" "$dest"
    expect_error "${file//./\\.}"
    no_wrong_bytes "$T/expect/2" "$dest"
}

tampered "byte flipped in a full volume" "$FULL_VOL2" flip_byte
tampered "byte flipped near the start of a volume" "$FULL_VOL1" flip_byte 100
tampered "byte flipped in an incremental volume" "$INC_VOL1" flip_byte
tampered "byte flipped in the full's manifest" "$FULL_MAN" flip_byte
tampered "byte flipped in the incremental's manifest" "$INC_MAN" flip_byte
tampered "truncated volume" "$FULL_VOL3" truncate_half
tampered "volume signed by the foreign key" "$FULL_VOL1" resign "$FOREIGN_FPR"
tampered "manifest signed by the foreign key" "$FULL_MAN" resign "$FOREIGN_FPR"
tampered "incremental manifest signed by the foreign key" "$INC_MAN" resign "$FOREIGN_FPR"
tampered "volume re-encrypted by the right key (hash mismatch)" "$FULL_VOL2" resign "$SIGN_FPR"
tampered "manifest re-encrypted unsigned, as sealbox writes it (hash mismatch)" "$FULL_MAN" reencrypt
tampered "volume re-encrypted unsigned (hash mismatch)" "$FULL_VOL2" reencrypt

# (No duplicity cross-check here: duplicity 0.8.22 exits 21 on a hash
# mismatch when run alone, but was seen to hang in this sequence.)

log "the untouched chain still restores"
sb_restore "file://$GOOD" "$T/good"
compare "$T/expect/2" "$T/good" --ignore-root
