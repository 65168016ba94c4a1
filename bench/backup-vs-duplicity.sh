#!/bin/bash
# bench/backup-vs-duplicity.sh - sealbox against duplicity 0.8.22, same keys,
# same volume size, same data, in one run (not part of the test suite).
#
#   bash bench/backup-vs-duplicity.sh SOURCE_DIR [VOLSIZE_MIB]
#
# Measures, for each tool: full backup (wall, CPU of every process, peak RSS),
# an incremental after touching 1% of the files, an incremental with nothing
# changed, restore of one small file, restore of everything; target size.
# CPU is the machine's busy time during the step (from /proc/stat), so gpg's
# work counts; run it on an otherwise idle machine.
set -euo pipefail
src=$(realpath "${1:?usage: $0 SOURCE_DIR [VOLSIZE_MIB]}")
vol=${2:-200}
source "$(dirname "$0")/lib.sh"
bench_setup sbbench

cp -a "$src" "$W/src"
small=$(cd "$W/src" && find . -type f -size -8k | sed -n '100p' | sed 's|^\./||')

busy() { awk '/^cpu /{print $2+$3+$4+$7+$8}' /proc/stat; }
hz=$(getconf CLK_TCK)
# measure LABEL CMD...: one row "label wall cpu rss"
measure() {
    local label=$1 b0 b1 t0 t1 rss
    shift
    sync
    b0=$(busy)
    t0=$(date +%s.%N)
    /usr/bin/time -f %M -o "$W/rss" "$@" >"$W/out" 2>"$W/err" || { cat "$W/err" >&2; echo "FAILED: $*" >&2; exit 1; }
    t1=$(date +%s.%N)
    b1=$(busy)
    rss=$(tail -1 "$W/rss")
    printf '%-34s %8.2f %8.2f %9d\n' "$label" "$(echo "$t1 - $t0" | bc)" \
        "$(echo "($b1 - $b0) / $hz" | bc -l)" "$((rss / 1024))"
}
touch_1pct() { (cd "$W/src" && find . -type f | awk 'NR % 100 == 0' | while read -r f; do echo x >>"$f"; done); }

# wrappers, so /usr/bin/time measures one process tree each
cat >"$W/sbb" <<EOS
#!/bin/sh
exec "$sb" backup --target "$W/t-sb" --archive-dir "$W/a-sb" --encrypt-key "$ENC" --sign-key "$SIGN" --volsize "$vol" "$W/src"
EOS
cat >"$W/dpb" <<EOS
#!/bin/sh
exec duplicity "\$1" --encrypt-key "$ENC" --sign-key "$SIGN" --volsize "$vol" --archive-dir "$W/a-dup" --name b "$W/src" "file://$W/t-dup"
EOS
cat >"$W/dpr" <<EOS
#!/bin/sh
exec duplicity restore --encrypt-key "$ENC" --sign-key "$SIGN" --archive-dir "$W/a-dup" --name b "\$@"
EOS
chmod +x "$W/sbb" "$W/dpb" "$W/dpr"
sbb=$W/sbb dpb=$W/dpb dpr=$W/dpr

echo "data: $src ($(du -sh "$src" | cut -f1), $(find "$src" | wc -l) objects), volsize $vol MiB, $(nproc) cores"
printf '%-34s %8s %8s %9s\n' step wall_s cpu_s rss_MiB
measure "sealbox full" "$sbb"
measure "duplicity full" "$dpb" full
sleep 1; touch_1pct
measure "sealbox incr (1% touched)" "$sbb"
measure "duplicity incr (1% touched)" "$dpb" incremental
sleep 1
measure "sealbox incr (unchanged)" "$sbb"
measure "duplicity incr (unchanged)" "$dpb" incremental
measure "sealbox restore one file" "$sb" restore --target "$W/t-sb" --sign-key "$SIGN" --path "$small" "$W/r1-sb"
measure "duplicity restore one file" "$dpr" --file-to-restore "$small" "file://$W/t-dup" "$W/r1-dup"
measure "sealbox restore all" "$sb" restore --target "$W/t-sb" --sign-key "$SIGN" "$W/r-sb"
measure "duplicity restore all" "$dpr" "file://$W/t-dup" "$W/r-dup"
diff -r "$W/src" "$W/r-sb" >/dev/null && echo "sealbox restore: identical to the source"
echo "target size: sealbox $(du -sb "$W/t-sb" | cut -f1) bytes, duplicity $(du -sb "$W/t-dup" | cut -f1) bytes"
