#!/bin/bash
# 96-versions: the mount's versions/ folder (issue 14, "a file's older
# copies"). Beside the snapshots and 'latest', versions/ holds every path of
# any snapshot; the folder of a file lists one entry per snapshot holding it,
# named by the snapshot's time, with that snapshot's bytes, size and mtime; a
# path that was a folder and became a file has both its copies and the names
# below it; a path no snapshot holds is not there; it is read-only.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/mountlib.sh"
need_fuse

make_keys "sign pass $RANDOM"
SRC="$T/src"
mkdir -p "$SRC/sub"
printf 'one\n' >"$SRC/a.txt"
printf 'deep\n' >"$SRC/sub/b.txt"
touch -d '2020-01-02 03:04:05 UTC' "$SRC/a.txt"
URL="file://$T/target"
sb_backup "$URL" "$SRC"
wait_next_second
printf 'two two\n' >"$SRC/a.txt"
rm -r "$SRC/sub"
printf 'now a file\n' >"$SRC/sub"
sb_backup "$URL" "$SRC"
wait_next_second
printf 'three\n' >"$SRC/new.txt"
sb_backup "$URL" "$SRC"
I1=$(iso "$(nth_time "$T/target" 1)")
I2=$(iso "$(nth_time "$T/target" 2)")
I3=$(iso "$(nth_time "$T/target" 3)")

M="$T/mnt"
sb_mount "$URL" "$M"
[ "$(ls "$M" | tr '\n' ' ')" = "$I1 $I2 $I3 latest versions " ] ||
    fail "top folder: $(ls "$M" | tr '\n' ' ')"
[ "$(ls "$M/versions" | tr '\n' ' ')" = "a.txt new.txt sub " ] ||
    fail "versions/: $(ls "$M/versions" | tr '\n' ' ')"
[ "$(ls "$M/versions/a.txt" | tr '\n' ' ')" = "$I1 $I2 $I3 " ] ||
    fail "versions/a.txt: $(ls "$M/versions/a.txt" | tr '\n' ' ')"
[ "$(cat "$M/versions/a.txt/$I1")" = one ] || fail "the first copy of a.txt"
[ "$(cat "$M/versions/a.txt/$I2")" = "two two" ] || fail "the second copy of a.txt"
[ "$(stat -c '%s %Y' "$M/versions/a.txt/$I1")" = "4 $(date -u -d '2020-01-02 03:04:05 UTC' +%s)" ] ||
    fail "size and mtime of the first copy: $(stat -c '%s %Y' "$M/versions/a.txt/$I1")"
cmp "$M/versions/a.txt/$I3" "$M/$I3/a.txt" || fail "a copy differs from its snapshot's file"
[ "$(ls "$M/versions/new.txt")" = "$I3" ] || fail "versions/new.txt"
# a folder that became a file: its copies and what the folder held
[ "$(ls "$M/versions/sub" | tr '\n' ' ')" = "$I2 $I3 b.txt " ] ||
    fail "versions/sub: $(ls "$M/versions/sub" | tr '\n' ' ')"
[ "$(cat "$M/versions/sub/b.txt/$I1")" = deep ] || fail "versions/sub/b.txt"
[ "$(cat "$M/versions/sub/$I2")" = "now a file" ] || fail "versions/sub as a file"
[ ! -e "$M/versions/nothing" ] || fail "versions/nothing exists"
[ ! -e "$M/versions/a.txt/2001-01-01T00:00:00Z" ] || fail "a copy of a time without a snapshot"
[ ! -e "$M/versions/new.txt/$I1" ] || fail "a copy from before the file was there"
[ "$(find "$M/versions" | wc -l)" = 12 ] || { find "$M/versions" >&2; fail "find versions/"; }
! touch "$M/versions/a.txt/x" 2>/dev/null || fail "versions/ is writable"
sb_umount "$M"
