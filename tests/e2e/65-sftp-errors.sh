#!/bin/bash
# 65-sftp-errors: what the server refuses, against a real OpenSSH sshd on
# 127.0.0.1. Permission denied (the remote user `nobody`, sftp only, on a
# folder it cannot write or cannot read) and a full disk on the server (a
# 4 MiB tmpfs) each give exit 5 and one error line naming the file and the
# cause; a full server leaves no temporary file behind, no set is recorded,
# and once there is room the next backup completes the chain.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/sshlib.sh"
need_root "a tmpfs for the full server, the remote user nobody"
ssh_setup
# nobody reads its authorized_keys with its own rights: outside the 0700 $S
PUB="$T/pub"
mkdir -p "$PUB"
cp "$S/user_ed25519.pub" "$PUB/authorized_keys"
chmod 755 "$PUB"
chmod 644 "$PUB/authorized_keys"
SSHD_EXTRA="Match User nobody
    AuthorizedKeysFile $PUB/authorized_keys
    ForceCommand internal-sftp"
trust_host "$S/host1"
sshd_start "$S/host1"
SSHO=(--ssh-key "$S/user_ed25519" --known-hosts "$KH")

make_keys
SRC="$T/src"
make_tree "$SRC"

log "permission denied: a folder the remote user cannot write"
RO="$T/server/ro"
mkdir -p "$RO"
chmod 755 "$T/server" "$RO"
expect_exit 5 sb backup --target "sftp://nobody@127.0.0.1:$PORT$RO" --encrypt-key "$ENC_FPR" \
    --sign-key "$SIGN_FPR" "${SSHO[@]}" "$SRC"
expect_error "permission denied on the server"
expect_error "sftp://nobody@127\.0\.0\.1:$PORT$RO"
[ -z "$(ls -A "$RO")" ] || fail "something was written to the read-only folder"

log "permission denied: a folder the remote user cannot read"
sb_backup "sftp://root@127.0.0.1:$PORT$RO" "$SRC" "${SSHO[@]}"
chmod 700 "$RO"
expect_exit 5 sb snapshots --target "sftp://nobody@127.0.0.1:$PORT$RO" "${SSHO[@]}"
expect_error "permission denied on the server"
expect_exit 5 sb restore --target "sftp://nobody@127.0.0.1:$PORT$RO" --sign-key "$SIGN_FPR" \
    --secret-key "$T/enc-secret.asc" "${SSHO[@]}" "$T/r-denied"
expect_error "permission denied on the server"
[ ! -e "$T/r-denied" ] || [ -z "$(ls -A "$T/r-denied")" ] || fail "restore wrote files"

log "disk full on the server: exit 5, the cause named, no temporary file left"
FULL="$T/server/full"
mkdir -p "$FULL"
mount -t tmpfs -o size=4m,mode=0755 sealbox-test "$FULL" || skip "cannot mount a tmpfs"
URL="sftp://root@127.0.0.1:$PORT$FULL"
head -c $((8 * 1024 * 1024)) /dev/urandom >"$SRC/too-big.bin"
expect_exit 5 sb backup --target "$URL" --encrypt-key "$ENC_FPR" --sign-key "$SIGN_FPR" \
    --volsize 1 "${SSHO[@]}" "$SRC"
expect_error "no space left on the server|disk full"
expect_error "duplicity-full\.[0-9TZ]*\.vol[0-9]*\.difftar\.gpg"
cp "$LAST_ERR" "$T/full.err"
if ls -a "$FULL" | grep '^\.sealbox-tmp\.'; then fail "temporary files left on the full server"; fi
ls "$FULL" | grep -q 'manifest' && fail "a manifest was written although volumes failed"
expect_exit 0 sb snapshots --target "$URL" "${SSHO[@]}"
expect_stdout_match "No backups"
expect_stdout_match "Incomplete sets .*: 1"

log "room again: the next backup resumes the set (the volumes that fit stay) and completes the chain"
rm "$SRC/too-big.bin"
sb_backup "$URL" "$SRC" --volsize 1 "${SSHO[@]}"
expect_stderr_match "resuming the interrupted backup duplicity-full|removing the incomplete set"
snapshot_copy "$SRC" 1
if ls -a "$FULL" | grep '^\.sealbox-tmp\.'; then fail "temporary files left on the server"; fi
expect_exit 0 sb verify --target "$URL" --sign-key "$SIGN_FPR" "${SSHO[@]}"
sb_restore "$URL" "$T/r1" "${SSHO[@]}"
# the root folder went into the first volume before too-big.bin was removed
compare "$T/expect/1" "$T/r1" --ignore-root
umount "$FULL"
