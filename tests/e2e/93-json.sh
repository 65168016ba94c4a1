#!/bin/bash
# 93-json: --json on every command (issue 14 item 9). Success and failure
# alike print exactly one JSON document on stdout, with "command",
# "exit_status" (the process's) and "error" (one line, or null), and nothing
# else there; usage errors too, wherever --json stands. Names a hostile source
# chose (control characters, bytes that are not UTF-8) come out escaped, and
# exactly in "<key>_hex".
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/mountlib.sh"

make_keys "sign pass $RANDOM"
SRC="$T/src"
mkdir -p "$SRC/sub"
printf 'hello\n' >"$SRC/a.txt"
printf 'deep\n' >"$SRC/sub/b.txt"
HOSTILE=$'evil\e[31m\x01\xff"\\name'
printf 'x\n' >"$SRC/$HOSTILE"
TGT="$T/target"
URL="file://$TGT"
KEYS=(--encrypt-key "$ENC_FPR" --sign-key "$SIGN_FPR")

# jcheck RC EXPR...: the last run exited RC; its stdout is one JSON document
# (strict UTF-8, nothing after it) whose exit_status is RC, whose error is a
# line when RC is not 0, and for which each python EXPR over d holds.
jcheck() {
    local want=$1
    shift
    [ "$LAST_RC" = "$want" ] || { cat "$LAST_ERR" >&2; fail "expected exit $want, got $LAST_RC"; }
    python3 - "$LAST_OUT" "$want" "$@" <<'EOF' || fail "--json output: see above"
import json, sys
raw = open(sys.argv[1], "rb").read()
try:
    text = raw.decode("utf-8")  # strict: every byte escaped or valid UTF-8
    d = json.loads(text)        # one document: trailing text is an error
except Exception as e:
    sys.exit("not one JSON document (%s): %r" % (e, raw[:400]))
if any(ord(c) < 0x20 for c in text.rstrip("\n")):
    sys.exit("raw control character in: %r" % text)
want = int(sys.argv[2])
if d.get("exit_status") != want:
    sys.exit("exit_status %r, process exit %d" % (d.get("exit_status"), want))
err = d.get("error")
if want == 0 and err is not None:
    sys.exit("error on success: %r" % err)
if want != 0 and (not isinstance(err, str) or not err or "\n" in err):
    sys.exit("error is not one line: %r" % err)
for e in sys.argv[3:]:
    if not eval(e):
        sys.exit("does not hold: %s\n%s" % (e, json.dumps(d, indent=1)))
EOF
}

log "backup --json: the statistics, and the failures"
_run sb backup --json --target "$URL" "${KEYS[@]}" "$SRC"
jcheck 0 'd["command"] == "backup"' 'd["type"] == "full"' 'd["source_files"] >= 4' \
    'len(d["seal_sha256"]) == 64'
_run sb backup --json --target "$URL" "${KEYS[@]}" "$T/no-such-src"
jcheck 7 'd["command"] == "backup"' '"no such folder" in d["error"]' '"type" not in d'
SEALBOX_SIGN_PASSPHRASE=wrong _run sb backup --target "$URL" "${KEYS[@]}" --json "$SRC"
jcheck 4 '"passphrase" in d["error"].lower()'

log "usage errors: before or after --json"
_run sb restore --json --bogus "$T/r"
jcheck 1 'd["command"] == "restore"' '"--bogus" in d["error"]'
_run sb restore --bogus --json "$T/r"
jcheck 1 '"--bogus" in d["error"]'
_run sb prune --json --target "$URL"
jcheck 1 'd["command"] == "prune"' '"--keep-chains" in d["error"]'
_run sb snapshots --json --target "file://$T/nothing-here"
jcheck 5 'd["error"]'

printf 'json = yes\n' >"$T/json.conf"
_run sb snapshots --config "$T/json.conf" --target "file://$T/nothing-here"
jcheck 5 'd["command"] == "snapshots"'

log "interrupted (SIGTERM while an SSH server does not answer): the document still comes"
bg_start python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
c, _ = s.accept(); time.sleep(60)' "$T/port"
for _ in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
"$SEALBOX" snapshots --json --target "sftp://u@127.0.0.1:$(cat "$T/port")/x" \
    >"$T/sig.out" 2>"$T/sig.err" </dev/null &
pid=$!
sleep 1.5
kill -TERM "$pid"
set +e
wait "$pid"
LAST_RC=$?
set -e
cp "$T/sig.out" "$LAST_OUT"
jcheck 11 'd["command"] == "snapshots"' 'd["error"] == "interrupted"'

log "snapshots --json"
_run sb snapshots --json --target "$URL" --sign-key "$SIGN_FPR"
jcheck 0 'len(d["chains"]) == 1' 'd["chains"][0]["checked"] is True' \
    'd["chains"][0]["sets"][0]["type"] == "full"'

log "restore --json: what was restored; a wrong passphrase; a hostile name"
_run sb restore --json --target "$URL" --sign-key "$SIGN_FPR" \
    --secret-key "$T/enc-secret.asc" "$T/r1"
jcheck 0 'd["objects"] >= 5' 'd["bytes"] == 6 + 5 + 2' 'd["path"] is None'
[ -f "$T/r1/sub/b.txt" ] || fail "restore --json restored nothing"
SEALBOX_SECRET_PASSPHRASE=wrong _run sb restore --json --target "$URL" \
    --sign-key "$SIGN_FPR" --secret-key "$T/enc-secret.asc" "$T/r2"
jcheck 4 '"passphrase" in d["error"]' '"objects" not in d'
_run sb restore --json --target "$URL" --sign-key "$SIGN_FPR" \
    --secret-key "$T/enc-secret.asc" --path "$HOSTILE" "$T/r3"
jcheck 0 'd["objects"] == 1' \
    'd["path"] == "evil\x1b[31m\x01\ufffd\"\\name"' \
    'bytes.fromhex(d["path_hex"]) == b"evil\x1b[31m\x01\xff\"\\name"'
grep -q '\\u001b\[31m\\u0001\\ufffd\\"\\\\name' "$LAST_OUT" ||
    fail "control characters are not \\u-escaped: $(cat "$LAST_OUT")"
_run sb restore --json --target "$URL" --sign-key "$SIGN_FPR" \
    --secret-key "$T/enc-secret.asc" --path "no/such/path" "$T/r4"
jcheck 7 '"no/such/path" in d["error"]'

log "verify --json: counts, and each problem"
_run sb verify --json --target "$URL" --sign-key "$SIGN_FPR"
jcheck 0 'd["command"] == "verify"' 'd["seals"] == 1' 'd["counts"]["modified"] == 0' \
    '[p for p in d["problems"] if p["class"] != "note"] == []'
vol=$(ls "$TGT"/duplicity-full.*.vol1.difftar.gpg)
printf 'X' | dd of="$vol" bs=1 seek=100 conv=notrunc status=none
_run sb verify --json --target "$URL" --sign-key "$SIGN_FPR"
jcheck 13 '"does not match" in d["error"]' 'd["counts"]["modified"] == 1' \
    'any(p["class"] == "modified" and p["file"].endswith(".vol1.difftar.gpg") for p in d["problems"])'

log "prune --json --dry-run"
rm -rf "$TGT" "$XDG_CACHE_HOME/sealbox"
sb_backup "$URL" "$SRC"
wait_next_second
sb_backup "$URL" "$SRC" --full
_run sb prune --json --dry-run --target "$URL" --keep-chains 1
jcheck 0 'd["dry_run"] is True' 'len(d["removed"]) == 1' 'd["removed"][0]["sets"] == 1' \
    'd["chains_kept"] == 1'
[ "$(set_times "$TGT" | wc -l)" = 2 ] || fail "a dry run removed something"

log "keys check --json"
_run sb keys check --json --encrypt-key "$ENC_FPR" --sign-key "$SIGN_FPR"
jcheck 0 'd["command"] == "keys check"' 'len(d["checks"]) == 3' 'all(c["ok"] for c in d["checks"])'
_run sb keys check --json --encrypt-key "$FOREIGN_FPR"
jcheck 3 'd["checks"][0]["ok"] is False'

if [ -c /dev/fuse ] && [ -r /dev/fuse ] && [ -w /dev/fuse ] && command -v fusermount3 >/dev/null; then
    log "mount --json: the start-up result, once; umount --json"
    mkdir -p "$T/mnt" "$T/full"
    _run sb mount --json --target "$URL" --sign-key "$SIGN_FPR" \
        --secret-key "$T/enc-secret.asc" "$T/mnt"
    jcheck 0 'd["command"] == "mount"' 'd["snapshots"] == 2' "d[\"mountpoint\"] == \"$T/mnt\""
    [ "$(cat "$T/mnt/latest/a.txt")" = hello ] || fail "mount --json: not mounted"
    _run sb umount --json "$T/mnt"
    jcheck 0 'd["command"] == "umount"'
    wait_cleaned
    # the child that would serve the mount fails: it prints the one document
    SEALBOX_SECRET_PASSPHRASE=wrong _run sb mount --json --target "$URL" \
        --sign-key "$SIGN_FPR" --secret-key "$T/enc-secret.asc" "$T/mnt"
    jcheck 4 'd["command"] == "mount"' '"passphrase" in d["error"]'
    wait_cleaned
    printf 'x\n' >"$T/full/file"
    _run sb mount --json --target "$URL" --sign-key "$SIGN_FPR" \
        --secret-key "$T/enc-secret.asc" "$T/full"
    jcheck 10 '"not empty" in d["error"]'
else
    log "no FUSE here: mount --json not tried"
fi
