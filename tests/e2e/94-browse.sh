#!/bin/bash
# 94-browse: sealbox ls, find and diff (issue 14, "also expected"). The
# first run reads the indexes with the secret key (or, on the machine that
# made the backups, from its record of proven plaintext) and caches them;
# later runs need neither the secret key nor any volume or index from the target
# (both are garbled there, and they still answer). ls lists a folder of the
# snapshot of --time (-R below it), find shows which snapshots hold each
# matching path with its size and mtime, diff the paths added, removed and
# changed; names that are not UTF-8 or hold controls come out escaped; each
# takes --json.
source "$(dirname "$0")/lib.sh"

make_keys "sign pass $RANDOM"
SRC="$T/src"
mkdir -p "$SRC/sub" "$SRC/old"
printf 'hello\n' >"$SRC/a.txt"
printf 'deep\n' >"$SRC/sub/b.txt"
printf 'bye\n' >"$SRC/old/gone.txt"
touch -d '2020-01-02 03:04:05 UTC' "$SRC/a.txt" "$SRC/sub/b.txt" "$SRC/old/gone.txt"
TGT="$T/target"
URL="file://$TGT"
K=(--target "$URL" --sign-key "$SIGN_FPR")
sb_backup "$URL" "$SRC"
wait_next_second
printf 'hello world\n' >"$SRC/a.txt"
touch -d '2021-05-06 07:08:09 UTC' "$SRC/a.txt"
rm -r "$SRC/old"
chmod 0700 "$SRC/sub"
HOSTILE=$'bad\xff\e[1m'
printf 'x\n' >"$SRC/$HOSTILE"
touch -d '2022-01-01 00:00:00 UTC' "$SRC/$HOSTILE"
sb_backup "$URL" "$SRC"
S1=$(nth_time "$TGT" 1)
S2=$(nth_time "$TGT" 2)
I1=$(iso "$S1")
I2=$(iso "$S2")

# same STRING: the last stdout is exactly STRING (a trailing newline aside)
same() {
    [ "$(cat "$LAST_OUT")" = "$1" ] || {
        printf -- '--- expected:\n%s\n--- got:\n' "$1" >&2
        cat "$LAST_OUT" >&2
        fail "unexpected output of: $2"
    }
}
# jq_ok EXPR...: the last stdout is one JSON document for which each python EXPR over d holds
jq_ok() {
    python3 - "$LAST_OUT" "$@" <<'EOF' || fail "--json: see above"
import json, sys
d = json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))
for e in sys.argv[2:]:
    if not eval(e):
        sys.exit("does not hold: %s\n%s" % (e, json.dumps(d, indent=1)))
EOF
}

log "nothing cached (another machine: no archive dir), no secret key: exit 3, and what to give"
expect_exit 3 sb ls "${K[@]}" --archive-dir "$T/another-machine"
expect_error 'not in the index cache .*--secret-key'

log "with the secret key once: the indexes are cached"
run sb ls "${K[@]}" --secret-key "$T/enc-secret.asc"
same "-rw-r--r--           12 2021-05-06T07:08:09Z a.txt
-rw-r--r--            2 2022-01-01T00:00:00Z bad\\xff\\x1b[1m
drwx------         4096 $(date -u -r "$SRC/sub" +%Y-%m-%dT%H:%M:%SZ) sub/" "ls"

log "then no secret key, no volume or index read: both garbled on the target"
mv "$T/enc-secret.asc" "$T/enc-secret.away"
SECRET_PASS=$SEALBOX_SECRET_PASSPHRASE
unset SEALBOX_SECRET_PASSPHRASE
for f in "$TGT"/*.difftar.gpg "$TGT"/*.index.gpg; do
    head -c "$(stat -c %s "$f")" /dev/urandom >"$f.new"
    mv "$f.new" "$f"
done
run sb ls "${K[@]}" --time "$I1" -R
grep -qx -- '-rw-r--r--            6 2020-01-02T03:04:05Z a.txt' "$LAST_OUT" || fail "ls --time $I1: a.txt of the first snapshot missing"
grep -qE -- ' old/gone\.txt$' "$LAST_OUT" || fail "ls -R --time $I1: old/gone.txt missing"
grep -qE -- ' sub/b\.txt$' "$LAST_OUT" || fail "ls -R: sub/b.txt missing"
[ "$(wc -l <"$LAST_OUT")" = 5 ] || { cat "$LAST_OUT" >&2; fail "ls -R --time $I1: expected 5 lines"; }
run sb ls "${K[@]}" sub/b.txt
same "-rw-r--r--            5 2020-01-02T03:04:05Z sub/b.txt" "ls FILE"
expect_exit 7 sb ls "${K[@]}" no/such
expect_error "no 'no/such' in the snapshot of $I2"
expect_exit 7 sb ls "${K[@]}" --time 2001-01-01
expect_error "no snapshot at or before 2001-01-01"
expect_exit 1 sb ls "${K[@]}" /abs/path
expect_error 'relative to the backed-up folder'
printf 'source = %s\n' "$SRC" >"$T/src.conf"
run sb ls --config "$T/src.conf" "${K[@]}" "$SRC/sub"
same "-rw-r--r--            5 2020-01-02T03:04:05Z sub/b.txt" "ls of an absolute path inside the source"
expect_exit 1 sb ls --config "$T/src.conf" "${K[@]}" "$T/elsewhere"
expect_error 'relative to the backed-up folder'
run sb ls "${K[@]}" --json sub
jq_ok 'd["exit_status"] == 0' "d[\"snapshot\"] == \"$I2\"" 'd["path"] == "sub"' \
    'd["entries"] == [{"path": "sub/b.txt", "type": "file", "mode": 0o644, "size": 5, "mtime": "2020-01-02T03:04:05Z"}]'
expect_exit 7 sb ls "${K[@]}" --json nope
jq_ok 'd["exit_status"] == 7' '"nope" in d["error"]'
# the restore of the same target fails: the garbling is real
SEALBOX_SECRET_PASSPHRASE=$SECRET_PASS expect_exit 6 sb restore "${K[@]}" \
    --secret-key "$T/enc-secret.away" "$T/r"

log "find: which snapshots hold each match, with size and mtime"
run sb find "${K[@]}" '*.txt'
same "a.txt
  $I1  -rw-r--r--            6 2020-01-02T03:04:05Z
  $I2  -rw-r--r--           12 2021-05-06T07:08:09Z
old/gone.txt
  $I1  -rw-r--r--            4 2020-01-02T03:04:05Z
sub/b.txt
  $I1  -rw-r--r--            5 2020-01-02T03:04:05Z
  $I2  -rw-r--r--            5 2020-01-02T03:04:05Z" "find"
run sb find "${K[@]}" 'sub/*'
same "sub/b.txt
  $I1  -rw-r--r--            5 2020-01-02T03:04:05Z
  $I2  -rw-r--r--            5 2020-01-02T03:04:05Z" "find with a /"
run sb find "${K[@]}" 'nothing*'
same "" "find without a match"
expect_stderr_match "no path matches 'nothing\*' in 2 snapshot"
run sb find "${K[@]}" --json 'bad*'
jq_ok 'len(d["matches"]) == 1' 'd["matches"][0]["path"] == "bad\ufffd\x1b[1m"' \
    'bytes.fromhex(d["matches"][0]["path_hex"]) == b"bad\xff\x1b[1m"' \
    "d[\"matches\"][0][\"snapshots\"] == [{\"snapshot\": \"$I2\", \"type\": \"file\", \"size\": 2, \"mtime\": \"2022-01-01T00:00:00Z\"}]"

log "diff: added, removed, changed"
run sb diff "${K[@]}" "$I1" "$I2"
head -5 "$LAST_OUT" >"$T/diff5"
[ "$(cat "$T/diff5")" = "M a.txt
+ bad\\xff\\x1b[1m
- old/
- old/gone.txt
M sub/" ] || { cat "$LAST_OUT" >&2; fail "diff lines"; }
[ "$(tail -1 "$LAST_OUT")" = "1 added, 2 removed, 2 changed: $I1 .. $I2" ] || { cat "$LAST_OUT" >&2; fail "diff summary"; }
run sb diff "${K[@]}" "$I2" "$I2"
same "0 added, 0 removed, 0 changed: $I2 .. $I2" "diff of a snapshot with itself"
run sb diff "${K[@]}" --json "$I1" now
jq_ok "d[\"from\"] == \"$I1\"" "d[\"to\"] == \"$I2\"" \
    'd["added"] == 1 and d["removed"] == 2 and d["changed"] == 2' \
    '[(c["change"], c["path"]) for c in d["changes"]] == [("changed", "a.txt"), ("added", "bad\ufffd\x1b[1m"), ("removed", "old"), ("removed", "old/gone.txt"), ("changed", "sub")]' \
    'd["changes"][0]["what"] == ["size", "mtime"]' 'd["changes"][4]["what"] == ["mode"]'
expect_exit 7 sb diff "${K[@]}" 2001-01-01 now
expect_error 'no snapshot at or before 2001-01-01'
expect_exit 1 sb diff "${K[@]}" "$I1"
expect_error 'give two times'
ls "$TMPDIR" | grep -q sealbox-browse && fail "ls/find/diff left a folder in \$TMPDIR"
true
