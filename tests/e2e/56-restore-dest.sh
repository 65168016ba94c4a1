#!/bin/bash
# 56-restore-dest: restore writes only beneath DEST, and a failed restore
# leaves DEST as it was.
#   1. --force into a DEST where a folder of the snapshot is a symlink to a
#      folder outside: exit 10, one error line naming the symlink, nothing
#      outside changed, DEST as before (also deeper down, and with --path);
#   2. a symlink where a file goes: refused without --force; with it the
#      symlink itself is replaced by the file, its target untouched;
#   3. a restore that fails mid-way (a volume after the first corrupt)
#      leaves no DEST if there was none, and an existing DEST as it was;
#   4. a normal full restore (every object type) still compares equal.
source "$(dirname "$0")/lib.sh"

make_keys

# folders and small files first, so that they are in volume 1; the big
# file spans the next volumes
SRC="$T/src"
mkdir -p "$SRC/sub/deep" "$SRC/zz"
printf 'a\n' >"$SRC/a.txt"
printf 'b\n' >"$SRC/sub/b.txt"
printf 'c\n' >"$SRC/sub/deep/c.txt"
head -c "$BIG_BYTES" /dev/urandom >"$SRC/zz/big.bin"
GOOD="$T/target"
mkdir "$GOOD"
URL="file://$GOOD"
sb_backup "$URL" "$SRC" --volsize 1
snapshot_copy "$SRC" 1

# What lies outside DEST: every name, type, mode, owner, mtime, and hash.
OUT="$T/outside"
mkdir -p "$OUT/inner"
printf 'outside file\n' >"$OUT/target.txt"
printf 'keep\n' >"$OUT/inner/keep.txt"
chmod 0750 "$OUT/inner"
touch -d '2011-11-11 11:11:11 UTC' "$OUT/target.txt" "$OUT/inner/keep.txt" "$OUT/inner" "$OUT"
state() { # state DIR: a listing that changes if anything in DIR changes
    (cd "$1" && find . -printf '%p %y %m %U:%G %s %T@ %l\n' | LC_ALL=C sort &&
        find . -type f -exec sha256sum {} + | LC_ALL=C sort)
}
OUT_BEFORE=$(state "$OUT")
outside_unchanged() {
    [ "$(state "$OUT")" = "$OUT_BEFORE" ] && return 0
    diff <(printf '%s\n' "$OUT_BEFORE") <(state "$OUT") >&2 || true
    fail "$1 changed what is outside DEST"
}
dest_unchanged() { # dest_unchanged DIR BEFORE WHAT
    [ "$(state "$1")" = "$2" ] && return 0
    diff <(printf '%s\n' "$2") <(state "$1") >&2 || true
    fail "$3 left $1 changed"
}
restore() { sb restore --sign-key "$SIGN_FPR" --secret-key "$T/enc-secret.asc" "$@"; }

log "1. --force where a folder is a symlink to a folder outside DEST"
D="$T/d1"
mkdir "$D"
ln -s "$OUT" "$D/sub"
BEFORE=$(state "$D")
expect_exit 10 restore --target "$URL" --force "$D"
expect_error "$D/sub.*symbolic link"
[ "$(grep -ac '^sealbox: error: ' "$LAST_ERR")" = 1 ] || { cat "$LAST_ERR" >&2; fail "expected one error line"; }
outside_unchanged "restore --force through a symlinked folder"
dest_unchanged "$D" "$BEFORE" "the refused restore"

log "1b. the same deeper down: sub is a real folder, sub/deep a symlink"
D="$T/d1b"
mkdir -p "$D/sub"
ln -s "$OUT/inner" "$D/sub/deep"
BEFORE=$(state "$D")
expect_exit 10 restore --target "$URL" --force "$D"
expect_error "$D/sub/deep.*symbolic link"
outside_unchanged "restore --force through a deeper symlinked folder"
dest_unchanged "$D" "$BEFORE" "the refused restore"

log "1c. --path sub into a folder where sub is a symlink"
D="$T/d1c"
mkdir "$D"
ln -s "$OUT" "$D/sub"
BEFORE=$(state "$D")
expect_exit 10 restore --target "$URL" --force --path sub "$D"
expect_error "$D/sub.*symbolic link"
outside_unchanged "restore --force --path through a symlinked folder"
dest_unchanged "$D" "$BEFORE" "the refused restore"

log "2. a symlink where a file goes"
D="$T/d2"
mkdir "$D"
ln -s "$OUT/target.txt" "$D/a.txt"
expect_exit 10 restore --target "$URL" "$D"
expect_error "$D.*already exists"
[ "$(readlink "$D/a.txt")" = "$OUT/target.txt" ] || fail "the refused restore changed $D/a.txt"
sb_restore "$URL" "$D" --force
[ -f "$D/a.txt" ] && [ ! -L "$D/a.txt" ] || fail "--force left the symlink $D/a.txt"
compare "$T/expect/1" "$D" --ignore-root
outside_unchanged "restore --force over a symlinked file"
log "2b. --path a.txt into a folder where a.txt is a symlink"
D="$T/d2b"
mkdir "$D"
ln -s "$OUT/target.txt" "$D/a.txt"
expect_exit 10 restore --target "$URL" --path a.txt "$D"
expect_error "$D/a\.txt.*already exists"
sb_restore "$URL" "$D" --force --path a.txt
[ "$(ls -A "$D")" = a.txt ] && [ ! -L "$D/a.txt" ] || { ls -lA "$D" >&2; fail "--path --force: expected the file a.txt only"; }
compare "$T/expect/1/a.txt" "$D/a.txt"
outside_unchanged "restore --force --path over a symlinked file"

log "3. a restore failing at volume 2 leaves DEST as it was"
BAD="$T/bad"
cp -a "$GOOD" "$BAD"
VOL2=("$BAD"/duplicity-full.*.vol2.difftar.gpg)
[ ${#VOL2[@]} = 1 ] || { ls -l "$BAD" >&2; fail "expected one volume 2"; }
python3 - "${VOL2[0]}" <<'PY'
import os, sys
p = sys.argv[1]
with open(p, "r+b") as f:
    f.seek(os.path.getsize(p) // 2)
    b = f.read(1)
    f.seek(-1, 1)
    f.write(bytes([b[0] ^ 0xFF]))
PY
# a DEST that does not exist stays so
expect_exit 6 restore --target "file://$BAD" "$T/d3-new"
expect_error 'vol2'
[ ! -e "$T/d3-new" ] && [ ! -L "$T/d3-new" ] || { ls -laR "$T/d3-new" >&2; fail "the failed restore left $T/d3-new"; }
# an empty DEST stays empty (and keeps its mode and time)
D="$T/d3-empty"
mkdir "$D"
chmod 0755 "$D"
touch -d '2012-12-12 12:12:12 UTC' "$D"
BEFORE=$(state "$D")
expect_exit 6 restore --target "file://$BAD" "$D"
dest_unchanged "$D" "$BEFORE" "the failed restore"
# a DEST with content (--force) keeps just that content
D="$T/d3-full"
mkdir -p "$D/sub/mine"
printf 'old a\n' >"$D/a.txt"
printf 'mine\n' >"$D/sub/mine/m.txt"
touch -d '2012-12-12 12:12:12 UTC' "$D/sub/mine" "$D/sub" "$D"
BEFORE=$(state "$D")
expect_exit 6 restore --target "file://$BAD" --force "$D"
dest_unchanged "$D" "$BEFORE" "the failed restore --force"
# --path of a folder (made in volume 1) into a new DEST, and of the file
expect_exit 6 restore --target "file://$BAD" --path zz "$T/d3-path"
[ ! -e "$T/d3-path" ] || { ls -laR "$T/d3-path" >&2; fail "the failed --path restore left $T/d3-path"; }
expect_exit 6 restore --target "file://$BAD" --path zz/big.bin "$T/d3-file"
[ ! -e "$T/d3-file" ] || fail "the failed --path restore left $T/d3-file"
[ -z "$(find "$T" -maxdepth 1 -name '.sealbox-restore.*')" ] || fail "a temporary file was left beside DEST"

log "4. a normal full restore (every object type) compares equal"
FULL="$T/full-src"
make_tree "$FULL"
TGT2="$T/target2"
mkdir "$TGT2"
sb_backup "file://$TGT2" "$FULL" --volsize 1
sb_restore "file://$TGT2" "$T/d4"
compare "$FULL" "$T/d4"
# and into an existing empty folder, through a symlink to it (DEST itself is the user's)
mkdir "$T/d4-real"
ln -s d4-real "$T/d4-link"
sb_restore "file://$TGT2" "$T/d4-link"
compare "$FULL" "$T/d4-real"
