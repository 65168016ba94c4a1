#!/bin/bash
# 68-throttle: --limit-upload and --limit-download (and the config keys)
# hold the rate, measured from outside sealbox (scripts/ratemeter.py): the
# bytes on the wire for sftp:// (a real sshd) and s3:// (a real Swift with
# s3api), from ss's per-connection byte counts; what arrived in the folder
# for a file:// backup, and how far the readers of its files got for a
# file:// restore. Each backup uploads several volumes two at a time
# (--volsize 1), so the limit holds a sum over parallel uploads. The rate
# between 10% and 90% of the bytes must be at most 5% above the limit
# (without the limiter it is many times the limit) and not far below it
# (75%, for a loaded machine).
# The restores come back identical. A bad RATE, on the command line of each
# command or in the config file, is one line naming the option and the
# value, exit 1, with --json too.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/sshlib.sh"
source "$(dirname "$0")/s3lib.sh"
need_cmd ss
METER="$SB_ROOT/scripts/ratemeter.py"
LIMIT=1M
LIMIT_B=$((1024 * 1024))

make_keys
SRC="$T/src"
mkdir -p "$SRC/sub"
# 10 MiB that neither gpg nor the network can shrink: 10 s at the limit
for i in 1 2 3 4; do head -c $((2 * 1024 * 1024)) /dev/urandom >"$SRC/f$i.bin"; done
head -c $((2 * 1024 * 1024)) /dev/urandom >"$SRC/sub/g.bin"
printf 'small\n' >"$SRC/sub/small.txt"

log "a bad RATE: one line naming the option and the value, exit 1"
for bad in 5X 2MB -1 0.5 1e6 ''; do
    expect_exit 1 sb backup --target "$T/bad" --encrypt-key "$ENC_FPR" --sign-key "$SIGN_FPR" \
        --limit-upload "$bad" "$SRC"
    expect_error "bad --limit-upload '$bad' \(bytes per second"
    [ "$(wc -l <"$LAST_ERR")" = 1 ] || { cat "$LAST_ERR" >&2; fail "more than one line"; }
done
[ ! -e "$T/bad" ] || fail "a backup with a bad RATE created its target"
expect_exit 1 sb restore --target "$T/bad" --sign-key "$SIGN_FPR" --limit-download=10Q "$T/r0"
expect_error "restore: bad --limit-download '10Q'"
expect_exit 1 sb snapshots --target "$T/bad" --limit-download 2GB --json
python3 - "$LAST_OUT" <<'PY' || fail "--json: not one document with exit_status 1 naming the value"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["exit_status"] == 1 and "--limit-download '2GB'" in d["error"], d
PY
for cmd in verify prune mount ls find diff; do
    expect_exit 1 sb "$cmd" --target "$T/bad" --limit-upload 3x --limit-download 1M x y
    expect_error "$cmd: bad --limit-upload '3x'"
done
mkdir -p "$XDG_CONFIG_HOME/sealbox"
printf 'limit-download = fast\n' >"$XDG_CONFIG_HOME/sealbox/sealbox.conf"
expect_exit 1 sb snapshots --target "$T/bad"
expect_error "sealbox.conf:1: bad limit-download 'fast'"
rm "$XDG_CONFIG_HOME/sealbox/sealbox.conf"

# meter_start ARGS...: sample in the background (ratemeter.py sample ARGS).
N=0
meter_start() {
    N=$((N + 1))
    METER_OUT="$T/meter.$N"
    bg_start python3 "$METER" sample "$METER_OUT" --interval 0.1 "$@"
    METER_PID=$BG_PID
    for _ in $(seq 100); do [ -s "$METER_OUT" ] && return 0; sleep 0.05; done
    fail "ratemeter did not start"
}
# meter_check LABEL: stop sampling; the rate between 10% and 90% of the
# bytes is at most 5% above the limit, and not far below it: at least 75%
# (a backup and a restore are also bound by their gpg, which pauses the
# transfer between volumes, longer on a loaded machine; bench/throttle.sh
# measures minute-long transfers).
meter_check() {
    kill -TERM "$METER_PID"
    wait "$METER_PID" 2>/dev/null || true
    local r
    r=$(python3 "$METER" report "$METER_OUT")
    log "$1: $r (limit $LIMIT_B B/s)"
    python3 - "$LIMIT_B" $r <<'PY' || fail "$1: the rate is not within 5% of $LIMIT_B B/s: $r"
import sys
limit = int(sys.argv[1])
v = dict(a.split("=") for a in sys.argv[2:])
assert int(v["total"]) >= 10 * 2**20, "too few bytes measured"
assert 0.75 * limit <= float(v["mid"]) <= 1.05 * limit
PY
}
vols() { ls "$1" | grep -c '\.vol[0-9]*\.difftar\.gpg$'; }

log "file:// backup, limit from the config file: the folder fills at the limit"
FILE_T="$T/target"
mkdir -p "$FILE_T" "$XDG_CONFIG_HOME/sealbox"
printf 'limit-upload = %s\n' "$LIMIT" >"$XDG_CONFIG_HOME/sealbox/sealbox.conf"
meter_start --path "$FILE_T"
sb_backup "$FILE_T" "$SRC" --volsize 1
meter_check "file:// backup"
rm "$XDG_CONFIG_HOME/sealbox/sealbox.conf"
[ "$(vols "$FILE_T")" -ge 10 ] || fail "expected at least 10 volumes"

log "file:// restore, --limit-download: the volumes are read at the limit"
meter_start --reads "$FILE_T"
sb_restore "$FILE_T" "$T/r1" --limit-download "$LIMIT"
meter_check "file:// restore"
compare "$SRC" "$T/r1"

log "sftp:// backup, --limit-upload: the bytes on the wire"
ssh_setup
trust_host "$S/host1"
sshd_start "$S/host1"
SRV="$T/server/backups"
mkdir -p "$SRV"
SFTP_URL="sftp://$ME@127.0.0.1:$PORT$SRV"
SSHO=(--ssh-key "$S/user_ed25519" --known-hosts "$KH")
meter_start --port "$PORT" --dir up
sb_backup "$SFTP_URL" "$SRC" --volsize 1 "${SSHO[@]}" --limit-upload "$LIMIT"
meter_check "sftp:// backup"

log "sftp:// restore, --limit-download"
meter_start --port "$PORT" --dir down
sb_restore "$SFTP_URL" "$T/r2" "${SSHO[@]}" --limit-download "$LIMIT"
meter_check "sftp:// restore"
compare "$SRC" "$T/r2"
sshd_stop

log "s3:// backup, --limit-upload: the bytes on the wire"
swift_setup
swift_start
command -v "$AWS_CLI" >/dev/null || skip "needs awscli"
aws_s3 s3 mb s3://bkt >/dev/null
S3_URL=s3://bkt/host/home
meter_start --port "$S3_PORT" --dir up
sb_backup "$S3_URL" "$SRC" --volsize 1 --limit-upload=1MiB/s
meter_check "s3:// backup"

log "s3:// restore, --limit-download, --json"
meter_start --port "$S3_PORT" --dir down
sb_restore "$S3_URL" "$T/r3" --limit-download "$LIMIT" --json
meter_check "s3:// restore"
python3 -c 'import json,sys; d = json.load(open(sys.argv[1])); assert d["exit_status"] == 0, d' \
    "$LAST_OUT" || fail "--json: no document with exit_status 0"
compare "$SRC" "$T/r3"
