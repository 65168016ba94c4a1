#!/bin/bash
# 80-exclude: --exclude with duplicity's glob rules: '**/*.o' (anywhere),
# an absolute directory path, an absolute path of a nested directory, and an
# absolute file path.  The restored tree lacks exactly the excluded items;
# duplicity given the same options restores the same tree (so the
# expectation is duplicity's own semantics).  An incremental keeps excluding.
source "$(dirname "$0")/lib.sh"
need_cmd duplicity

make_keys
SRC="$T/src"
mkdir -p "$SRC/sub/deeper" "$SRC/build/x" "$SRC/keep/sub/inner" "$SRC/keep/other"
for f in a.o a.c sub/b.o sub/b.c sub/deeper/c.o sub/deeper/c.h build/out.bin build/x/y \
    keep/sub/inner/z keep/sub/s keep/other/o keep/top.txt 'sp ace.o' x.o.txt keep/drop.txt; do
    printf '%s\n' "$f" >"$SRC/$f"
done
mkdir "$SRC/dir.o" # a directory matching **/*.o goes too, with its contents
printf 'inside\n' >"$SRC/dir.o/f"
find "$SRC" -mindepth 1 -exec touch -d '2019-05-05 05:05:05 UTC' {} +
EXCL=(--exclude '**/*.o' --exclude "$SRC/build" --exclude "$SRC/keep/sub" --exclude "$SRC/keep/drop.txt")

# expected: the source minus the excluded items, directory mtimes kept
expected() { # expected N
    snapshot_copy "$SRC" "$1"
    local e="$T/expect/$1" d
    (cd "$e" && find . -name '*.o' -prune -exec rm -rf {} +)
    rm -rf "$e/build" "$e/keep/sub" "$e/keep/drop.txt"
    while IFS= read -r -d '' d; do touch -r "$SRC/$d" "$e/$d"; done < <(cd "$e" && find . -type d -print0)
}

mkdir "$T/t-sb" "$T/t-dup"
log "sealbox full with excludes"
sb_backup "file://$T/t-sb" "$SRC" "${EXCL[@]}"
expected 1
sb_restore "file://$T/t-sb" "$T/r1"
compare "$T/expect/1" "$T/r1" --ignore-root
[ ! -e "$T/r1/sub/b.o" ] && [ ! -e "$T/r1/dir.o" ] && [ ! -e "$T/r1/build" ] && [ -e "$T/r1/x.o.txt" ] ||
    fail "exclusions not applied as expected"

log "duplicity with the same excludes restores the same tree"
run dup full "${EXCL[@]}" "$SRC" "file://$T/t-dup"
run dup restore "file://$T/t-dup" "$T/d1"
compare "$T/expect/1" "$T/d1" --ignore-root --ignore-symlink-mtime

log "incremental: new excluded and included files"
wait_next_second
printf 'new\n' >"$SRC/sub/new.o"
printf 'new\n' >"$SRC/sub/new.c"
printf 'new\n' >"$SRC/build/new"
printf 'new\n' >"$SRC/keep/sub/new"
rm "$SRC/a.c"
sb_backup "file://$T/t-sb" "$SRC" "${EXCL[@]}"
expected 2
sb_restore "file://$T/t-sb" "$T/r2"
compare "$T/expect/2" "$T/r2" --ignore-root
run dup incremental "${EXCL[@]}" "$SRC" "file://$T/t-dup"
run dup restore "file://$T/t-dup" "$T/d2"
compare "$T/expect/2" "$T/d2" --ignore-root --ignore-symlink-mtime
run dup restore "file://$T/t-sb" "$T/d2-sb"
compare "$T/expect/2" "$T/d2-sb" --ignore-root --ignore-symlink-mtime
