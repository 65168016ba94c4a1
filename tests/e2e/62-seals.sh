#!/bin/bash
# 62-seals: `sealbox verify` with the public signing key only, against the
# seals of a sealbox chain (full + incremental, --volsize 1). Each tampering
# is done on a copy of the target and must give its own exit status
# (sealbox(1) EXIT STATUS) and a line on stdout naming the remote file:
#   13 modified: one byte flipped in a volume, manifest, signatures, index, seal
#   14 truncated volume   15 deleted volume   16 extra file
#   17 a set copied from another backup (same keys, other backup id)
#   18 a set copied from a backup signed by another key; a seal re-signed
#   19 the newest set deleted (rollback, seen through the archive dir)
# restore refuses a set whose seal fails; --quick reads no volume;
# --content compares the newest snapshot with the source; a duplicity chain
# is said to be unsealed, and with --secret-key its volumes' SHA-1 checked.
source "$(dirname "$0")/lib.sh"

make_keys
SRC="$T/src"
make_tree "$SRC"
GOOD="$T/pristine"
ARCH="$T/arch"
mkdir "$GOOD"
sb_backup "file://$GOOD" "$SRC" --volsize 1 --archive-dir "$ARCH"
wait_next_second
mutate_tree "$SRC" 1
sb_backup "file://$GOOD" "$SRC" --volsize 1 --archive-dir "$ARCH"

one() { # one GLOB: the single file in $GOOD matching GLOB (basename)
    local m=("$GOOD"/$1)
    [ ${#m[@]} = 1 ] || { ls -l "$GOOD" >&2; fail "expected one file matching $1"; }
    basename "${m[0]}"
}
FULL_VOL2=$(one 'duplicity-full.*.vol2.difftar.gpg')
FULL_VOL3=$(one 'duplicity-full.*.vol3.difftar.gpg')
FULL_MAN=$(one 'duplicity-full.*.manifest.gpg')
FULL_SIG=$(one 'duplicity-full-signatures.*.sigtar.gpg')
FULL_IDX=$(one 'sealbox-full.*.index.gpg')
FULL_SEAL=$(one 'sealbox-full.*.seal.asc')
INC_VOL1=$(one 'duplicity-inc.*.vol1.difftar.gpg')
INC_MAN=$(one 'duplicity-inc.*.manifest.gpg')
INC_SEAL=$(one 'sealbox-inc.*.seal.asc')

truncate_half() { truncate -s $(($(stat -c %s "$1") / 2)) "$1"; }
delete() { rm -f "$1"; }
delete_newest_set() { # delete_newest_set ANYFILE: every file of the incremental set
    local d
    d=$(dirname "$1")
    rm -f "$d"/duplicity-inc.* "$d"/duplicity-new-signatures.* "$d"/sealbox-inc.*
}
resign_seal() { # resign_seal FILE: the same text, clear-signed by the foreign key
    gpg --batch --quiet --decrypt -o "$T/seal.txt" "$1" 2>>"$T/out/gpg.log" || true
    [ -s "$T/seal.txt" ] || fail "cannot extract the seal text"
    rm -f "$1"
    gpg --batch --quiet --pinentry-mode loopback --passphrase '' -u "$FOREIGN_FPR" \
        --clearsign -o "$1" "$T/seal.txt" 2>>"$T/out/gpg.log"
    rm -f "$T/seal.txt"
}

verify() { # verify TARGET [OPTS...]
    local tgt=$1
    shift
    _run sb verify --target "file://$tgt" --sign-key "$SIGN_FPR" --archive-dir "$ARCH" "$@"
}
# expect_problem CLASS FILE: a "CLASS: FILE: ..." line on stdout
expect_problem() {
    if ! grep -aEq -- "^$1: ${2//./\\.}: " "$LAST_OUT"; then
        _show_last verify
        soft_fail "no '$1: $2' line on stdout"
    fi
}
expect_rc() {
    if [ "$LAST_RC" != "$1" ]; then
        _show_last verify
        soft_fail "expected exit $1, got $LAST_RC"
    fi
}

n=0
# tampered CODE CLASS REPORTED-FILE WHAT TARGET-FILE ACTION...
tampered() {
    local code=$1 class=$2 reported=$3 what=$4 file=$5
    shift 5
    n=$((n + 1))
    local tgt="$T/t$n"
    log "$what ($file)"
    cp -a "$GOOD" "$tgt"
    "$@" "$tgt/$file"
    verify "$tgt"
    expect_rc "$code"
    expect_problem "$class" "$reported"
    expect_stdout_match '^verify: .*problem'
}

log "an untouched target passes"
verify "$GOOD"
expect_rc 0
expect_stdout_match '^verify: .* 2 seal\(s\), 2 set\(s\) \(0 unsealed\), 12 file\(s\) checked.*: OK$'
verify "$GOOD" --quick
expect_rc 0

tampered 13 modified "$FULL_VOL2" "byte flipped in a volume" "$FULL_VOL2" flip_byte
tampered 13 modified "$INC_VOL1" "byte flipped in an incremental volume" "$INC_VOL1" flip_byte
tampered 13 modified "$FULL_MAN" "byte flipped in a manifest" "$FULL_MAN" flip_byte
tampered 13 modified "$INC_MAN" "byte flipped in the incremental's manifest" "$INC_MAN" flip_byte
tampered 13 modified "$FULL_SIG" "byte flipped in the signatures" "$FULL_SIG" flip_byte
tampered 13 modified "$FULL_IDX" "byte flipped in an index" "$FULL_IDX" flip_byte
tampered 13 modified "$FULL_SEAL" "byte flipped in the full's seal" "$FULL_SEAL" flip_byte
tampered 13 modified "$INC_SEAL" "byte flipped in the incremental's seal" "$INC_SEAL" flip_byte
tampered 14 truncated "$FULL_VOL3" "truncated volume" "$FULL_VOL3" truncate_half
tampered 15 missing "$FULL_VOL2" "deleted volume" "$FULL_VOL2" delete
tampered 19 rollback "$INC_SEAL" "newest set deleted (rollback)" "$INC_SEAL" delete_newest_set
tampered 18 foreign "$INC_SEAL" "seal re-signed by another key" "$INC_SEAL" resign_seal
tampered 16 unexpected "${FULL_VOL2/vol2/vol9}" "extra volume" "${FULL_VOL2/vol2/vol9}" \
    cp "$GOOD/$FULL_VOL2"
tampered 16 unexpected "notes.txt" "extra file" "notes.txt" touch

log "--quick reads no volume: a flipped byte passes, a truncation does not"
cp -a "$GOOD" "$T/q"
flip_byte "$T/q/$FULL_VOL2"
verify "$T/q" --quick
expect_rc 0
expect_stdout_match '0\.0 MiB read'
truncate_half "$T/q/$FULL_VOL3"
verify "$T/q" --quick
expect_rc 14
expect_problem truncated "$FULL_VOL3"

log "a set copied from another backup (same keys, another backup id)"
mkdir "$T/other-src" "$T/other"
printf 'other\n' >"$T/other-src/file"
wait_next_second
sb_backup "file://$T/other" "$T/other-src" --archive-dir "$T/other-arch"
cp -a "$GOOD" "$T/c1"
cp "$T/other"/* "$T/c1/"
OTHER_SEAL=$(basename "$T"/other/sealbox-full.*.seal.asc)
verify "$T/c1"
expect_rc 17
expect_problem chain "$OTHER_SEAL"

log "a set copied from a backup signed by another key"
mkdir "$T/other2"
wait_next_second
expect_exit 0 sb backup --target "file://$T/other2" --encrypt-key "$ENC_FPR" \
    --sign-key "$FOREIGN_FPR" --archive-dir "$T/other2-arch" "$T/other-src"
cp -a "$GOOD" "$T/c2"
cp "$T/other2"/* "$T/c2/"
OTHER2_SEAL=$(basename "$T"/other2/sealbox-full.*.seal.asc)
verify "$T/c2"
expect_rc 18
expect_problem foreign "$OTHER2_SEAL"

log "without the archive dir, no rollback check (and it says so)"
cp -a "$GOOD" "$T/nr"
delete_newest_set "$T/nr/x"
_run sb verify --target "file://$T/nr" --sign-key "$SIGN_FPR" --archive-dir "$T/nowhere"
expect_rc 0
expect_stdout_match 'no rollback check'
[ ! -e "$T/nowhere" ] || fail "verify created the archive dir"

log "restore refuses a set whose seal fails"
cp -a "$GOOD" "$T/rs"
flip_byte "$T/rs/$INC_SEAL"
expect_exit 6 sb restore --target "file://$T/rs" --sign-key "$SIGN_FPR" \
    --secret-key "$T/enc-secret.asc" "$T/rs-out"
expect_error "${INC_SEAL//./\\.}"
cp -a "$GOOD" "$T/rf"
resign_seal "$T/rf/$FULL_SEAL"
expect_exit 6 sb restore --target "file://$T/rf" --sign-key "$SIGN_FPR" \
    --secret-key "$T/enc-secret.asc" "$T/rf-out"
expect_error "${FULL_SEAL//./\\.}"
cp -a "$GOOD" "$T/rd"
rm "$T/rd/$INC_SEAL"
# a sealbox set (it has an index) without its seal: the chain is broken there
expect_exit 17 sb restore --target "file://$T/rd" --sign-key "$SIGN_FPR" \
    --secret-key "$T/enc-secret.asc" "$T/rd-out"
expect_error "no seal"

log "a backup after a rollback links to the lost seal: verify keeps showing the gap"
cp -a "$GOOD" "$T/rb"
cp -a "$ARCH" "$T/rb-arch"
delete_newest_set "$T/rb/x"
wait_next_second
echo more >"$SRC/more.txt"
sb_backup "file://$T/rb" "$SRC" --archive-dir "$T/rb-arch"
_run sb verify --target "file://$T/rb" --sign-key "$SIGN_FPR" --archive-dir "$T/rb-arch"
expect_rc 17
expect_stdout_match '^chain: sealbox-inc\.'

log "--content compares the newest snapshot with the source"
cp -a "$GOOD" "$T/ct"
rm -f "$SRC/more.txt"
verify "$T/ct" --content --secret-key "$T/enc-secret.asc" "$SRC"
expect_rc 0
printf 'changed\n' >>"$SRC/b.txt"
verify "$T/ct" --content --secret-key "$T/enc-secret.asc" "$SRC"
expect_rc 20
expect_stdout_match '^content: b\.txt: '

if command -v duplicity >/dev/null 2>&1; then
    log "a chain written by duplicity: no seals, said so; with the secret key, volume SHA-1"
    mkdir "$T/dup"
    run dup full "$T/other-src" "file://$T/dup"
    dverify() { _run sb verify --target "file://$T/dup" --sign-key "$SIGN_FPR" "$@"; }
    dverify
    expect_rc 0
    expect_stdout_match '^note: duplicity-full.*no seal \(written by duplicity'
    expect_stdout_match '1 set\(s\) \(1 unsealed\)'
    DUP_VOL=$(basename "$T"/dup/duplicity-full.*.vol1.difftar.gpg)
    flip_byte "$T/dup/$DUP_VOL"
    dverify --secret-key "$T/enc-secret.asc"
    expect_rc 13
    expect_problem modified "$DUP_VOL"
fi

log "the untouched target still restores"
sb_restore "file://$GOOD" "$T/good"
