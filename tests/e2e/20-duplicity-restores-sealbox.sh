#!/bin/bash
# 20-duplicity-restores-sealbox: the real duplicity 0.8.22 reads a chain that
# sealbox wrote (full + 2 incrementals, --volsize 1): collection-status,
# list-current-files, restore --time of every set, restore --file-to-restore
# (exercises the manifests' volume ranges), verify --compare-data.
source "$(dirname "$0")/lib.sh"
need_cmd duplicity

make_keys
SRC="$T/src"
make_tree "$SRC"
TGT="$T/target"
mkdir "$TGT"
URL="file://$TGT"

sb_backup_series "$URL" "$SRC" 3 --volsize 1
[ "$(set_times "$TGT" | wc -l)" = 3 ] || { ls -l "$TGT" >&2; fail "expected 3 sets"; }

# duplicity starts with an empty archive dir: it must download and decrypt
# sealbox's manifests and signatures (RESTORE_GNUPGHOME has the secret key).
log "duplicity collection-status"
run dup collection-status "$URL"
expect_stdout_match '^Found primary backup chain with matching signature chain'
expect_stdout_match '^Found 0 secondary backup chains'
expect_stdout_match '^Number of contained backup sets: 3$'
expect_stdout_match '^No orphaned or incomplete backup sets found'
[ "$(grep -ac '^ *Full ' "$LAST_OUT")" = 1 ] || fail "collection-status: not exactly one full set"
[ "$(grep -ac '^ *Incremental ' "$LAST_OUT")" = 2 ] || fail "collection-status: not exactly 2 incrementals"

log "duplicity list-current-files names every file"
run dup list-current-files "$URL"
python3 - "$LAST_OUT" "$SRC" <<'EOF' || fail "list-current-files does not name every file"
import os, stat, sys
# lines are "<ctime-style date> <path>", e.g. "Thu Nov 26 07:00:03 2026 dir1/one.txt";
# names are printed as raw bytes (a name with a newline spans two lines).
out = open(sys.argv[1], "rb").read()
src = os.fsencode(sys.argv[2])
missing = []
for root, dirs, files in os.walk(src):
    for name in dirs + files:
        full = os.path.join(root, name)
        if stat.S_ISSOCK(os.lstat(full).st_mode):
            continue
        rel = os.path.relpath(full, src)
        if b" " + rel + b"\n" not in out:
            missing.append(rel)
for m in missing:
    print("not listed:", m, file=sys.stderr)
sys.exit(1 if missing else 0)
EOF

! grep -aEq ' (delete-me\.txt|added1\.txt|todelete)$' "$LAST_OUT" || fail "list-current-files lists deleted files"

log "duplicity restores every set time"
i=0
for t in $(set_times "$TGT"); do
    i=$((i + 1))
    run dup restore --time "$t" "$URL" "$T/d$i"
    # duplicity restores hard links as copies and does not set symlink mtimes
    compare "$T/expect/$i" "$T/d$i" --ignore-symlink-mtime --ignore-root
done

log "duplicity restores single paths (manifest volume ranges)"
T1=$(nth_time "$TGT" 1)
T2=$(nth_time "$TGT" 2)
run dup restore --file-to-restore big.bin --time "$T2" "$URL" "$T/f-big"
compare "$T/expect/2/big.bin" "$T/f-big"
run dup restore --file-to-restore dir1/dir2/dir3/deep.txt "$URL" "$T/f-deep"
compare "$T/expect/3/dir1/dir2/dir3/deep.txt" "$T/f-deep"
run dup restore --file-to-restore zeros-ish.txt --time "$T1" "$URL" "$T/f-z"
compare "$T/expect/1/zeros-ish.txt" "$T/f-z"
long=$(cd "$SRC" && find long -name file-at-the-end.txt)
run dup restore --file-to-restore "$long" "$URL" "$T/f-long"
compare "$T/expect/3/$long" "$T/f-long"
run dup restore --file-to-restore dir1 --time "$T1" "$URL" "$T/f-dir1"
compare "$T/expect/1/dir1" "$T/f-dir1" --ignore-symlink-mtime

log "duplicity verify --compare-data against the current source"
run dup verify --compare-data "$URL" "$SRC"
expect_stdout_match 'Verify complete: [0-9]+ files compared, 0 differences found'

log "duplicity verify with a changed source finds the difference"
printf 'changed after backup\n' >"$SRC/dir1/one.txt"
_run dup verify --compare-data "$URL" "$SRC"
[ "$LAST_RC" = 1 ] || { cat "$LAST_OUT" "$LAST_ERR" >&2; fail "verify of a changed source exited $LAST_RC, expected 1"; }
expect_stdout_match 'Verify complete: [0-9]+ files compared, [1-9][0-9]* differences? found'
