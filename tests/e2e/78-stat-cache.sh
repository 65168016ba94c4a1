#!/bin/bash
# 78-stat-cache: the stat cache (size, mtime, ctime and inode of each file
# as stored) lets an incremental skip reading an unchanged file; it is
# updated in place, in one transaction per run, and must never hide a
# change. Each of these is read again and restores byte for byte: a file
# rewritten with its size and mtime put back, a file replaced by another
# inode, a deleted file come back as it was, and a change read by a run that
# was killed before it committed (once before any volume was stored, once
# after the signatures were). A run with nothing changed reads nothing.
source "$(dirname "$0")/lib.sh"

make_keys
SRC="$T/src"
mkdir -p "$SRC/d" "$SRC/e"
for n in a b c d f; do printf 'file %s, first\n' "$n" >"$SRC/d/$n.txt"; done
for i in $(seq 1 50); do printf 'other %s\n' "$i" >"$SRC/e/o$i.txt"; done
head -c 300000 /dev/urandom >"$SRC/e/big.bin"
TGT="$T/target"
mkdir "$TGT"
URL="file://$TGT"

backup() { sb_backup "$URL" "$SRC" "$@"; }

# expect_counts NEW CHANGED DELETED: of the last backup's statistics
expect_counts() {
    local got
    got="$(stat_value NewFiles) $(stat_value ChangedFiles) $(stat_value DeletedFiles)"
    [ "$got" = "$1 $2 $3" ] || { cat "$LAST_OUT" >&2; fail "new/changed/deleted: $got, not $1 $2 $3"; }
}

# same_size_same_mtime FILE TEXT: rewrite FILE with TEXT (as long as the
# old content), then put its mtime back; only ctime tells
same_size_same_mtime() {
    touch -r "$1" "$T/ref"
    [ "$(stat -c %s "$1")" = "${#2}" ] || fail "test bug: $1 is not ${#2} bytes"
    printf '%s' "$2" >"$1"
    touch -r "$T/ref" "$1"
}

restored_is() { # restored_is NAME TEXT: the newest snapshot's d/NAME
    rm -rf "$T/r"
    sb_restore "$URL" "$T/r"
    [ "$(cat "$T/r/d/$1")" = "$2" ] || fail "d/$1 restored as '$(cat "$T/r/d/$1")', not '$2'"
    compare "$SRC" "$T/r"
}

kill_at() { # kill_at POINT: an incremental killed at the testpoint
    local rc=0
    SEALBOX_TESTPOINT=$1 timeout -k 10 "$SB_TIMEOUT" "$SEALBOX" backup --target "$URL" \
        --encrypt-key "$ENC_FPR" --sign-key "$SIGN_FPR" "$SRC" >"$T/kill.out" 2>&1 || rc=$?
    [ "$rc" = 137 ] || { cat "$T/kill.out" >&2; fail "backup at $1: exit $rc, not killed"; }
}

log "full, then an incremental with nothing changed"
backup
wait_next_second
backup
expect_counts 0 0 0

log "rewritten with the same size and the mtime put back -> read (ctime)"
same_size_same_mtime "$SRC/d/a.txt" "FILE A, again"$'\n'
wait_next_second
backup
expect_counts 0 1 0
restored_is a.txt "FILE A, again"
wait_next_second
backup
expect_counts 0 0 0 # its row was updated: not read again

log "replaced by a copy (another inode, same size, mtime and bytes) -> read"
cp -p "$SRC/d/b.txt" "$SRC/d/b.new"
mv "$SRC/d/b.new" "$SRC/d/b.txt"
wait_next_second
backup
expect_counts 0 2 0 # and the folder d, whose mtime the mv changed
wait_next_second
backup
expect_counts 0 0 0

log "deleted, then back as it was (same bytes and mtime) -> a new file, read"
cp -p "$SRC/d/f.txt" "$T/f.keep"
rm "$SRC/d/f.txt"
wait_next_second
backup
expect_counts 0 1 1 # the folder d changed
cp -p "$T/f.keep" "$SRC/d/f.txt"
wait_next_second
backup
expect_counts 1 1 0
restored_is f.txt "file f, first"

log "a change read by a run killed before any volume was stored -> read again"
same_size_same_mtime "$SRC/d/c.txt" "FILE C, again"$'\n'
wait_next_second
kill_at vol-upload:1
wait_next_second
backup
expect_counts 0 1 0
restored_is c.txt "FILE C, again"

log "a change read by a run killed after its signatures were stored -> not lost"
same_size_same_mtime "$SRC/d/d.txt" "FILE D, again"$'\n'
wait_next_second
kill_at meta-sig:1
wait_next_second
backup
restored_is d.txt "FILE D, again"
wait_next_second
backup
expect_counts 0 0 0
restored_is a.txt "FILE A, again"
