#!/bin/bash
# 75-disk-full: a full local disk during an incremental backup, on small
# tmpfs mounts: TMPDIR (where volumes are spooled), then the archive dir,
# full from the start and full midway. Each time the backup exits 10 with a
# "sealbox: error:" line naming the folder and "No space left on device", no
# new set is complete on the target, the archive dir holds no partial
# signatures under a set's name (what a resumed run needs stays in resume/)
# and its catalog passes sqlite's integrity check. Once space is freed the
# next backup succeeds (resuming), verify passes, and every snapshot restores
# with sealbox and with duplicity.
source "$(dirname "$0")/lib.sh"
need_root "mounting tmpfs"
need_cmd duplicity sqlite3

make_keys
SRC="$T/src"
mkdir -p "$SRC/d"
printf 'one\n' >"$SRC/d/one.txt"
head -c 100000 /dev/urandom >"$SRC/d/small.bin"
TGT="$T/target"
mkdir "$TGT"
URL="file://$TGT"
ARCH="$T/arch"
SPOOL="$T/spool"
mkdir "$ARCH" "$SPOOL"
mount -t tmpfs -o size=1m,mode=0700 tmpfs "$ARCH" 2>/dev/null || skip "cannot mount tmpfs here"
mount -t tmpfs -o size=1m,mode=0700 tmpfs "$SPOOL"
backup() {
    sb backup --target "$URL" --encrypt-key "$ENC_FPR" --sign-key "$SIGN_FPR" \
        --archive-dir "$ARCH" --volsize 4 "$@" "$SRC"
}
nsets() { set_times "$TGT" | wc -l; }
# said: the one error line, shown in the test's log
said() {
    [ "$(grep -ac '^sealbox: error:' "$LAST_ERR")" = 1 ] || { cat "$LAST_ERR" >&2; fail "not one error line"; }
    log "said: $(grep -a '^sealbox: error:' "$LAST_ERR")"
}
# unharmed: still one complete set, no partial set in the archive dir, the
# catalog whole.
unharmed() {
    [ "$(nsets)" = 1 ] || { ls -l "$TGT" >&2; fail "$(nsets) complete sets on the target, expected 1"; }
    local f
    for f in "$ARCH"/*; do
        case ${f##*/} in
            sealbox.db | sealbox.db-wal | sealbox.db-shm | sealbox.lock | proven | resume | duplicity-full.*.manifest | duplicity-full-signatures.*.sigtar.gz | filler) ;;
            *) ls -la "$ARCH" >&2; fail "left in the archive dir: ${f##*/}" ;;
        esac
    done
    gzip -t "$ARCH"/duplicity-full-signatures.*.sigtar.gz || fail "the signatures in the archive dir are damaged"
    # (a copy: sqlite cannot open its WAL files on the full disk)
    rm -rf "$T/db" && mkdir "$T/db" && cp "$ARCH"/sealbox.db* "$T/db/"
    [ "$(sqlite3 "$T/db/sealbox.db" 'PRAGMA integrity_check')" = ok ] || fail "the catalog is damaged"
}

log "full backup"
expect_exit 0 backup
expect_stats
snapshot_copy "$SRC" 1
head -c $((2 * 1024 * 1024)) /dev/urandom >"$SRC/d/big.bin"
# their signatures need about 100 KiB
for i in 1 2 3; do head -c 1000000 /dev/urandom >"$SRC/d/m$i.bin"; done

log "TMPDIR full -> exit 10, the folder named"
wait_next_second
TMPDIR="$SPOOL" expect_exit 10 backup
expect_error "^sealbox: error: cannot write a temporary file in $SPOOL: No space left on device"
said
unharmed

log "archive dir full from the start -> exit 10, the folder named"
wait_next_second
dd if=/dev/zero of="$ARCH/filler" bs=4k status=none 2>/dev/null || true
expect_exit 10 backup
expect_error "$ARCH/.*No space left on device"
said
unharmed

log "archive dir full midway (the new signatures do not fit) -> exit 10"
wait_next_second
rm "$ARCH/filler"
dd if=/dev/zero of="$ARCH/filler" bs=4k count=$(($(df --output=avail -k "$ARCH" | tail -1) / 4 - 16)) \
    status=none 2>/dev/null || true
expect_exit 10 backup
expect_error "$ARCH/.*No space left on device"
said
unharmed

log "space freed: the backup succeeds, every snapshot restores"
rm "$ARCH/filler"
wait_next_second
expect_exit 0 backup
expect_stats
snapshot_copy "$SRC" 2
[ "$(nsets)" = 2 ] || fail "no second set"
run sb verify --target "$URL" --sign-key "$SIGN_FPR" --archive-dir "$ARCH"
for n in 1 2; do
    t=$(nth_time "$TGT" "$n")
    rm -rf "$T/r" "$T/d"
    sb_restore "$URL" "$T/r" --time "$t"
    compare "$T/expect/$n" "$T/r" --ignore-root
    run dup restore --time "$t" "$URL" "$T/d"
    compare "$T/expect/$n" "$T/d" --ignore-root
done
