#!/bin/bash
# 63-hostile: a server that edits the target as an attacker would. Each case
# copies a good chain (sealbox: full + 2 incrementals; duplicity: full +
# incremental), applies one attack, and asserts what the user would check:
# the exit status, one "sealbox: error:" line naming the remote file at
# fault, DEST not created, and a folder outside DEST untouched. The same
# gate serves restore, mount, verify and snapshots, so a few cases run
# them all.
#   unsigned   a duplicity --no-encryption set renamed in as the newest
#              incremental (6); the same plain chain alone needs
#              --allow-unsigned (6)
#   replay     a signed incremental copied under a newer name (17)
#   gap        a middle incremental deleted (17)
#   literal    a volume replaced by an unsigned OpenPGP literal of a tar (6)
#   future     a stray set dated next year: backup and restore stop at once (6)
#   bomb       a duplicity manifest replaced by 300 MB of zeros, compressed
#              (gpg --store): refused with memory bounded (6)
#   rollback   the newest set deleted: refused with the archive dir (19), and
#              from a fresh machine with --expect-seal HASH (19)
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/mountlib.sh"
need_cmd duplicity /usr/bin/time # time: Debian package time (scripts/install-deps)

make_keys
SRC="$T/src"
make_tree "$SRC"
GOOD="$T/good"
mkdir "$GOOD"
sb_backup_series "file://$GOOD" "$SRC" 3 --volsize 1
SEAL3=$(awk '$1 == "SealSHA256" { print $2 }' "$LAST_OUT")
[[ $SEAL3 =~ ^[0-9a-f]{64}$ ]] || fail "backup printed no SealSHA256 line"
ARCH_DIR=$(ls -d "$HOME"/.cache/sealbox/*/ | head -1)

# Something outside DEST a write through a symlink or '..' would reach.
OUTSIDE="$T/outside"
mkdir "$OUTSIDE"
echo "keep me" >"$OUTSIDE/keep.txt"
outside_sum() { (cd "$OUTSIDE" && find . -printf '%p %m %s\n' | sort && cat keep.txt) | sha256sum; }
OUTSIDE_SUM=$(outside_sum)

one() { # one DIR GLOB: the single file of DIR matching GLOB (basename)
    local m=("$1"/$2)
    [ ${#m[@]} = 1 ] && [ -e "${m[0]}" ] || { ls -l "$1" >&2; fail "expected one file matching $2 in $1"; }
    basename "${m[0]}"
}
stamp() { # stamp EPOCH -> 20261206T010203Z
    date -u -d "@$1" +%Y%m%dT%H%M%SZ
}
T1=$(nth_time "$GOOD" 1)
T2=$(nth_time "$GOOD" 2)
T3=$(nth_time "$GOOD" 3)
S1=$(stamp "$T1")
S2=$(stamp "$T2")
S3=$(stamp "$T3")

# newer_stamp: a set end later than T3 and not after now (a restore of "now"
# would rightly leave out a set dated ahead of the clock)
newer_stamp() {
    while [ "$(date +%s)" -le $((T3 + 1)) ]; do sleep 0.2; done
    stamp $(($(date +%s) - 1))
}

n=0
fresh() { # fresh: a copy of the good chain; sets $TGT and $DEST
    n=$((n + 1))
    TGT="$T/t$n"
    DEST="$T/r$n"
    rm -rf "$TGT"
    cp -a "$GOOD" "$TGT"
}
# refused STATUS FILE-REGEX [restore options...]: restore is refused, naming it
refused() {
    local status=$1 re=$2
    shift 2
    expect_exit "$status" sb restore --target "file://$TGT" --sign-key "$SIGN_FPR" \
        --secret-key "$T/enc-secret.asc" "$@" "$DEST"
    expect_error "$re"
    [ ! -e "$DEST" ] || { find "$DEST" >&2; fail "a refused restore created $DEST"; }
    [ "$(outside_sum)" = "$OUTSIDE_SUM" ] || fail "a refused restore changed $OUTSIDE"
}
# verify_refuses STATUS: verify (public key only) does not pass the target
verify_refuses() {
    _run sb verify --target "file://$TGT" --sign-key "$SIGN_FPR"
    [ "$LAST_RC" != 0 ] || fail "verify passed an attacked target"
    [ -z "${1:-}" ] || [ "$LAST_RC" = "$1" ] || { _show_last; fail "verify: expected exit $1, got $LAST_RC"; }
}
# mount_refuses REGEX: mount fails before mounting, the reason on stderr
mount_refuses() {
    local mp="$T/mp$n"
    mkdir -p "$mp"
    _run sb mount --target "file://$TGT" --sign-key "$SIGN_FPR" \
        --secret-key "$T/enc-secret.asc" "$mp"
    [ "$LAST_RC" != 0 ] || { fusermount3 -u -z "$mp" 2>/dev/null; fail "mount accepted an attacked target"; }
    is_mounted "$mp" && { fusermount3 -u -z "$mp"; fail "mount failed but left $mp mounted"; }
    expect_error "$1"
}

log "the good chain restores, verifies and lists as checked"
fresh
sb_restore "file://$TGT" "$DEST"
compare "$T/expect/3" "$DEST"
expect_exit 0 sb verify --target "file://$TGT" --sign-key "$SIGN_FPR"
expect_exit 0 sb snapshots --target "file://$TGT" --sign-key "$SIGN_FPR"
expect_stdout_match "3 set\(s\).*, checked$"

log "unsigned: a duplicity --no-encryption set renamed in as the newest incremental"
PLAIN="$T/plain"
mkdir "$PLAIN"
echo "planted" >"$T/planted.txt"
mkdir "$T/plantsrc"
cp "$T/planted.txt" "$T/plantsrc/planted.txt"
DUP_PLAIN=1 run dup full "$T/plantsrc" "file://$PLAIN"
fresh
S4=$(newer_stamp)
cp "$PLAIN/$(one "$PLAIN" 'duplicity-full.*.manifest')" "$TGT/duplicity-inc.$S3.to.$S4.manifest"
cp "$PLAIN/$(one "$PLAIN" 'duplicity-full.*.vol1.difftar.gz')" "$TGT/duplicity-inc.$S3.to.$S4.vol1.difftar.gz"
cp "$PLAIN/$(one "$PLAIN" 'duplicity-full-signatures.*.sigtar.gz')" "$TGT/duplicity-new-signatures.$S3.to.$S4.sigtar.gz"
refused 6 "duplicity-inc\.$S3\.to\.$S4\.manifest.*not encrypted"
# --allow-unsigned never mixes unsigned sets into a signed chain
DEST="$DEST-allow"
refused 6 "duplicity-inc\.$S3\.to\.$S4\.manifest.*not encrypted" --allow-unsigned
verify_refuses
mount_refuses "duplicity-inc\.$S3\.to\.$S4\.manifest"
expect_exit 6 sb snapshots --target "file://$TGT" --sign-key "$SIGN_FPR"
expect_stdout_match "NOT PROVEN"
log "unsigned: a plain chain alone is read only with --allow-unsigned"
TGT="$PLAIN"
DEST="$T/r-plain"
refused 6 "neither encrypted nor signed.*--allow-unsigned"
expect_exit 0 sb restore --target "file://$PLAIN" --allow-unsigned "$DEST"
cmp "$T/planted.txt" "$DEST/planted.txt" || fail "plain chain restored wrong bytes"

log "replay: the first incremental copied under a newer name"
fresh
S4=$(newer_stamp)
for f in "$TGT"/*."$S1".to."$S2".*; do
    b=${f##*/}
    cp "$f" "$TGT/${b/$S1.to.$S2/$S3.to.$S4}"
done
refused 17 "sealbox-inc\.$S3\.to\.$S4\.seal\.asc.*(another set|replayed)"
verify_refuses
mount_refuses "$S3\.to\.$S4"

log "gap: the middle incremental deleted"
fresh
rm "$TGT"/*."$S1".to."$S2".*
refused 17 "duplicity-inc\.$S2\.to\.$S3\.manifest\.gpg.*missing"
verify_refuses
mount_refuses "missing"
# the snapshot before the gap is whole: still restores
DEST="$DEST-before"
sb_restore "file://$TGT" "$DEST" --time "$T1"
compare "$T/expect/1" "$DEST"

log "literal: a volume replaced by an unsigned OpenPGP literal of a crafted tar"
fresh
VOL=$(one "$TGT" "duplicity-full.$S1.vol1.difftar.gpg")
mkdir -p "$T/craft/snapshot/evil"
echo pwned >"$T/craft/snapshot/evil/x"
tar -C "$T/craft" -cf "$T/craft.tar" snapshot
rm "$TGT/$VOL"
gpg --batch --quiet --store -o "$TGT/$VOL" "$T/craft.tar"
refused 6 "${VOL//./\\.}"
verify_refuses 14   # its size differs from its seal

log "future: a stray set dated next year stops backup and restore at once"
fresh
SF=$(stamp $(($(date +%s) + 366 * 86400)))
echo junk >"$TGT/duplicity-inc.$S3.to.$SF.manifest.gpg"
refused 6 "duplicity-inc\.$S3\.to\.$SF\.manifest\.gpg.*future"
start=$(date +%s)
expect_exit 6 sb backup --target "file://$TGT" --encrypt-key "$ENC_FPR" --sign-key "$SIGN_FPR" \
    --archive-dir "$T/arch-future" "$SRC"
expect_error "duplicity-inc\.$S3\.to\.$SF\.manifest\.gpg.*future"
[ $(($(date +%s) - start)) -lt 60 ] || fail "backup took over a minute to refuse a future-dated set"

log "bomb: a duplicity manifest that expands to 300 MB, memory stays bounded"
DUPT="$T/dupt"
mkdir "$DUPT"
run dup full --volsize 1 "$SRC" "file://$DUPT"
MAN=$(one "$DUPT" 'duplicity-full.*.manifest.gpg')
rm "$DUPT/$MAN"
head -c 300000000 /dev/zero | gpg --batch --quiet --compress-level 9 --store -o "$DUPT/$MAN"
[ "$(stat -c %s "$DUPT/$MAN")" -lt 2000000 ] || fail "the bomb is not small"
TGT="$DUPT"
DEST="$T/r-bomb"
_run /usr/bin/time -f '%M' -o "$T/rss" "$SEALBOX" restore --target "file://$DUPT" \
    --sign-key "$SIGN_FPR" --secret-key "$T/enc-secret.asc" "$DEST"
[ "$LAST_RC" = 6 ] || { _show_last; fail "bomb: expected exit 6, got $LAST_RC"; }
expect_error "${MAN//./\\.}"
rss=$(tail -1 "$T/rss")
log "bomb: peak RSS ${rss} KiB"
[ "$rss" -lt 102400 ] || fail "restore grew to $rss KiB on a 300 MB manifest"
[ ! -e "$DEST" ] || fail "the bomb's restore created $DEST"

log "rollback: the newest set deleted, with this machine's archive dir"
fresh
rm "$TGT"/*."$S2".to."$S3".*
expect_exit 19 sb restore --target "file://$TGT" --sign-key "$SIGN_FPR" \
    --secret-key "$T/enc-secret.asc" --archive-dir "$ARCH_DIR" "$DEST"
expect_error "sealbox-inc\.$S2\.to\.$S3\.seal\.asc.*(rolled back|deleted)"
[ ! -e "$DEST" ] || fail "a refused restore created $DEST"
log "rollback: the newest set deleted but its seal kept, or a forged newer seal added"
fresh
rm "$TGT"/duplicity-*."$S2".to."$S3".*
expect_exit 19 sb restore --target "file://$TGT" --sign-key "$SIGN_FPR" \
    --secret-key "$T/enc-secret.asc" --archive-dir "$ARCH_DIR" "$DEST"
expect_error "sealbox-inc\.$S2\.to\.$S3\.seal\.asc.*rolled back"
expect_exit 19 sb restore --target "file://$TGT" --sign-key "$SIGN_FPR" \
    --secret-key "$T/enc-secret.asc" --archive-dir "$T/fresh-arch" --expect-seal "$SEAL3" "$DEST"
expect_error "rolled back"
fresh
rm "$TGT"/*."$S2".to."$S3".*
S4=$(newer_stamp)
cp "$GOOD/sealbox-inc.$S1.to.$S2.seal.asc" "$TGT/sealbox-inc.$S3.to.$S4.seal.asc"
expect_exit 19 sb restore --target "file://$TGT" --sign-key "$SIGN_FPR" \
    --secret-key "$T/enc-secret.asc" --archive-dir "$ARCH_DIR" "$DEST"
expect_error "rolled back"
[ ! -e "$DEST" ] || fail "a refused restore created $DEST"
log "rollback: from a fresh machine, --expect-seal pins the newest seal"
DEST="$T/r-pin-good"
expect_exit 0 sb restore --target "file://$GOOD" --sign-key "$SIGN_FPR" \
    --secret-key "$T/enc-secret.asc" --archive-dir "$T/fresh-arch" --expect-seal "$SEAL3" "$DEST"
compare "$T/expect/3" "$DEST"
DEST="$T/r-pin"
expect_exit 19 sb restore --target "file://$TGT" --sign-key "$SIGN_FPR" \
    --secret-key "$T/enc-secret.asc" --archive-dir "$T/fresh-arch" --expect-seal "$SEAL3" "$DEST"
expect_error "expect-seal"
expect_exit 19 sb verify --target "file://$TGT" --sign-key "$SIGN_FPR" --archive-dir "$T/fresh-arch" \
    --expect-seal "$SEAL3"
log "rollback: without either, one line says it cannot be checked"
DEST="$T/r-nocheck"
expect_exit 0 sb restore --target "file://$TGT" --sign-key "$SIGN_FPR" \
    --secret-key "$T/enc-secret.asc" --archive-dir "$T/fresh-arch" "$DEST"
expect_stderr_match "rollback cannot be checked"

[ "$(outside_sum)" = "$OUTSIDE_SUM" ] || fail "$OUTSIDE changed"
log "all attacks refused"
