#!/bin/bash
# 70-crash: a backup killed with SIGKILL at several moments (about 0.5 s,
# 1.5 s, 3 s in) while writing ~60 MB with --volsize 5.  After each kill the
# earlier snapshot still restores, with sealbox and with duplicity, and
# snapshots works; then a normal rerun succeeds (no stale lock) and every set
# of the chain restores.
source "$(dirname "$0")/lib.sh"
need_cmd duplicity setsid

make_keys
SRC="$T/src"
make_tree "$SRC"
TGT="$T/target"
mkdir "$TGT"
URL="file://$TGT"

log "first backup (small tree)"
sb_backup "$URL" "$SRC" --volsize 5
snapshot_copy "$SRC" 1
T1=$(nth_time "$TGT" 1)

log "adding ~60 MB"
mkdir "$SRC/bulk"
for i in 1 2 3 4; do head -c $((15 * 1024 * 1024)) /dev/urandom >"$SRC/bulk/r$i.bin"; done
snapshot_copy "$SRC" 2

# expect_for TIME: which remembered copy a set at TIME must equal
expect_for() { if [ "$1" -le "$T1" ]; then echo 1; else echo 2; fi; }

for delay in 0.5 1.5 3; do
    wait_next_second
    log "backup killed after ${delay}s"
    bg_start "$SEALBOX" backup --target "$URL" --encrypt-key "$ENC_FPR" --sign-key "$SIGN_FPR" \
        --volsize 5 "$SRC"
    sleep "$delay"
    if kill -0 "$BG_PID" 2>/dev/null; then
        kill -KILL "$BG_PID"
        sleep 0.3
        kill -KILL -- "-$BG_PID" 2>/dev/null || true # its gpg helpers too
        wait "$BG_PID" 2>/dev/null || true
    else
        rc=0
        wait "$BG_PID" || rc=$?
        log "the backup finished before the kill (exit $rc)"
        [ "$rc" = 0 ] || { cat "$T"/out/bg.* >&2; fail "the backup exited $rc before being killed"; }
    fi
    ls -l "$TGT" >&2
    expect_exit 0 sb snapshots --target "$URL"
    for t in $(set_times "$TGT"); do
        rm -rf "$T/r"
        sb_restore "$URL" "$T/r" --time "$t"
        compare "$T/expect/$(expect_for "$t")" "$T/r" --ignore-root
    done
    rm -rf "$T/d"
    run dup restore --time "$T1" "$URL" "$T/d"
    compare "$T/expect/1" "$T/d" --ignore-root --ignore-symlink-mtime
done

log "normal rerun"
wait_next_second
sb_backup "$URL" "$SRC" --volsize 5
TN=$(set_times "$TGT" | tail -n 1)
[ "$TN" -gt "$T1" ] || fail "the rerun added no set"
for t in $(set_times "$TGT"); do
    rm -rf "$T/r"
    sb_restore "$URL" "$T/r" --time "$t"
    compare "$T/expect/$(expect_for "$t")" "$T/r" --ignore-root
done
rm -rf "$T/d"
run dup restore "$URL" "$T/d"
compare "$T/expect/2" "$T/d" --ignore-root --ignore-symlink-mtime
run dup collection-status "$URL"
expect_stdout_match '^Found primary backup chain with matching signature chain'
