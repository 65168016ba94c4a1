#!/bin/bash
# bench/sftp-throughput.sh - upload and download throughput of sealbox's sftp
# transport over loopback, against OpenSSH's own sftp and scp moving the same
# files to the same server in the same run.
#
#   bench/sftp-throughput.sh [BUILD_DIR]
#
# BUILD_DIR: a configured and built sealbox tree (default: ./build); the
# driver bench/sftp_xfer.c is compiled against its transport and base layers
# (backup/libsb_transport.a, backup/libsb_base.a), so the
# code measured is the transport backups and restores use (uploads from two
# threads on two SSH sessions, as `sealbox backup` does). Besides MiB/s, each
# row gives the client's CPU seconds per GiB moved.
# Environment: SIZE_MB (total, default 1024), VOL_MB (per volume, default
# 128), BENCH_DIR (where data and the server folder live, default /tmp;
# BENCH_DIR=/dev/shm takes the disk out of the measurement).
# Starts a private sshd on 127.0.0.1 (stopped at exit); needs ssh-keygen,
# sshd, sftp, scp; as root it creates /run/sshd if missing.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
SIZE_MB=${SIZE_MB:-1024}
VOL_MB=${VOL_MB:-128}
W=$(mktemp -d "${BENCH_DIR:-/tmp}/sbbench.XXXXXX")
SSHD_PID=
cleanup() {
    [ -n "$SSHD_PID" ] && kill "$SSHD_PID" 2>/dev/null && wait "$SSHD_PID" 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT

for c in /usr/sbin/sshd ssh-keygen sftp scp cc pkg-config; do
    command -v "$c" >/dev/null || { echo "needs $c" >&2; exit 2; }
done
[ -f "$BUILD/backup/libsb_transport.a" "$BUILD/backup/libsb_base.a" ] || { echo "no libsealbox_core.a in $BUILD" >&2; exit 2; }
mkdir -p /run/sshd 2>/dev/null || true

echo "building the driver..." >&2
cc -O2 -D_GNU_SOURCE -I"$ROOT/include" "$HERE/sftp_xfer.c" "$BUILD/backup/libsb_transport.a" "$BUILD/backup/libsb_base.a" \
    $(pkg-config --libs libssh2 libcrypto zlib) -lpthread -o "$W/sftp_xfer"

S="$W/ssh"
mkdir -p "$S" "$W/data" "$W/srv" "$W/dl"
chmod 700 "$S"
ssh-keygen -q -t ed25519 -N '' -f "$S/host"
ssh-keygen -q -t ed25519 -N '' -f "$S/user"
cp "$S/user.pub" "$S/authorized_keys"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$S/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $PORT
HostKey $S/host
AuthorizedKeysFile $S/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile $S/sshd.pid
Subsystem sftp internal-sftp
EOF
/usr/sbin/sshd -f "$S/sshd_config" -D -e 2>"$S/sshd.log" &
SSHD_PID=$!
for _ in $(seq 100); do
    python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' \
        "$PORT" 2>/dev/null && break
    sleep 0.1
done
echo "[127.0.0.1]:$PORT $(cut -d' ' -f1,2 "$S/host.pub")" >"$S/known_hosts"
ME=$(id -un)
URL="sftp://$ME@127.0.0.1:$PORT$W/srv"
SSHOPTS=(-i "$S/user" -o UserKnownHostsFile="$S/known_hosts" -o BatchMode=yes
    -o StrictHostKeyChecking=yes -o LogLevel=ERROR)

NVOL=$(((SIZE_MB + VOL_MB - 1) / VOL_MB))
echo "writing $NVOL volumes of $VOL_MB MiB (random, like ciphertext)..." >&2
NAMES=()
for i in $(seq "$NVOL"); do
    head -c "$((VOL_MB * 1024 * 1024))" /dev/urandom >"$W/data/vol$i"
    NAMES+=("vol$i")
done
TOTAL=$((NVOL * VOL_MB * 1024 * 1024))

clear_srv() { rm -rf "$W/srv" "$W/dl" && mkdir -p "$W/srv" "$W/dl"; }
now() { date +%s.%N; }
mbps() { python3 -c "import sys; print('%.0f' % ($TOTAL / 1048576 / float(sys.argv[1])))" "$1"; }
ROWS=()
row() { ROWS+=("$(printf '%-50s %-9s %8s %14s' "$1" "$2" "$3" "$4")"); }
# timed LABEL DIR CMD...: MiB/s, and the client's CPU seconds (user + system,
# its children included: OpenSSH's sftp runs ssh) per GiB moved.
# child_cpu: CPU seconds of this shell's finished children (times, in this shell).
child_cpu() {
    times >"$W/times"
    awk 'NR == 2 { gsub(/s/, ""); split($1, u, "m"); split($2, s, "m"); print u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$W/times"
}
timed() {
    local label=$1 dir=$2 t0 t1 c0 c1 cpu
    shift 2
    sync
    child_cpu >"$W/c0"
    t0=$(now)
    "$@" >/dev/null
    t1=$(now)
    child_cpu >"$W/c1"
    c0=$(cat "$W/c0")
    c1=$(cat "$W/c1")
    cpu=$(python3 -c "print('%.2f' % (($c1 - $c0) / ($TOTAL / 1073741824)))")
    row "$label" "$dir" "$(mbps "$(python3 -c "print($t1 - $t0)")")" "$cpu"
}
verify() { for n in "${NAMES[@]}"; do cmp -s "$W/data/$n" "$1/$n" || { echo "$1/$n differs" >&2; exit 1; }; done; }

cd "$W/data"
# sealbox: as `sealbox backup` uploads (two packer workers, two SSH
# sessions), then variants; downloads one at a time (verify, the mount) and
# two at once (restore's read-ahead), on one session as restore does.
clear_srv
SESSIONS=2 timed "sealbox backup (2 sessions, 2 upload threads)" upload "$W/sftp_xfer" put "$URL" "$S/known_hosts" "$S/user" 2 "${NAMES[@]}"
verify "$W/srv"
clear_srv
SESSIONS=1 timed "sealbox (1 session, 2 upload threads)" upload "$W/sftp_xfer" put "$URL" "$S/known_hosts" "$S/user" 2 "${NAMES[@]}"
clear_srv
SESSIONS=1 timed "sealbox (1 session, 1 upload thread)" upload "$W/sftp_xfer" put "$URL" "$S/known_hosts" "$S/user" 1 "${NAMES[@]}"
SESSIONS=1 GET_THREADS=1 timed "sealbox (1 download at a time)" download "$W/sftp_xfer" get "$URL" "$S/known_hosts" "$S/user" "$W/dl" "${NAMES[@]}"
verify "$W/dl"
rm -f "$W/dl"/*
SESSIONS=1 GET_THREADS=2 timed "sealbox restore (2 downloads at once)" download "$W/sftp_xfer" get "$URL" "$S/known_hosts" "$S/user" "$W/dl" "${NAMES[@]}"
verify "$W/dl"

ossh_sftp() { # ossh_sftp put|get [ssh options...]
    local op=$1 n
    shift
    {
        if [ "$op" = put ]; then
            for n in "${NAMES[@]}"; do echo "put $W/data/$n $W/srv/$n"; done
        else
            for n in "${NAMES[@]}"; do echo "get $W/srv/$n $W/dl/$n"; done
        fi
    } >"$W/batch"
    sftp -q -b "$W/batch" -P "$PORT" "${SSHOPTS[@]}" "$@" "$ME@127.0.0.1" >/dev/null
}
for variant in default "aes128-ctr hmac-sha2-256"; do
    if [ "$variant" = default ]; then
        opts=()
        label="OpenSSH sftp (defaults: chacha20-poly1305)"
    else
        opts=(-o Ciphers=aes128-ctr -o MACs=hmac-sha2-256)
        label="OpenSSH sftp (aes128-ctr, hmac-sha2-256)"
    fi
    clear_srv
    timed "$label" upload ossh_sftp put "${opts[@]}"
    timed "$label" download ossh_sftp get "${opts[@]}"
    verify "$W/dl"
done
clear_srv
timed "OpenSSH scp (sftp protocol)" upload scp -q -P "$PORT" "${SSHOPTS[@]}" "${NAMES[@]}" "$ME@127.0.0.1:$W/srv/"
timed "OpenSSH scp (sftp protocol)" download scp -q -P "$PORT" "${SSHOPTS[@]}" $(printf "$ME@127.0.0.1:$W/srv/%s " "${NAMES[@]}") "$W/dl/"
verify "$W/dl"

echo
echo "sftp throughput over loopback, $NVOL x $VOL_MB MiB = $((TOTAL / 1048576)) MiB, MB/s = MiB/s"
printf '%-50s %-9s %8s %14s\n' "client" "direction" "MiB/s" "client CPU s/GiB"
printf '%s\n' "${ROWS[@]}"
