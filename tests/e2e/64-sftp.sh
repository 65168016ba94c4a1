#!/bin/bash
# 64-sftp: sftp:// targets against a real OpenSSH sshd on 127.0.0.1 (a
# generated host key and user key, a free high port, stopped at exit).
# Backup (full + incremental) and restore over sftp; snapshots with ed25519,
# rsa (rsa-sha2), ecdsa and passphrase-protected keys, default key and
# known_hosts locations, hashed known_hosts; an unknown host key refused
# (exit 5, SHA256 fingerprint and the line to add), --accept-new-host-key
# adds it; a changed host key refused before authentication with nothing
# uploaded; clear errors for connection refused, DNS failure, wrong key,
# missing folder; the connection killed during a restore (transparent
# reconnect) and mid-upload (exit 5, then a rerun leaves no temporary files
# and a complete chain); duplicity restores the sftp-written chain.
source "$(dirname "$0")/lib.sh"

source "$(dirname "$0")/sshlib.sh"
ssh_setup
rm -f "$KH" # the first connection finds no known_hosts at all
SRV="$T/server/backups" # the folder on the "server"
mkdir -p "$T/server"
ssh-keygen -q -t rsa -b 3072 -N '' -C user-rsa -f "$S/user_rsa"
ssh-keygen -q -t ecdsa -b 256 -N '' -C user-ecdsa -f "$S/user_ecdsa"
ssh-keygen -q -t ed25519 -N 'ssh key pass' -C user-enc -f "$S/user_enc"
cat "$S"/user_ed25519.pub "$S"/user_rsa.pub "$S"/user_ecdsa.pub "$S"/user_enc.pub \
    >"$S/authorized_keys"

# re TEXT: TEXT as an extended regex matching itself.
re() { printf '%s' "$1" | sed 's/[][\.^$*+?(){}|]/\\&/g'; }

sshd_start "$S/host1"
URL="sftp://$ME@127.0.0.1:$PORT$SRV"
SSHO=(--ssh-key "$S/user_ed25519" --known-hosts "$KH")

make_keys
SRC="$T/src"
make_tree "$SRC"

log "unknown host key: refused with its fingerprint and the line to add"
FP=$(ssh-keygen -l -E sha256 -f "$S/host1.pub" | awk '{print $2}')
expect_exit 5 sb snapshots --target "$URL" "${SSHO[@]}"
expect_error "unknown host key"
expect_error "$(re "$FP")"
expect_error "$(re "[127.0.0.1]:$PORT ssh-ed25519 $(awk '{print $2}' "$S/host1.pub")")"
[ "$(accepted)" = 0 ] || fail "authenticated although the host key is unknown"
[ ! -e "$T/server/backups" ] || fail "the target folder was created on an unknown host"

log "--accept-new-host-key adds it"
expect_exit 5 sb snapshots --target "$URL" "${SSHO[@]}" --accept-new-host-key
expect_error "no such folder"
grep -q "^\[127.0.0.1\]:$PORT ssh-ed25519 " "$KH" || { cat "$KH" >&2; fail "host key not added to $KH"; }
expect_exit 5 sb snapshots --target "$URL" "${SSHO[@]}"
expect_error "no such folder"

log "backup: full over sftp"
sb_backup "$URL" "$SRC" --volsize 1 "${SSHO[@]}"
snapshot_copy "$SRC" 1
ls "$SRV"/duplicity-full.*.vol2.difftar.gpg >/dev/null || fail "no second volume on the server"
ls -a "$SRV" | grep -q '^\.sealbox-tmp\.' && fail "temporary files left on the server"

log "backup: incremental over sftp"
wait_next_second
mutate_tree "$SRC" 1
sb_backup "$URL" "$SRC" --volsize 1 "${SSHO[@]}"
snapshot_copy "$SRC" 2
[ "$(set_times "$SRV" | wc -l)" = 2 ] || { ls -l "$SRV" >&2; fail "expected 2 sets on the server"; }

log "restore over sftp"
sb_restore "$URL" "$T/r1" "${SSHO[@]}"
compare "$T/expect/2" "$T/r1"
sb_restore "$URL" "$T/r0" "${SSHO[@]}" --time "$(iso "$(nth_time "$SRV" 1)")"
compare "$T/expect/1" "$T/r0"

log "verify over sftp: public keys only; a flipped byte is named"
expect_exit 0 sb verify --target "$URL" --sign-key "$SIGN_FPR" "${SSHO[@]}"
vol=$(ls "$SRV"/duplicity-full.*.vol1.difftar.gpg)
cp "$vol" "$T/vol.bak"
python3 - "$vol" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(0, 2); n = f.tell() // 2; f.seek(n); b = f.read(1); f.seek(n); f.write(bytes([b[0] ^ 0xff]))
PY
expect_exit 13 sb verify --target "$URL" --sign-key "$SIGN_FPR" "${SSHO[@]}"
expect_stdout_match "$(basename "$vol")"
cp "$T/vol.bak" "$vol"
expect_exit 0 sb verify --target "$URL" --sign-key "$SIGN_FPR" "${SSHO[@]}"

log "key types: rsa (rsa-sha2), ecdsa, passphrase; default locations; hashed known_hosts"
expect_exit 0 sb snapshots --target "$URL" --ssh-key "$S/user_ecdsa" --known-hosts "$KH"
expect_stdout_match "Backup chains: 1"
expect_exit 5 sb snapshots --target "$URL" --ssh-key "$S/user_enc" --known-hosts "$KH"
expect_error "user_enc"
expect_exit 0 env SEALBOX_SSH_PASSPHRASE='ssh key pass' "$SEALBOX" snapshots --target "$URL" \
    --ssh-key "$S/user_enc" --known-hosts "$KH"
mkdir -p "$HOME/.ssh"
chmod 700 "$HOME/.ssh"
cp "$S/user_ed25519" "$HOME/.ssh/id_ed25519"
cp "$KH" "$HOME/.ssh/known_hosts"
ssh-keygen -q -H -f "$HOME/.ssh/known_hosts" 2>/dev/null
grep -q '^|1|' "$HOME/.ssh/known_hosts" || fail "ssh-keygen -H did not hash"
expect_exit 0 sb snapshots --target "$URL"
expect_stdout_match "Backup chains: 1"

# ---------------------------------------------------------------- RSA keys
# RSA user keys sign with rsa-sha2-512 (RFC 8332; libssh2 1.10 alone signs
# ssh-rsa/SHA-1, which this sshd refuses): OpenSSH format plain and
# encrypted, PEM PKCS#1 and encrypted PKCS#8, ssh-agent; ssh-rsa only for a
# server that refuses rsa-sha2. At LogLevel VERBOSE sshd names the accepted
# key ("Accepted publickey ... RSA SHA256:...", lines end in CRLF) and every
# algorithm it refuses ("signature algorithm X not in PubkeyAcceptedAlgorithms").
log "RSA keys: rsa-sha2-512 from OpenSSH, encrypted, PEM and PKCS#8 files and ssh-agent"
ssh-keygen -q -t rsa -b 3072 -N 'pw' -C user-rsa-enc -f "$S/user_rsa_enc"
ssh-keygen -q -t rsa -b 3072 -m PEM -N '' -C user-rsa-pem -f "$S/user_rsa_pem"
ssh-keygen -q -t rsa -b 2048 -m PKCS8 -N 'pkcs8 pass' -C user-rsa-p8 -f "$S/user_rsa_p8"
ssh-keygen -q -t rsa -b 2048 -N '' -C stranger-rsa -f "$S/stranger_rsa"
cat "$S"/user_rsa_enc.pub "$S"/user_rsa_pem.pub "$S"/user_rsa_p8.pub >>"$S/authorized_keys"
rsa_fp() { ssh-keygen -l -E sha256 -f "$1.pub" | awk '{print $2}'; }
# rsa_sb VAR=VALUE... -- ARGS...: sb with more environment (for _run's subshell)
rsa_sb() {
    while [ "$1" != -- ]; do export "${1?}"; shift; done
    shift
    sb "$@"
}
# rsa_mark LOG; ...; rsa_grep ARGS / rsa_log: grep / show the lines since rsa_mark
# (a file, not a pipe: grep -q closing a pipe would fail it under pipefail)
rsa_mark() { RSA_LOG_AT=$(wc -l <"$1"); RSA_LOG_FILE=$1; }
rsa_grep() {
    tail -n "+$((RSA_LOG_AT + 1))" "$RSA_LOG_FILE" >"$T/rsa-new.log"
    grep "$@" "$T/rsa-new.log"
}
rsa_log() { tail -n "+$((RSA_LOG_AT + 1))" "$RSA_LOG_FILE" >&2; }
# rsa_expect_login KEY: the one login since rsa_mark was KEY, with rsa-sha2
# (sshd refuses ssh-rsa), and no algorithm was refused on the way.
rsa_expect_login() {
    local fp
    fp=$(rsa_fp "$1")
    rsa_grep -qE "Accepted publickey for $ME .*: RSA $(re "$fp")([^A-Za-z0-9+/]|$)" ||
        { rsa_log; fail "sshd did not accept $1 (RSA $fp)"; }
    ! rsa_grep "not in PubkeyAcceptedAlgorithms" ||
        fail "an RSA algorithm was refused on the way to $1"
}

for k in user_rsa user_rsa_pem; do
    rsa_mark "$S/sshd.log"
    expect_exit 0 sb snapshots --target "$URL" --ssh-key "$S/$k" --known-hosts "$KH"
    expect_stdout_match "Backup chains: 1"
    rsa_expect_login "$S/$k"
done
rsa_mark "$S/sshd.log"
expect_exit 0 rsa_sb SEALBOX_SSH_PASSPHRASE=pw -- snapshots --target "$URL" \
    --ssh-key "$S/user_rsa_enc" --known-hosts "$KH"
rsa_expect_login "$S/user_rsa_enc"
rsa_mark "$S/sshd.log"
expect_exit 0 rsa_sb SEALBOX_SSH_PASSPHRASE='pkcs8 pass' -- snapshots --target "$URL" \
    --ssh-key "$S/user_rsa_p8" --known-hosts "$KH"
rsa_expect_login "$S/user_rsa_p8"

log "RSA keys: wrong or missing passphrase, unauthorized key: clear errors, no wasted attempts"
rsa_mark "$S/sshd.log"
expect_exit 5 rsa_sb SEALBOX_SSH_PASSPHRASE=wrong -- snapshots --target "$URL" \
    --ssh-key "$S/user_rsa_enc" --known-hosts "$KH"
expect_error "user_rsa_enc \(wrong \\\$SEALBOX_SSH_PASSPHRASE\)"
expect_exit 5 sb snapshots --target "$URL" --ssh-key "$S/user_rsa_enc" --known-hosts "$KH"
expect_error "user_rsa_enc \(encrypted, and \\\$SEALBOX_SSH_PASSPHRASE is not set\)"
expect_exit 5 rsa_sb SEALBOX_SSH_PASSPHRASE=wrong -- snapshots --target "$URL" \
    --ssh-key "$S/user_rsa_p8" --known-hosts "$KH"
expect_error "user_rsa_p8 \(wrong \\\$SEALBOX_SSH_PASSPHRASE\)"
! rsa_grep -E "publickey|PubkeyAccepted" || fail "a key that could not be read was offered"
expect_exit 5 sb snapshots --target "$URL" --ssh-key "$S/stranger_rsa" --known-hosts "$KH"
expect_error "stranger_rsa \(RSA key refused by the server, as rsa-sha2-512 and as ssh-rsa\)"
[ "$(rsa_grep -c "signature algorithm ssh-rsa not in PubkeyAcceptedAlgorithms")" = 1 ] ||
    { rsa_log; fail "expected exactly one ssh-rsa attempt for an unauthorized RSA key"; }

log "RSA keys: ssh-agent signs with rsa-sha2-512 (an ed25519 identity refused first)"
bg_start ssh-agent -D -a "$T/agent.sock"
RSA_AGENT_PID=$BG_PID
# the socket may exist a moment before the agent listens on it
for i in $(seq 100); do
    SSH_AUTH_SOCK="$T/agent.sock" ssh-add -q "$S/stranger" "$S/user_rsa" 2>"$T/ssh-add.err" && break
    [ "$i" != 100 ] || { cat "$T/ssh-add.err" >&2; fail "ssh-add failed"; }
    sleep 0.1
done
mkdir -p "$T/agent-home" # no ~/.ssh keys to fall back on
rsa_mark "$S/sshd.log"
expect_exit 0 rsa_sb SSH_AUTH_SOCK="$T/agent.sock" HOME="$T/agent-home" -- snapshots \
    --target "$URL" --known-hosts "$KH"
expect_stdout_match "Backup chains: 1"
rsa_expect_login "$S/user_rsa"
kill "$RSA_AGENT_PID" 2>/dev/null || true
wait "$RSA_AGENT_PID" 2>/dev/null || true

log "RSA keys: a server that refuses rsa-sha2 gets ssh-rsa, one attempt more"
RSA_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed -e "s/^Port .*/Port $RSA_PORT/" -e "s|^PidFile .*|PidFile $S/sshd-rsa.pid|" \
    "$S/sshd_config" >"$S/sshd_rsa_config"
echo "PubkeyAcceptedAlgorithms ssh-rsa" >>"$S/sshd_rsa_config"
bg_start "$SSHD" -f "$S/sshd_rsa_config" -D -e -E "$S/sshd-rsa.log"
RSA_SSHD_PID=$BG_PID
for i in $(seq 100); do
    python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' \
        "$RSA_PORT" 2>/dev/null && break
    kill -0 "$RSA_SSHD_PID" 2>/dev/null || { cat "$S/sshd-rsa.log" >&2; fail "sshd did not start"; }
    sleep 0.1
done
rsa_mark "$S/sshd-rsa.log"
expect_exit 0 sb snapshots --target "sftp://$ME@127.0.0.1:$RSA_PORT$SRV" --ssh-key "$S/user_rsa" \
    --known-hosts "$S/known_hosts_rsa" --accept-new-host-key
expect_stdout_match "Backup chains: 1"
rsa_grep -q "signature algorithm rsa-sha2-512 not in PubkeyAcceptedAlgorithms" ||
    { rsa_log; fail "rsa-sha2-512 was not tried first"; }
rsa_grep -qE "Accepted publickey for $ME .*: RSA $(re "$(rsa_fp "$S/user_rsa")")([^A-Za-z0-9+/]|$)" ||
    { rsa_log; fail "the ssh-rsa fallback did not log in"; }
kill "$RSA_SSHD_PID" 2>/dev/null || true
wait "$RSA_SSHD_PID" 2>/dev/null || true
# ------------------------------------------------------------ end RSA keys

log "authentication failure names the key"
expect_exit 5 sb snapshots --target "$URL" --ssh-key "$S/stranger" --known-hosts "$KH"
expect_error "authentication.*stranger"

log "connection refused, DNS failure"
DEADPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
expect_exit 5 sb snapshots --target "sftp://$ME@127.0.0.1:$DEADPORT/x" "${SSHO[@]}"
expect_error "127\.0\.0\.1 port $DEADPORT.*refused"
expect_exit 5 sb snapshots --target "sftp://$ME@no-such-host.invalid/x" "${SSHO[@]}"
expect_error "resolve host no-such-host\.invalid"

log "connection killed during a restore: reconnects and finishes"
head -c $((48 * 1024 * 1024)) /dev/urandom >"$SRC/big-restore.bin"
wait_next_second
sb_backup "$URL" "$SRC" --volsize 4 "${SSHO[@]}"
snapshot_copy "$SRC" 3
(
    for i in $(seq 300); do
        [ -e "$T/r3" ] && break
        sleep 0.02
    done
    kill_sessions
) &
KILLER=$!
sb_restore "$URL" "$T/r3" "${SSHO[@]}"
wait "$KILLER" || true
compare "$T/expect/3" "$T/r3"
grep -aq "reconnecting" "$LAST_ERR" || { cat "$LAST_ERR" >&2; fail "the restore did not reconnect"; }

log "connection dropped mid-upload: the upload starts again and the backup succeeds"
head -c $((50 * 1024 * 1024)) /dev/urandom >"$SRC/big-upload.bin"
wait_next_second
on_upload "$SRV" "vol2\\." kill_sessions
sb_backup "$URL" "$SRC" --volsize 5 "${SSHO[@]}"
wait "$KILLER" || true
grep -aEq "upload of .* interrupted: connection to 127\.0\.0\.1 lost" "$LAST_ERR" ||
    { cat "$LAST_ERR" >&2; fail "no warning about the dropped upload"; }
grep -aq "starting the upload of .* again (retry 1 of 3)" "$LAST_ERR" ||
    { cat "$LAST_ERR" >&2; fail "the dropped upload was not started again"; }
grep -aq "error:" "$LAST_ERR" && { cat "$LAST_ERR" >&2; fail "an error was reported for a recovered upload"; }
snapshot_copy "$SRC" 4
if ls -a "$SRV" | grep '^\.sealbox-tmp\.'; then fail "temporary files left on the server"; fi
expect_exit 0 sb verify --target "$URL" --sign-key "$SIGN_FPR" "${SSHO[@]}"
sb_restore "$URL" "$T/r4" "${SSHO[@]}"
compare "$T/expect/4" "$T/r4"

log "server gone mid-upload: reconnects with backoff, then exit 5; a rerun completes the chain"
head -c $((30 * 1024 * 1024)) /dev/urandom >"$SRC/big-upload2.bin"
wait_next_second
on_upload "$SRV" "vol2\\." sshd_stop
t0=$(date +%s)
expect_exit 5 sb backup --target "$URL" --encrypt-key "$ENC_FPR" --sign-key "$SIGN_FPR" \
    --volsize 5 "${SSHO[@]}" "$SRC"
t1=$(date +%s)
wait "$KILLER" || true
expect_error "127\.0\.0\.1 port $PORT.*refused"
grep -aq "reconnecting in 4 s" "$LAST_ERR" || { cat "$LAST_ERR" >&2; fail "no backoff before giving up"; }
[ $((t1 - t0)) -lt 60 ] || fail "gave up only after $((t1 - t0)) s"
sshd_start "$S/host1"
sb_backup "$URL" "$SRC" --volsize 5 "${SSHO[@]}"
snapshot_copy "$SRC" 5
if ls -a "$SRV" | grep '^\.sealbox-tmp\.'; then fail "temporary files left on the server"; fi
expect_exit 0 sb snapshots --target "$URL" "${SSHO[@]}"
expect_stdout_match "Backup chains: 1"
grep -aq "Incomplete" "$LAST_OUT" && { cat "$LAST_OUT" >&2; fail "incomplete sets left on the server"; }
expect_exit 0 sb verify --target "$URL" --sign-key "$SIGN_FPR" "${SSHO[@]}"
sb_restore "$URL" "$T/r5" "${SSHO[@]}"
compare "$T/expect/5" "$T/r5"

log "duplicity restores the sftp-written chain (the server's folder as file://)"
expect_exit 0 dup restore "file://$SRV" "$T/dup-r"
compare "$T/expect/5" "$T/dup-r" --ignore-symlink-mtime --ignore-root

log "changed host key: refused before authentication, nothing uploaded"
sshd_stop
sshd_start "$S/host2"
before=$(cd "$SRV" && ls -la --time-style=+%s . | sha256sum)
n_acc=$(accepted)
printf 'changed\n' >"$SRC/after-key-change.txt"
expect_exit 5 sb backup --target "$URL" --encrypt-key "$ENC_FPR" --sign-key "$SIGN_FPR" \
    "${SSHO[@]}" --accept-new-host-key "$SRC"
expect_error "HOST KEY .*CHANGED"
expect_error "$(re "$(ssh-keygen -l -E sha256 -f "$S/host2.pub" | awk '{print $2}')")"
after=$(cd "$SRV" && ls -la --time-style=+%s . | sha256sum)
[ "$before" = "$after" ] || fail "the server folder changed although the host key was wrong"
[ "$(accepted)" = "$n_acc" ] || fail "authenticated to a server with a changed host key"
grep -c "^\[127.0.0.1\]:$PORT " "$KH" | grep -qx 1 || fail "--accept-new-host-key added a changed key"
