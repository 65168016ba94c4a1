#!/bin/bash
# 76-source-vanishes: the source is a FUSE mount (tests/helpers/faultfs)
# that goes away during an incremental backup, as a network share or a
# pulled USB disk does. Each time the backup stops with exit 10 and one
# "sealbox: error:" line naming the source and the error, no new set is
# complete on the target (never one that records the unseen files as
# deleted), verify passes, and at the end the earlier snapshot restores:
#   - the filesystem dies (its daemon killed) in the middle of the walk:
#     the next stat fails with ECONNABORTED/ENOTCONN;
#   - it is unmounted lazily (umount -l) while the walk runs: what the walk
#     holds open still reads, but the source is no longer that folder;
#   - the next run finds the empty mount point: it was a mount at the last
#     backup and is not now.
# With the filesystem back, a backup succeeds and every snapshot restores.
source "$(dirname "$0")/lib.sh"
need_root "mounting FUSE and tmpfs"
need_cmd fusermount3 mountpoint
[ -c /dev/fuse ] || skip "needs /dev/fuse"
FAULTFS=${SB_BUILD:-}/tests/faultfs
[ -x "$FAULTFS" ] || skip "needs the faultfs helper (SB_BUILD/tests/faultfs)"

make_keys
BACK="$T/back" # what the FUSE view shows
SRC="$T/src"   # the mount point: the backup's SOURCE
mkdir -p "$BACK/a-dir" "$BACK/z-dir" "$SRC"
printf 'first\n' >"$BACK/a-first.txt"
printf 'in a\n' >"$BACK/a-dir/f"
head -c 300000 /dev/urandom >"$BACK/m-die"
for i in 1 2 3; do printf 'z %s\n' "$i" >"$BACK/z-dir/z$i.txt"; done
printf 'last\n' >"$BACK/z-last.txt"
TGT="$T/target"
mkdir "$TGT"
URL="file://$TGT"
backup() {
    sb backup --target "$URL" --encrypt-key "$ENC_FPR" --sign-key "$SIGN_FPR" "$@" "$SRC"
}

# view [faultfs options]: mount BACK on SRC, wait until it serves.
VIEWS=0
view() {
    bg_start "$FAULTFS" "$@" "$BACK" "$SRC"
    VIEW_PID=$BG_PID
    VIEWS=$((VIEWS + 1))
    for _ in $(seq 200); do
        mountpoint -q "$SRC" && [ -e "$SRC/a-first.txt" ] && return 0
        kill -0 "$VIEW_PID" 2>/dev/null || break
        sleep 0.05
    done
    cat "$T"/out/bg.* >&2
    # (a container without the right to mount FUSE)
    [ "$VIEWS" = 1 ] && ! kill -0 "$VIEW_PID" 2>/dev/null && skip "faultfs cannot mount here"
    fail "faultfs did not mount $SRC"
}
unview() {
    fusermount3 -u -z "$SRC" 2>/dev/null || umount -l "$SRC" 2>/dev/null || true
    wait "$VIEW_PID" 2>/dev/null || true
    ! mountpoint -q "$SRC" || fail "$SRC is still mounted"
}
nsets() { set_times "$TGT" | wc -l; }
# said: the one error line, shown in the test's log
said() {
    [ "$(grep -ac '^sealbox: error:' "$LAST_ERR")" = 1 ] || { cat "$LAST_ERR" >&2; fail "not one error line"; }
    log "said: $(grep -a '^sealbox: error:' "$LAST_ERR")"
}
# intact N [verify]: N complete sets, and verify passes (restores at the end).
intact() {
    [ "$(nsets)" = "$1" ] || { ls -l "$TGT" >&2; fail "$(nsets) complete sets on the target, expected $1"; }
    [ -z "${2:-}" ] || expect_exit 0 sb verify --target "$URL" --sign-key "$SIGN_FPR"
}

log "full backup of the mounted view"
view
sb_backup "$URL" "$SRC"
snapshot_copy "$BACK" 1
unview

log "the filesystem dies in the middle of the walk -> exit 10, no set"
wait_next_second
printf 'new in 2\n' >"$BACK/b-new.txt"
view --die-on m-die
expect_exit 10 backup
expect_error "^sealbox: error: source $SRC: cannot stat m-die: (Software caused connection abort|Transport endpoint is not connected)"
said
grep -aq 'z-dir\|z-last' "$LAST_ERR" && { cat "$LAST_ERR" >&2; fail "files after the failure were reported"; }
unview
intact 1 verify

log "unmounted lazily while the backup reads it -> exit 10, no set"
wait_next_second
rm -f "$T/go" "$T/go.waiting"
view --pause-on m-die --go "$T/go"
(
    set +e
    backup >"$T/out/lazy.out" 2>"$T/out/lazy.err" </dev/null
    echo $? >"$T/out/lazy.rc"
) &
BPID=$!
for _ in $(seq 300); do [ -e "$T/go.waiting" ] && break; sleep 0.05; done
[ -e "$T/go.waiting" ] || fail "the backup never reached m-die"
umount -l "$SRC"
touch "$T/go"
wait "$BPID" || true
cp "$T/out/lazy.out" "$LAST_OUT"
cp "$T/out/lazy.err" "$LAST_ERR"
LAST_RC=$(cat "$T/out/lazy.rc")
[ "$LAST_RC" = 10 ] || { cat "$LAST_ERR" >&2; fail "exit $LAST_RC, expected 10"; }
expect_error "^sealbox: error: source $SRC is no longer the folder the backup read"
said
wait "$VIEW_PID" 2>/dev/null || true
intact 1

log "the next run finds the empty mount point -> exit 10, no set"
wait_next_second
[ -z "$(ls -A "$SRC")" ] || fail "$SRC is not empty"
expect_exit 10 backup
expect_error "^sealbox: error: source $SRC was a mounted filesystem at the last backup and is not one now"
said
intact 1

log "the filesystem back: the backup succeeds, every snapshot restores"
view
sb_backup "$URL" "$SRC"
snapshot_copy "$BACK" 2
[ "$(stat_value DeletedFiles)" = 0 ] || fail "files recorded as deleted"
unview
intact 2 verify
for n in 1 2; do
    rm -rf "$T/r"
    sb_restore "$URL" "$T/r" --time "$(nth_time "$TGT" "$n")"
    compare "$T/expect/$n" "$T/r" --ignore-root
done
