#!/bin/bash
# 66-sftp-mount: sealbox mount of a chain on an sftp:// target (a real
# OpenSSH sshd on 127.0.0.1): every snapshot equals the source at its time;
# the mount logs in once and keeps that session; when the connection drops
# it reconnects on the next read without an error; while the server is down
# a read fails with EIO after the bounded retries (it does not hang), and the
# same file reads correctly once the server is back; nothing is left on the
# server or below the runtime folder after umount. Prune over sftp removes
# the old chain whole and the new one still verifies and restores.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/mountlib.sh"
source "$(dirname "$0")/sshlib.sh"
need_fuse
ssh_setup
trust_host "$S/host1"
sshd_start "$S/host1"
SRV="$T/server/backups"
mkdir -p "$SRV"
URL="sftp://$ME@127.0.0.1:$PORT$SRV"
SSHO=(--ssh-key "$S/user_ed25519" --known-hosts "$KH")

make_keys
SRC="$T/src"
make_tree "$SRC"
head -c $((6 * 1024 * 1024)) /dev/urandom >"$SRC/big1.bin"
sb_backup "$URL" "$SRC" --volsize 1 "${SSHO[@]}"
snapshot_copy "$SRC" 1
wait_next_second
mutate_tree "$SRC" 1
head -c $((6 * 1024 * 1024)) /dev/urandom >"$SRC/big2.bin"
head -c $((6 * 1024 * 1024)) /dev/urandom >"$SRC/big3.bin"
head -c $((3 * 1024 * 1024)) /dev/urandom >"$SRC/zz-late.bin" # read first while the server is down
sb_backup "$URL" "$SRC" --volsize 1 "${SSHO[@]}"
snapshot_copy "$SRC" 2
mapfile -t TIMES < <(set_times "$SRV")
[ ${#TIMES[@]} = 2 ] || fail "expected 2 sets on the server"

NVOLS=$(ls "$SRV" | grep -c 'difftar\.gpg$')
watch_opens "$SRV"
log "restore of one small file fetches only its volume ($NVOLS on the server)"
m=$(log_mark)
sb_restore "$URL" "$T/r-one" "${SSHO[@]}" --path dir1/one.txt
cmp "$T/expect/2/dir1/one.txt" "$T/r-one/one.txt" 2>/dev/null ||
    cmp "$T/expect/2/dir1/one.txt" "$T/r-one" || fail "restored one.txt differs"
got=$(opened_since "$m" 'difftar\.gpg$')
log "volumes opened: $got"
[ "$got" -ge 1 ] && [ "$got" -le 2 ] || fail "restore of one file opened $got of $NVOLS volumes"

MP="$T/mnt"
log "mount over sftp; the first snapshot equals the source at its time"
n0=$(accepted)
m=$(log_mark)
sb_mount "$URL" "$MP" "${SSHO[@]}"
expect_stdout_match 'Mounted 2 snapshot'
cmp "$T/expect/2/small.txt" "$MP/latest/small.txt" || fail "small.txt differs"
got=$(opened_since "$m" 'difftar\.gpg$')
log "volumes opened to mount and read small.txt: $got"
[ "$got" -le 2 ] || fail "the mount opened $got of $NVOLS volumes to read one small file"
mcompare "$T/expect/1" "$(snap_dir "$MP" "${TIMES[0]}")"
S2=$(snap_dir "$MP" "${TIMES[1]}")
cmp "$T/expect/2/big2.bin" "$S2/big2.bin" || fail "big2.bin differs"
n1=$(accepted)
log "logins for the mount and its reads: $((n1 - n0))"
[ $((n1 - n0)) = 1 ] || fail "the mount logged in $((n1 - n0)) times (one session expected)"
sessions=$(descendants "$SSHD_PID" | wc -l)

log "the connection drops: the next read reconnects, no error"
kill_sessions
sleep 0.5
cmp "$T/expect/2/big3.bin" "$S2/big3.bin" || fail "big3.bin differs after a reconnect"
n2=$(accepted)
[ $((n2 - n1)) = 1 ] || fail "expected one new login after the drop, got $((n2 - n1))"

log "server down: a read fails with EIO after the retries (no hang), and works once it is back"
sshd_stop
t0=$(date +%s)
_run timeout 120 cat "$S2/zz-late.bin"
t1=$(date +%s)
[ "$LAST_RC" != 124 ] || fail "a read hung while the server was down"
[ "$LAST_RC" != 0 ] || fail "zz-late.bin was served although the server is down"
grep -q 'Input/output error' "$LAST_ERR" || { cat "$LAST_ERR" >&2; fail "not EIO"; }
log "the failed read took $((t1 - t0)) s"
[ $((t1 - t0)) -lt 20 ] || fail "the failed read took $((t1 - t0)) s"
sshd_start "$S/host1"
cmp "$T/expect/2/zz-late.bin" "$S2/zz-late.bin" || fail "zz-late.bin differs once the server is back"
mcompare "$T/expect/2" "$S2"
mcompare "$T/expect/2" "$MP/latest/"

log "umount: nothing left behind"
sb_umount "$MP"
if ls -a "$SRV" | grep '^\.sealbox-tmp\.'; then fail "temporary files on the server"; fi
[ "$sessions" -ge 1 ] || fail "no session while mounted"

log "prune over sftp: a new chain, then the old one removed whole"
wait_next_second
sb_backup "$URL" "$SRC" --full --volsize 1 "${SSHO[@]}"
snapshot_copy "$SRC" 3
expect_exit 0 sb prune --target "$URL" --keep-chains 1 "${SSHO[@]}"
[ "$(set_times "$SRV" | wc -l)" = 1 ] || { ls "$SRV" >&2; fail "the old chain is still on the server"; }
expect_exit 0 sb snapshots --target "$URL" "${SSHO[@]}"
expect_stdout_match "Backup chains: 1"
expect_exit 0 sb verify --target "$URL" --sign-key "$SIGN_FPR" "${SSHO[@]}"
sb_restore "$URL" "$T/r3" "${SSHO[@]}"
compare "$T/expect/3" "$T/r3"
