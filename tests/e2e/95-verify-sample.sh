#!/bin/bash
# 95-verify-sample: `verify --sample PERCENT|SIZE` reads a random share of
# the data files (volumes, signatures) and names each in a note; 100% reads
# all and catches a flipped byte in any volume; a small sample reads fewer
# bytes; manifests, indexes and seals are read and sizes checked whatever
# the sample; bad values are refused; the config file's `sample` applies.
source "$(dirname "$0")/lib.sh"

make_keys
SRC="$T/src"
make_tree "$SRC"
head -c $((5 * 1048576)) /dev/urandom >"$SRC/random.bin"
GOOD="$T/pristine"
ARCH="$T/arch"
mkdir "$GOOD"
sb_backup "file://$GOOD" "$SRC" --volsize 1 --archive-dir "$ARCH"
wait_next_second
head -c $((2 * 1048576)) /dev/urandom >"$SRC/random2.bin"
sb_backup "file://$GOOD" "$SRC" --volsize 1 --archive-dir "$ARCH"
DATA=$(cd "$GOOD" && ls | grep -E '\.(difftar|sigtar)\.gpg$')
N=$(printf '%s\n' "$DATA" | wc -l)
[ "$N" -ge 8 ] || { ls -l "$GOOD" >&2; fail "expected 8 or more data files, got $N"; }

verify() { # verify TARGET [OPTS...]
    local tgt=$1
    shift
    _run sb verify --target "file://$tgt" --sign-key "$SIGN_FPR" --archive-dir "$ARCH" "$@"
}
mib_read() { sed -nE 's/.* ([0-9.]+) MiB read.*/\1/p' "$LAST_OUT"; }
sampled() { sed -nE 's/^note: (.*): sampled: read and checked$/\1/p' "$LAST_OUT" | sort; }
copy() { rm -rf "$T/t"; cp -a "$GOOD" "$T/t"; }

log "no sample: everything read; 100%: the same, each data file named"
verify "$GOOD"
[ "$LAST_RC" = 0 ] || { _show_last verify; fail "verify of a good target failed"; }
ALL=$(mib_read)
verify "$GOOD" --sample 100%
[ "$LAST_RC" = 0 ] || { _show_last verify; fail "verify --sample 100% failed"; }
expect_stdout_match "sampled $N of $N data file\(s\) \(.*\): OK\$"
[ "$(sampled)" = "$(printf '%s\n' "$DATA" | sort)" ] || { _show_last verify; fail "100%: not every data file named"; }
[ "$(mib_read)" = "$ALL" ] || fail "100% read $(mib_read) MiB, a full verify $ALL"

log "a small sample reads one data file, and fewer bytes"
verify "$GOOD" --sample 1K
[ "$LAST_RC" = 0 ] || { _show_last verify; fail "verify --sample 1K failed"; }
expect_stdout_match "sampled 1 of $N data file\(s\) \(.*\): OK\$"
[ "$(sampled | wc -l)" = 1 ] || fail "1K: not one data file named"
python3 -c "import sys; sys.exit(0 if float('$(mib_read)') < float('$ALL') * 0.5 else 1)" ||
    fail "1K read $(mib_read) MiB of $ALL"
verify "$GOOD" --sample 30%
k=$(sampled | wc -l)
[ "$k" -ge 1 ] && [ "$k" -lt "$N" ] || fail "30%: $k of $N data files"
expect_stdout_match "sampled $k of $N data file\(s\)"

log "a flipped byte in a volume: 100% always finds it; a small sample when it reads it"
copy
VOL=$(cd "$T/t" && ls duplicity-full.*.vol3.difftar.gpg)
flip_byte "$T/t/$VOL"
verify "$T/t" --sample 100%
[ "$LAST_RC" = 13 ] || { _show_last verify; fail "--sample 100%: a flipped byte: exit $LAST_RC, not 13"; }
grep -q "^modified: ${VOL//./\\.}: " "$LAST_OUT" || { _show_last verify; fail "no modified line for $VOL"; }
for _ in 1 2 3 4 5 6; do
    verify "$T/t" --sample 1K
    if sampled | grep -qx "$VOL"; then
        [ "$LAST_RC" = 13 ] || { _show_last verify; fail "the flipped volume was sampled but not caught"; }
    else
        [ "$LAST_RC" = 0 ] || { _show_last verify; fail "exit $LAST_RC without reading the flipped volume"; }
    fi
done

log "manifests, indexes and seals are read, sizes checked, whatever the sample"
for glob in 'duplicity-full.*.manifest.gpg' 'duplicity-inc.*.manifest.gpg' \
    'sealbox-full.*.index.gpg' 'sealbox-inc.*.seal.asc'; do
    copy
    f=$(cd "$T/t" && ls $glob)
    flip_byte "$T/t/$f"
    verify "$T/t" --sample 1K
    [ "$LAST_RC" = 13 ] || { _show_last verify; fail "$f flipped, --sample 1K: exit $LAST_RC, not 13"; }
    grep -q "^modified: ${f//./\\.}: " "$LAST_OUT" || { _show_last verify; fail "no modified line for $f"; }
done
copy
VOL=$(cd "$T/t" && ls duplicity-inc.*.vol1.difftar.gpg)
truncate -s 1000 "$T/t/$VOL"
verify "$T/t" --sample 1K
[ "$LAST_RC" = 14 ] || { _show_last verify; fail "a truncated volume, --sample 1K: exit $LAST_RC, not 14"; }

log "bad values; --quick and --sample do not mix; the config file's sample"
for bad in 0% 101% lots 0 -5%; do
    expect_exit 1 sb verify --target "file://$GOOD" --sign-key "$SIGN_FPR" --sample "$bad"
    expect_error 'sample'
done
expect_exit 1 sb verify --target "file://$GOOD" --sign-key "$SIGN_FPR" --quick --sample 5%
expect_error 'quick'
printf 'sample = 100%%\n' >"$T/sample.conf"
verify "$GOOD" --config "$T/sample.conf"
[ "$LAST_RC" = 0 ] || { _show_last verify; fail "sample in the config file: exit $LAST_RC"; }
expect_stdout_match "sampled $N of $N data file\(s\)"
