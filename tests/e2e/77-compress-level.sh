#!/bin/bash
# 77-compress-level: gpg compresses the volumes at sealbox's level (default
# 3; --compress-level N or 'compress-level = N' in the config), through the
# sealbox-gpg launcher, whatever gpg.conf says; level 0 stores them
# uncompressed. Every level's chain restores byte for byte with sealbox and
# with duplicity. Bad levels are refused naming the option or the config
# line; the launcher refuses to be run by hand; an installed sealbox finds
# its installed launcher; one without a launcher still backs up (gpg's level).
source "$(dirname "$0")/lib.sh"

make_keys
SRC="$T/src"
mkdir -p "$SRC/words"
# text that compresses (words from a fixed list), and data that does not
python3 - "$SRC/words" <<'PY'
import random, sys
r = random.Random(77)
words = [''.join(r.choice('abcdefghijklmnopqrstuvwxyz') for _ in range(r.randint(2, 9)))
         for _ in range(3000)]
for i in range(40):
    with open('%s/t%02d.txt' % (sys.argv[1], i), 'w') as f:
        f.write(' '.join(r.choice(words) for _ in range(25000)) + '\n')
PY
head -c $((512 * 1024)) /dev/urandom >"$SRC/random.bin"
snapshot_copy "$SRC" 0

# vols TARGET: bytes of its volumes
vols() { cat "$1"/*.difftar.gpg | wc -c; }
backup_to() { # backup_to NAME [OPTS...]
    local name=$1
    shift
    mkdir -p "$T/$name"
    sb_backup "file://$T/$name" "$SRC" "$@"
}

log "levels 0, 1, 3 (the default), 9: sizes in that order"
backup_to l3
backup_to l0 --compress-level 0
backup_to l1 --compress-level 1
printf 'compress-level = 9\n' >"$T/nine.conf"
mkdir -p "$T/l9"
run sb --config "$T/nine.conf" backup --target "file://$T/l9" --encrypt-key "$ENC_FPR" \
    --sign-key "$SIGN_FPR" "$SRC"
s0=$(vols "$T/l0") s1=$(vols "$T/l1") s3=$(vols "$T/l3") s9=$(vols "$T/l9")
log "volume bytes: level 0 $s0, 1 $s1, 3 $s3, 9 $s9"
[ "$s0" -gt $((s1 * 3 / 2)) ] || fail "level 0 ($s0 bytes) is not uncompressed next to level 1 ($s1)"
[ "$s1" -gt "$s3" ] || fail "level 1 ($s1 bytes) is not larger than level 3 ($s3)"
[ "$s3" -gt "$s9" ] || fail "level 3 ($s3 bytes) is not larger than level 9 ($s9)"

log "sealbox's level wins over gpg.conf's"
cp "$GNUPGHOME/gpg.conf" "$T/gpg.conf.saved" 2>/dev/null || true
printf 'compress-level 0\n' >>"$GNUPGHOME/gpg.conf"
backup_to conf3
sc=$(vols "$T/conf3")
[ "$sc" -lt $((s0 / 2)) ] || fail "with gpg.conf's compress-level 0, volumes of $sc bytes (level 3: $s3)"
if [ -f "$T/gpg.conf.saved" ]; then cp "$T/gpg.conf.saved" "$GNUPGHOME/gpg.conf"; else rm -f "$GNUPGHOME/gpg.conf"; fi

log "every level restores: sealbox (0, 1, 3, 9), duplicity (0 and 9)"
for l in 0 1 3 9; do
    rm -rf "$T/r$l"
    sb_restore "file://$T/l$l" "$T/r$l"
    compare "$T/expect/0" "$T/r$l" --ignore-root
done
if command -v duplicity >/dev/null; then
    for l in 0 9; do
        rm -rf "$T/d$l"
        run dup restore "file://$T/l$l" "$T/d$l"
        compare "$T/expect/0" "$T/d$l" --ignore-root
    done
else
    log "no duplicity: its restores not tried"
fi

log "bad levels: refused, naming the option or the config line"
expect_exit 1 sb backup --target "file://$T/bad" --encrypt-key "$ENC_FPR" --sign-key "$SIGN_FPR" \
    --compress-level 10 "$SRC"
expect_error "compress-level '10'"
printf 'compress-level = fast\n' >"$T/bad.conf"
expect_exit 1 sb --config "$T/bad.conf" backup --target "file://$T/bad" \
    --encrypt-key "$ENC_FPR" --sign-key "$SIGN_FPR" "$SRC"
expect_error "bad\.conf:1"
[ ! -e "$T/bad" ] || [ -z "$(ls -A "$T/bad")" ] || fail "a refused backup wrote to its target"

log "the launcher, run by hand, refuses"
LAUNCHER="$(dirname "$SEALBOX")/sealbox-gpg"
[ -x "$LAUNCHER" ] || fail "no $LAUNCHER beside $SEALBOX"
expect_exit 2 "$LAUNCHER" --version
expect_stderr_match 'not by hand'
expect_exit 2 env SEALBOX_GPG=gpg SEALBOX_GPG_COMPRESS_LEVEL=3 "$LAUNCHER" --version
expect_exit 2 env SEALBOX_GPG=/usr/bin/gpg SEALBOX_GPG_COMPRESS_LEVEL=10 "$LAUNCHER" --version

log "installed: sealbox finds the installed launcher (level 0 shows it)"
[ -n "${SB_BUILD:-}" ] || fail "SB_BUILD (the build folder) is not set"
cmake --install "$SB_BUILD" --prefix "$T/prefix" >"$T/install.log" 2>&1 ||
    { cat "$T/install.log" >&2; fail "cmake --install failed"; }
[ -x "$T/prefix/libexec/sealbox/sealbox-gpg" ] || fail "cmake --install did not install sealbox-gpg"
mkdir -p "$T/inst0"
SEALBOX="$T/prefix/bin/sealbox" sb_backup "file://$T/inst0" "$SRC" --compress-level 0
si=$(vols "$T/inst0")
[ "$si" -gt $((s1 * 3 / 2)) ] || fail "the installed sealbox ignored --compress-level 0 ($si bytes)"

log "no launcher beside it: the backup still runs, at gpg's level"
mkdir -p "$T/alone/bin" "$T/noln"
cp "$SEALBOX" "$T/alone/bin/sealbox"
SEALBOX="$T/alone/bin/sealbox" sb_backup "file://$T/noln" "$SRC" --compress-level 0 -v
expect_stderr_match 'no sealbox-gpg beside'
sn=$(vols "$T/noln")
[ "$sn" -lt $((s0 / 2)) ] || fail "without the launcher, volumes of $sn bytes (gpg's level expected)"
rm -rf "$T/rn"
sb_restore "file://$T/noln" "$T/rn"
compare "$T/expect/0" "$T/rn" --ignore-root
