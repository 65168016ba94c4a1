#!/bin/bash
# bench/mount.sh - `sealbox mount` against `restic mount` and `borg mount` of
# the same data, in one run (not part of the test suite; needs root for
# drop_caches, FUSE, and restic/borg installed to compare with them).
#
#   bash bench/mount.sh [TREE_DIR] [BIG_DIR]
#
# TREE_DIR (default /work/benchdata/tree) is a many-file tree, BIG_DIR
# (default /work/benchdata/big) holds large files. Each tool backs up each
# folder once into its own repository, then, for each tool:
#   mount     command to usable mount (the top folder lists), TREE repo
#   ttfb      first byte of a small file, just after mounting (cold)
#   ls cold   ls -lR of the latest snapshot, kernel caches dropped
#   ls warm   the same again
#   find      find | wc -l of the latest snapshot (warm)
#   cat MB/s  cat of every file of BIG_DIR, fresh mount, caches dropped
#   RSS       peak RSS of the mount process (max of both mounts)
# and gpg --decrypt of sealbox's volumes of BIG_DIR, one after another, as
# the baseline for cat. Every mount runs in the foreground of a background
# job so that its process can be measured.
set -euo pipefail
tree=$(realpath "${1:-/work/benchdata/tree}")
big=$(realpath "${2:-/work/benchdata/big}")
top=$(cd "$(dirname "$0")/.." && pwd)
sb=${SEALBOX:-$top/build-rel/sealbox}
if [ ! -x "$sb" ]; then
    cmake -S "$top" -B "$top/build-rel" -DCMAKE_BUILD_TYPE=Release -DSEALBOX_TESTS=OFF >/dev/null
    cmake --build "$top/build-rel" -j"$(nproc)" --target sealbox >/dev/null
fi
[ "$(id -u)" = 0 ] || { echo "run as root (drop_caches)" >&2; exit 1; }
W=$(mktemp -d /var/tmp/sbmount.XXXXXX)
export GNUPGHOME=$W/gnupg XDG_RUNTIME_DIR=$W/run XDG_CACHE_HOME=$W/cache
mkdir -m 700 "$GNUPGHOME" "$XDG_RUNTIME_DIR"
MP=$W/mnt
mkdir "$MP"
PIDS=()
cleanup() {
    local p
    fusermount3 -u -z "$MP" 2>/dev/null || true
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    sleep 0.5
    gpgconf --homedir "$GNUPGHOME" --kill all 2>/dev/null || true
    rm -rf "$W"
}
trap cleanup EXIT
g() { gpg --batch --quiet --no-tty --pinentry-mode loopback --passphrase '' "$@" 2>/dev/null; }
g --quick-gen-key 'bench enc <e@bench>' ed25519 cert never
ENC=$(gpg --list-keys --with-colons 'bench enc' | awk -F: '/^fpr/{print $10; exit}')
g --quick-add-key "$ENC" cv25519 encr never
g --quick-gen-key 'bench sign <s@bench>' ed25519 sign never
SIGN=$(gpg --list-keys --with-colons 'bench sign' | awk -F: '/^fpr/{print $10; exit}')
g --armor --export-secret-keys "$ENC" >"$W/enc-secret.asc"
g --yes --delete-secret-keys "$ENC"
export SEALBOX_SIGN_PASSPHRASE='' SEALBOX_SECRET_PASSPHRASE=''
export RESTIC_PASSWORD=bench BORG_PASSPHRASE=bench BORG_RELOCATED_REPO_ACCESS_IS_OK=yes
have_restic=$(command -v restic >/dev/null && echo 1 || echo 0)
have_borg=$(command -v borg >/dev/null && echo 1 || echo 0)

now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }
drop() { sync; echo 3 >/proc/sys/vm/drop_caches; }
small=$(cd "$tree" && find . -type f -size -8k | sed -n '1000p' | sed 's|^\./||')
bigbytes=$(du -sb "$big" | cut -f1)

log() { printf '### %s\n' "$*" >&2; }
log "backups (not measured)"
for d in tree big; do
    src=$tree
    [ $d = big ] && src=$big
    "$sb" backup --target "$W/sb-$d" --archive-dir "$W/a-$d" --encrypt-key "$ENC" \
        --sign-key "$SIGN" "$src" >/dev/null
    if [ "$have_restic" = 1 ]; then
        restic -q init -r "$W/restic-$d" >/dev/null
        restic -q -r "$W/restic-$d" backup "$src" >/dev/null
    fi
    if [ "$have_borg" = 1 ]; then
        borg init -e repokey "$W/borg-$d" >/dev/null 2>&1
        borg create "$W/borg-$d::snap" "$src" >/dev/null 2>&1
    fi
done

# start_mount TOOL REPO: mount in a background job; sets MPID, and ELAPSED
# to the seconds until the mount point lists.
start_mount() {
    local tool=$1 repo=$2 t0
    drop
    t0=$(now)
    case $tool in
    sealbox) "$sb" mount --foreground --target "$repo" --sign-key "$SIGN" \
        --secret-key "$W/enc-secret.asc" "$MP" >"$W/mount.log" 2>&1 & ;;
    restic) restic -r "$repo" mount "$MP" >"$W/mount.log" 2>&1 & ;;
    borg) borg mount -f "$repo::snap" "$MP" >"$W/mount.log" 2>&1 & ;;
    esac
    MPID=$!
    PIDS+=("$MPID")
    until mountpoint -q "$MP" && [ -n "$(ls "$MP" 2>/dev/null)" ]; do
        kill -0 "$MPID" 2>/dev/null || { cat "$W/mount.log" >&2; echo "$tool mount failed" >&2; exit 1; }
        sleep 0.01
    done
    ELAPSED=$(since "$t0")
}
stop_mount() {
    fusermount3 -u "$MP"
    wait "$MPID" 2>/dev/null || true
}
# root of the latest snapshot of SRC inside the mount, per tool
latest() {
    case $1 in
    sealbox) echo "$MP/latest" ;;
    restic) echo "$MP/snapshots/latest$2" ;;
    borg) echo "$MP${2}" ;;
    esac
}
hwm() { awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$MPID/status"; }

declare -A R
tools="sealbox"
[ "$have_restic" = 1 ] && tools="$tools restic"
[ "$have_borg" = 1 ] && tools="$tools borg"
for tool in $tools; do
    log "$tool: tree"
    repo=$W/$tool-tree
    [ $tool = sealbox ] && repo=$W/sb-tree
    start_mount $tool "$repo"
    R[$tool.mount]=$ELAPSED
    root=$(latest $tool "$tree")
    t0=$(now)
    head -c1 "$root/$small" >/dev/null
    R[$tool.ttfb]=$(since "$t0")
    drop
    t0=$(now)
    ls -lR "$root/" >/dev/null
    R[$tool.lscold]=$(since "$t0")
    t0=$(now)
    ls -lR "$root/" >/dev/null
    R[$tool.lswarm]=$(since "$t0")
    t0=$(now)
    R[$tool.files]=$(find "$root/" | wc -l)
    R[$tool.find]=$(since "$t0")
    R[$tool.rss]=$(hwm)
    stop_mount

    log "$tool: big files"
    repo=$W/$tool-big
    [ $tool = sealbox ] && repo=$W/sb-big
    start_mount $tool "$repo"
    root=$(latest $tool "$big")
    drop
    t0=$(now)
    cat "$root"/* >/dev/null
    R[$tool.cat]=$(echo "$bigbytes / 1048576 / $(since "$t0")" | bc -l)
    rss=$(hwm)
    [ "$rss" -gt "${R[$tool.rss]}" ] && R[$tool.rss]=$rss
    stop_mount
done

log "gpg --decrypt of sealbox's volumes of the big files"
g --import "$W/enc-secret.asc"
drop
t0=$(now)
for v in "$W"/sb-big/duplicity-full.*.difftar.gpg; do g --decrypt "$v" >/dev/null; done
gpgrate=$(echo "$bigbytes / 1048576 / $(since "$t0")" | bc -l)

printf '\n%s files in the tree (%s), %s MB of big files, %s CPUs\n' \
    "$(find "$tree" | wc -l)" "$(du -sh "$tree" | cut -f1)" "$((bigbytes / 1048576))" "$(nproc)"
printf '%-28s' ""
for tool in $tools; do printf '%12s' "$tool"; done
printf '\n'
row() { # row LABEL KEY FORMAT
    printf '%-28s' "$1"
    for tool in $tools; do printf "%12$3" "${R[$tool.$2]}"; done
    printf '\n'
}
row "mount ready (s)" mount .2f
row "first byte, small file (s)" ttfb .3f
row "ls -lR latest, cold (s)" lscold .2f
row "ls -lR latest, warm (s)" lswarm .2f
row "find | wc -l (s)" find .2f
row "  entries found" files d
row "cat big files (MB/s)" cat .0f
row "mount peak RSS (MB)" rss d
printf '%-28s%12.0f\n' "gpg --decrypt volumes (MB/s)" "$gpgrate"
[ "$have_restic" = 1 ] || echo "restic: not installed (apt-get install restic)"
[ "$have_borg" = 1 ] || echo "borg: not installed (apt-get install borgbackup)"
