#!/bin/bash
# bench/resume.sh - what an interrupted full backup costs when it resumes,
# sealbox against duplicity 0.8.22 in one run, same keys, data and volume
# size (not part of the test suite).
#
#   bash bench/resume.sh SOURCE_DIR [VOLSIZE_MIB] [KILL_PERCENT]
#
# For each tool: an uninterrupted full backup; then a full backup killed
# (SIGKILL to the whole process group) once KILL_PERCENT (default 50) of the
# volumes of its uninterrupted run are on the target, and the next run,
# which resumes. Prints the wall time of each step, the bytes the resumed
# run uploaded and the files in SOURCE it opened (strace --seccomp-bpf, so
# only openat stops the process), and checks that the resumed chain
# restores equal to SOURCE. duplicity's --volsize counts compressed bytes,
# sealbox's plaintext: the same VOLSIZE gives duplicity fewer volumes.
set -euo pipefail
src=$(realpath "${1:?usage: $0 SOURCE_DIR [VOLSIZE_MIB] [KILL_PERCENT]}")
vol=${2:-25}
source "$(dirname "$0")/lib.sh"
bench_setup sbresume
_bench_gpg --passphrase '' --armor --export-secret-keys "$ENC" >"$W/enc-secret.asc"
gpg-connect-agent /bye >/dev/null 2>&1 # running before strace -f starts

sbb() { "$sb" backup --target "$W/t-$1" --archive-dir "$W/a-$1" --encrypt-key "$ENC" \
    --sign-key "$SIGN" --volsize "$vol" "$src"; }
dpb() { duplicity full --encrypt-key "$ENC" --sign-key "$SIGN" --volsize "$vol" \
    --archive-dir "$W/a-$1" --name b "$src" "file://$W/t-$1"; }
now() { date +%s.%N; }
bytes() { du -sb "$1" | cut -f1; }
vols() { find "$1" -name '*.difftar.gpg' | wc -l; }

# killed TOOL NAME N: run TOOL's full backup into t-NAME, SIGKILL it (and its
# gpg helpers) once N volumes are there; prints the seconds it ran
killed() {
    local tool=$1 name=$2 n=$3 t0 pid
    mkdir -p "$W/t-$name"
    t0=$(now)
    setsid bash -c "$(declare -f sbb dpb); sb=$sb W=$W ENC=$ENC SIGN=$SIGN vol=$vol src=$src $tool $name" \
        >"$W/$name.killed.log" 2>&1 &
    pid=$!
    until [ "$(vols "$W/t-$name")" -ge "$n" ]; do
        kill -0 "$pid" 2>/dev/null || { echo "$tool finished before $n volumes" >&2; exit 1; }
        sleep 0.05
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    echo "$(now) - $t0" | bc
}

# resumed TOOL NAME: the next run, traced; prints "seconds uploaded_bytes opened_files"
resumed() {
    local tool=$1 name=$2 b0 t0 t1 opened
    b0=$(bytes "$W/t-$name")
    t0=$(now)
    strace -f -qq -y --seccomp-bpf -e trace=openat -o "$W/$name.trace" bash -c \
        "$(declare -f sbb dpb); sb=$sb W=$W ENC=$ENC SIGN=$SIGN vol=$vol src=$src $tool $name" \
        >"$W/$name.resume.log" 2>&1
    t1=$(now)
    # a regular file opened in SOURCE: by its path, or by a name under a folder fd there
    opened=$(grep -E "openat\((AT_FDCWD(<[^>]*>)?, \"$src/|[0-9]+<$src[/>])" "$W/$name.trace" |
        grep -v -e ENOENT -e O_DIRECTORY | grep -c . || true)
    echo "$(echo "$t1 - $t0" | bc) $(($(bytes "$W/t-$name") - b0)) $opened"
}

check() { # check NAME: the chain restores equal to the source
    rm -rf "$W/r"
    if [ "$1" = sb ] || [ "$1" = sbk ]; then
        "$sb" restore --target "$W/t-$1" --sign-key "$SIGN" --secret-key "$W/enc-secret.asc" \
            "$W/r" >/dev/null 2>&1
    else
        duplicity restore --encrypt-key "$ENC" --sign-key "$SIGN" --archive-dir "$W/a-$1" \
            --name b "file://$W/t-$1" "$W/r" >/dev/null 2>&1
    fi
    diff -r --no-dereference "$src" "$W/r" >/dev/null && echo same || echo DIFFERENT
}

nfiles=$(find "$src" -type f | wc -l)
echo "data: $src ($(du -sh "$src" | cut -f1), $nfiles files), volsize $vol MiB, $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
t0=$(now); sbb sb >/dev/null 2>&1; sb_full=$(echo "$(now) - $t0" | bc)
t0=$(now); dpb dp >/dev/null 2>&1; dp_full=$(echo "$(now) - $t0" | bc)
pct=${3:-50}
ks=$(($(vols "$W/t-sb") * pct / 100)) kd=$(($(vols "$W/t-dp") * pct / 100))
[ "$ks" -ge 1 ] && [ "$kd" -ge 1 ] || { echo "too few volumes: give a smaller VOLSIZE" >&2; exit 1; }
echo "uninterrupted: sealbox ${sb_full}s ($(vols "$W/t-sb") volumes, $(bytes "$W/t-sb") bytes), duplicity ${dp_full}s ($(vols "$W/t-dp") volumes, $(bytes "$W/t-dp") bytes); killed once $pct% of the volumes are on the target (sealbox $ks, duplicity $kd)"
printf '%-10s %10s %10s %14s %12s %8s\n' tool killed_s resumed_s resumed_bytes opened_files restore
sk=$(killed sbb sbk "$ks")
read -r sr sbytes sopen <<<"$(resumed sbb sbk)"
printf '%-10s %10.2f %10.2f %14d %12d %8s\n' sealbox "$sk" "$sr" "$sbytes" "$sopen" "$(check sbk)"
dk=$(killed dpb dpk "$kd")
read -r dr dbytes dopen <<<"$(resumed dpb dpk)"
printf '%-10s %10.2f %10.2f %14d %12d %8s\n' duplicity "$dk" "$dr" "$dbytes" "$dopen" "$(check dpk)"
