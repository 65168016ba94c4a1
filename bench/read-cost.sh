#!/bin/bash
# bench/read-cost.sh - what a read costs as a chain grows, sealbox beside
# duplicity on the same chain, in one run (not part of the test suite; needs
# root for FUSE, duplicity, strace and bc).
#
#   bash bench/read-cost.sh [LENGTHS]        (default "1 10 40 100")
#
# Builds one chain: a full, then daily-style incrementals (a 20 MB random
# file with a few 4 KiB pages rewritten per run, 2,000 small text files with
# 20 of them touched per run). When the chain reaches each length it measures
#   one     restore of one small file that never changed (median of 3)
#   hot     restore of one small file changed in every set (median of 3)
#   fresh   the unchanged file again, from a machine with an empty archive dir
#   dup     duplicity restore of the unchanged file, same chain, warm
#           archive dir (its own, filled by one unmeasured run)
#   gpg     gpg processes that sealbox's one-file restore starts (strace)
#   mnt1    `sealbox mount` until the top folder lists, empty index cache
#   mnt2    the same, its index cache kept from mnt1
#   ttfb1   first byte of a small file through the mount, cold (first mount)
#   ttfb2   the same on the second mount (its index cache kept, no plaintext)
# Every restore is compared with the source's bytes. The archive dir is the
# one the backups filled (the user's machine); the encryption key's secret
# half is a file with a passphrase (the USB stick).
set -euo pipefail
lengths=${1:-"1 10 40 100"}
top=$(cd "$(dirname "$0")/.." && pwd)
sb=${SEALBOX:-$top/build-rel/sealbox}
if [ ! -x "$sb" ]; then
    cmake -S "$top" -B "$top/build-rel" -DCMAKE_BUILD_TYPE=Release -DSEALBOX_TESTS=OFF >/dev/null
    cmake --build "$top/build-rel" -j"$(nproc)" --target sealbox >/dev/null
fi
for c in duplicity strace bc fusermount3; do
    command -v $c >/dev/null || { echo "$c is needed" >&2; exit 1; }
done
W=$(mktemp -d /var/tmp/sbread.XXXXXX)
export GNUPGHOME=$W/gnupg XDG_RUNTIME_DIR=$W/run XDG_CACHE_HOME=$W/cache
mkdir -m 700 "$GNUPGHOME" "$XDG_RUNTIME_DIR"
MP=$W/mnt
mkdir "$MP"
MPID=
cleanup() {
    fusermount3 -u -z "$MP" 2>/dev/null || true
    [ -z "$MPID" ] || kill "$MPID" 2>/dev/null || true
    sleep 0.3
    gpgconf --homedir "$GNUPGHOME" --kill all 2>/dev/null || true
    gpgconf --homedir "$W/dupgnupg" --kill all 2>/dev/null || true
    if [ -n "${KEEP:-}" ]; then echo "kept $W" >&2; else rm -rf "$W"; fi
}
trap cleanup EXIT
log() { printf '### %s\n' "$*" >&2; }
now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }
median3() { printf '%s\n' "$@" | sort -g | sed -n 2p; }

# ---- keys: encryption key behind a passphrase, as kept on a USB stick
PASS="bench pass $RANDOM"
g() { gpg --batch --quiet --no-tty --pinentry-mode loopback "$@" 2>/dev/null; }
g --passphrase "$PASS" --quick-gen-key 'bench enc <e@bench>' ed25519 cert never
ENC=$(gpg --list-keys --with-colons 'bench enc' 2>/dev/null | awk -F: '/^fpr/{print $10; exit}')
g --passphrase "$PASS" --quick-add-key "$ENC" cv25519 encr never
g --passphrase '' --quick-gen-key 'bench sign <s@bench>' ed25519 sign never
SIGN=$(gpg --list-keys --with-colons 'bench sign' 2>/dev/null | awk -F: '/^fpr/{print $10; exit}')
g --passphrase "$PASS" --armor --export-secret-keys "$ENC" >"$W/enc-secret.asc"
# duplicity's own keyring: both secret keys, as duplicity needs them
mkdir -m 700 "$W/dupgnupg"
g --passphrase "$PASS" --armor --export-secret-keys "$SIGN" >"$W/sign-secret.asc"
GNUPGHOME=$W/dupgnupg g --passphrase "$PASS" --import "$W/enc-secret.asc" "$W/sign-secret.asc"
g --yes --delete-secret-keys "$ENC"
export SEALBOX_SIGN_PASSPHRASE='' SEALBOX_SECRET_PASSPHRASE=$PASS

# ---- the source
mkdir -p "$W/src/docs"
head -c 20M /dev/urandom >"$W/src/big.bin"
for i in $(seq 1 2000); do
    printf 'file %d\n%s\n' "$i" "$(head -c 600 /dev/urandom | base64 -w 76)" >"$W/src/docs/f$i.txt"
done
echo "this file never changes" >"$W/src/keep.txt"
KEEP_PATH=keep.txt HOT_PATH=docs/f1.txt
tgt=file://$W/tgt

change() { # one day's work
    local n=$1 i
    for i in 1 2 3 4; do
        dd if=/dev/urandom of="$W/src/big.bin" bs=4096 count=1 conv=notrunc \
            seek=$(((n * 7 + i * 131) % 5120)) status=none
    done
    echo "day $n" >>"$W/src/docs/f1.txt" # the hot file
    for i in $(seq 1 19); do echo "day $n" >>"$W/src/docs/f$(((n * 19 + i) % 1999 + 2)).txt"; done
}
backup() {
    "$sb" backup --quiet --target "$tgt" --encrypt-key "$ENC" --sign-key "$SIGN" "$W/src" >/dev/null
}

restore_one() { # PATH DEST [OPTS] -> seconds
    local t0 p=$1 d=$2
    shift 2
    t0=$(now)
    "$sb" restore --quiet --target "$tgt" --sign-key "$SIGN" --secret-key "$W/enc-secret.asc" \
        --path "$p" "$@" "$d" >/dev/null 2>&1
    since "$t0"
    cmp -s "$d" "$W/src/$p" || { echo "restore of $p gave other bytes" >&2; exit 1; }
}
launches() {
    strace -f -qq -e trace=execve -e signal=none -o "$W/trace" \
        "$sb" restore --quiet --target "$tgt" --sign-key "$SIGN" \
        --secret-key "$W/enc-secret.asc" --path "$KEEP_PATH" "$W/r-trace" >/dev/null
    rm -f "$W/r-trace"
    grep -c 'execve("[^"]*/\(gpg\|gpg2\|gpg-agent\|gpg-connect-agent\|gpgconf\|gpgsm\|pinentry[^"]*\)"' \
        "$W/trace" || true
}
dup_restore() { # DEST -> seconds
    local t0
    t0=$(now)
    GNUPGHOME=$W/dupgnupg PASSPHRASE=$PASS SIGN_PASSPHRASE=$PASS duplicity restore \
        --archive-dir "$W/duparch" --encrypt-key "$ENC" --sign-key "$SIGN" \
        --file-to-restore "$KEEP_PATH" "$tgt" "$1" >/dev/null 2>"$W/dup.err" ||
        { cat "$W/dup.err" >&2; echo "duplicity restore failed" >&2; exit 1; }
    since "$t0"
    cmp -s "$1" "$W/src/$KEEP_PATH" || { echo "duplicity restored other bytes" >&2; exit 1; }
}
mount_ready() { # INDEX_DIR -> seconds until the top folder lists
    local t0
    t0=$(now)
    "$sb" mount --foreground --target "$tgt" --sign-key "$SIGN" \
        --secret-key "$W/enc-secret.asc" --index-dir "$1" "$MP" >"$W/mount.log" 2>&1 &
    MPID=$!
    until mountpoint -q "$MP" && [ -n "$(ls "$MP" 2>/dev/null)" ]; do
        kill -0 "$MPID" 2>/dev/null || { cat "$W/mount.log" >&2; echo "mount failed" >&2; exit 1; }
        sleep 0.005
    done
    since "$t0"
}
mount_stop() {
    fusermount3 -u "$MP"
    wait "$MPID" 2>/dev/null || true
    MPID=
}

declare -a ROWS
sets=0
for want in $lengths; do
    log "building the chain up to $want set(s)"
    while [ "$sets" -lt "$want" ]; do
        [ "$sets" = 0 ] || change "$sets"
        backup
        sets=$((sets + 1))
        sleep 1 # set times are whole seconds
    done
    log "measuring at $want set(s)"
    a=() b=() d=()
    for k in 1 2 3; do
        a+=("$(restore_one "$KEEP_PATH" "$W/r1-$want-$k")")
        b+=("$(restore_one "$HOT_PATH" "$W/r2-$want-$k")")
    done
    # a machine with no archive dir yet (its own empty one)
    fresh=$(restore_one "$KEEP_PATH" "$W/r0-$want" --archive-dir "$W/fresh-$want")
    dup_restore "$W/d0-$want" >/dev/null # fills duplicity's archive dir
    for k in 1 2 3; do d+=("$(dup_restore "$W/d-$want-$k")"); done
    n_gpg=$(launches)
    rm -rf "$W/idx"
    m1=$(mount_ready "$W/idx")
    t0=$(now)
    head -c1 "$MP/latest/$KEEP_PATH" >/dev/null
    ttfb=$(since "$t0")
    cmp -s "$MP/latest/$HOT_PATH" "$W/src/$HOT_PATH" || { echo "mount shows other bytes" >&2; exit 1; }
    mount_stop
    m2=$(mount_ready "$W/idx")
    t0=$(now)
    head -c1 "$MP/latest/$KEEP_PATH" >/dev/null
    ttfb2=$(since "$t0")
    mount_stop
    one=$(median3 "${a[@]}") dup=$(median3 "${d[@]}")
    ROWS+=("$(printf '%6s %9.3f %9.3f %9.3f %9.2f %7.1fx %6s %9.2f %9.2f %9.3f %9.3f' "$want" \
        "$one" "$(median3 "${b[@]}")" "$fresh" "$dup" "$(echo "$dup / $one" | bc -l)" "$n_gpg" \
        "$m1" "$m2" "$ttfb" "$ttfb2")")
done
printf '\n%s cores; gpg %s; duplicity %s; seconds (restores: median of 3)\n' "$(nproc)" \
    "$(gpg --version | head -1 | awk '{print $3}')" "$(duplicity --version | awk '{print $2}')"
printf '%6s %9s %9s %9s %9s %8s %6s %9s %9s %9s %9s\n' sets one hot fresh dup dup/one gpg mnt1 mnt2 ttfb1 ttfb2
printf '%s\n' "${ROWS[@]}"
