#!/bin/bash
# 73-changing-files: a file rewritten, grown and truncated by another process
# all the while it is backed up. The backup completes, names it in one
# "changed while being read" line, counts it (ChangedWhileRead 1, Errors 0)
# and exits 2; the set is complete and restores. Once the writer stops, the
# next incremental reads the file again (a delta against the signature of
# what was stored, which must match the stored bytes for the restore to be
# right) and restores it byte for byte.
source "$(dirname "$0")/lib.sh"

make_keys
SRC="$T/src"
mkdir -p "$SRC/d"
printf 'steady\n' >"$SRC/d/steady.txt"
head -c $((6 * 1024 * 1024)) /dev/urandom >"$SRC/d/live.bin"
printf 'after\n' >"$SRC/z.txt"
TGT="$T/target"
mkdir "$TGT"
URL="file://$TGT"
backup() {
    sb backup --target "$URL" --encrypt-key "$ENC_FPR" --sign-key "$SIGN_FPR" "$@" "$SRC"
}

# Rewrites 4 KiB somewhere in the file every few milliseconds, and now and
# then truncates it or grows it, until the file STOP exists; STOP.started
# once it runs.
cat >"$T/writer.py" <<'PY'
import os, random, sys, time
p, stop = sys.argv[1], sys.argv[2]
fd = os.open(p, os.O_RDWR)
i = 0
open(stop + ".started", "w").close()
while not os.path.exists(stop):
    size = os.fstat(fd).st_size
    os.pwrite(fd, os.urandom(4096), random.randrange(max(size, 1)))
    i += 1
    if i % 7 == 0:
        os.ftruncate(fd, random.randrange(4 * 1024, 8 * 1024) * 1024)
    time.sleep(0.003)
PY
bg_start python3 "$T/writer.py" "$SRC/d/live.bin" "$T/stop"
WRITER=$BG_PID
for _ in $(seq 200); do [ -e "$T/stop.started" ] && break; sleep 0.05; done
[ -e "$T/stop.started" ] || fail "the writer did not start"
sleep 0.1

log "full backup while d/live.bin changes -> exit 2, the file named"
# (small volumes: reading waits for their encryption, so it takes a while)
expect_exit 2 backup --volsize 1
expect_stats
expect_error "^sealbox: error: $SRC/d/live\.bin changed while being read \(.*\): stored as read; the next backup reads it again"
[ "$(grep -ac 'changed while being read (.*): stored as read' "$LAST_ERR")" = 1 ] || { cat "$LAST_ERR" >&2; fail "not exactly one file named"; }
[ "$(stat_value ChangedWhileRead)" = 1 ] || fail "ChangedWhileRead is not 1"
[ "$(stat_value Errors)" = 0 ] || fail "Errors is not 0"
[ "$(set_times "$TGT" | wc -l)" = 1 ] || fail "the set is not complete"

touch "$T/stop"
wait "$WRITER"
sb_restore "$URL" "$T/r1"
cmp "$SRC/d/steady.txt" "$T/r1/d/steady.txt"
cmp "$SRC/z.txt" "$T/r1/z.txt"

log "the writer stopped: the next incremental reads it again, exit 0"
wait_next_second
sb_backup "$URL" "$SRC"
[ "$(stat_value ChangedFiles)" = 1 ] || fail "d/live.bin was not backed up again"
[ "$(stat_value ChangedWhileRead)" = 0 ] || fail "ChangedWhileRead is not 0"
snapshot_copy "$SRC" 2
sb_restore "$URL" "$T/r2"
compare "$T/expect/2" "$T/r2" --ignore-root
