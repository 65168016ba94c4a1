#!/bin/bash
# bench/s3-throughput.sh - upload and download throughput of sealbox's s3://
# transport over loopback, against Debian's awscli (`aws s3 cp`) moving the
# same bytes to the same server in the same run: a private OpenStack Swift
# with s3api, started as the e2e tests start it (tests/e2e/s3lib.sh; root,
# packages swift swift-proxy swift-object swift-container swift-account
# memcached awscli), stopped at exit.
#
#   bench/s3-throughput.sh [BUILD_DIR]
#
# BUILD_DIR: a configured and built sealbox tree (default: ./build); the
# driver bench/sftp_xfer.c (which takes any target URL) is compiled against
# its transport and base layers, so the code measured is the transport
# backups and restores use. Rows: one 1 GiB object (sealbox: multipart in
# 64 MiB parts, one at a time; aws: 8 MiB parts, 10 at a time), and the same
# bytes as VOL_MB volumes uploaded two at a time (as `sealbox backup` does)
# against `aws s3 cp --recursive`. Environment: SIZE_MB (default 1024),
# VOL_MB (default 128), REPS (best of, default 1), S3_PART_MIB (sealbox's
# part size, default the transport's 64).
#
# Measured 2026-12-06 on the 2 shared cores of the build machine, others
# building and testing meanwhile (so +-30%), Swift 2.30 and awscli 2.9.19:
#   upload, one 1 GiB object         sealbox  78 MiB/s   aws s3 cp  60 MiB/s
#   download, one 1 GiB object       sealbox 207 MiB/s   aws s3 cp  70 MiB/s
#   upload, 8 x 128 MiB (2 at once)  sealbox  97 MiB/s   aws s3 cp  56 MiB/s
#   download, 8 x 128 MiB            sealbox 165 MiB/s   aws s3 cp  64 MiB/s
# Smaller parts cost Swift more (each part is a segment object): 50 MiB
# volumes two at a time went at 64-99 MiB/s in 64 MiB parts (one PUT each),
# 43-48 MiB/s in 8 MiB parts.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
SIZE_MB=${SIZE_MB:-1024}
VOL_MB=${VOL_MB:-128}
REPS=${REPS:-1}
[ -f "$BUILD/backup/libsb_transport.a" ] || { echo "no libsb_transport.a in $BUILD" >&2; exit 2; }

export SB_NO_SEALBOX=1
source "$ROOT/tests/e2e/lib.sh"
source "$ROOT/tests/e2e/s3lib.sh"
swift_setup
command -v "$AWS_CLI" >/dev/null || skip "needs awscli"
echo "against $("$AWS_CLI" --version 2>&1)" >&2
set +E
trap - ERR

echo "building the driver..." >&2
cc -O2 -D_GNU_SOURCE -I"$ROOT/include" "$HERE/sftp_xfer.c" "$BUILD/backup/libsb_transport.a" \
    "$BUILD/backup/libsb_base.a" $(pkg-config --libs libssh2 libcurl libcrypto zlib) -lpthread \
    -o "$T/xfer"

echo "starting Swift..." >&2
swift_start
aws_s3 s3 mb s3://bench >/dev/null

mkdir -p "$T/data/one" "$T/data/vols" "$T/dl"
head -c "$((SIZE_MB * 1024 * 1024))" /dev/urandom >"$T/data/one/big"
NVOL=$(((SIZE_MB + VOL_MB - 1) / VOL_MB))
VOLS=()
for i in $(seq "$NVOL"); do
    dd if="$T/data/one/big" of="$T/data/vols/vol$i" bs=1M skip=$(((i - 1) * VOL_MB)) \
        count="$VOL_MB" status=none
    VOLS+=("vol$i")
done
TOTAL=$((SIZE_MB * 1024 * 1024))

now() { date +%s.%N; }
# best LABEL CMD...: the best MiB/s of REPS runs.
ROWS=()
best() {
    local label=$1 t0 t1 r b=0
    shift
    for _ in $(seq "$REPS"); do
        sync
        t0=$(now)
        "$@" >/dev/null 2>"$T/err" || { cat "$T/err" >&2; fail "$label failed"; }
        t1=$(now)
        r=$(python3 -c "print('%.0f' % ($TOTAL / 1048576 / ($t1 - $t0)))")
        [ "$r" -gt "$b" ] && b=$r
    done
    ROWS+=("$(printf '%-58s %6s MiB/s' "$label" "$b")")
}
same() { cmp -s "$1" "$2" || fail "$2 differs from $1"; }

cd "$T/data/one"
best "sealbox upload, one 1 GiB object" "$T/xfer" put s3://bench/sb x x 1 big
best "aws s3 cp upload, one 1 GiB object" aws_s3 s3 cp --quiet big s3://bench/aws/big
rm -f "$T/dl/big"
best "sealbox download, one 1 GiB object" "$T/xfer" get s3://bench/sb x x "$T/dl" big
same big "$T/dl/big"
rm -f "$T/dl/big"
best "aws s3 cp download, one 1 GiB object" aws_s3 s3 cp --quiet s3://bench/aws/big "$T/dl/big"
same big "$T/dl/big"
rm -f "$T/dl/big"

cd "$T/data/vols"
best "sealbox upload, $NVOL x $VOL_MB MiB, 2 at a time (backup)" "$T/xfer" put s3://bench/sbv x x 2 "${VOLS[@]}"
best "aws s3 cp --recursive upload, $NVOL x $VOL_MB MiB" aws_s3 s3 cp --quiet --recursive . s3://bench/awsv/
mkdir -p "$T/dlv"
best "sealbox download, $NVOL x $VOL_MB MiB, 2 at a time (restore)" env GET_THREADS=2 "$T/xfer" get s3://bench/sbv x x "$T/dlv" "${VOLS[@]}"
for v in "${VOLS[@]}"; do same "$v" "$T/dlv/$v"; done
rm -rf "$T/dlv"
best "aws s3 cp --recursive download, $NVOL x $VOL_MB MiB" aws_s3 s3 cp --quiet --recursive s3://bench/awsv/ "$T/dlv/"
for v in "${VOLS[@]}"; do same "$v" "$T/dlv/$v"; done

printf '%s\n' "${ROWS[@]}"
