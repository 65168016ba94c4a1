#!/bin/bash
# 90-ops: running sealbox unattended. The config file (`sealbox backup`
# alone; bad lines named FILE:LINE; sign-passphrase-file refused unless
# 0600), the statistics block, -q, --json, --log-file; the lock (a second
# backup refused at once naming the first one's pid, a killed run's lock
# taken over); prune (whole chains, the newest kept and still restorable by
# sealbox and duplicity, --dry-run removes nothing); man pages lint clean and
# match --help.
source "$(dirname "$0")/lib.sh"

make_keys "sign pass $RANDOM"
SIGN_PASS=$SEALBOX_SIGN_PASSPHRASE
SRC="$T/src"
make_tree "$SRC"
mkdir -p "$SRC/cache"
printf 'not wanted\n' >"$SRC/cache/junk"
TGT="$T/target"
URL="file://$TGT"
CONF="$XDG_CONFIG_HOME/sealbox/sealbox.conf"
mkdir -p "${CONF%/*}"
cat >"$CONF" <<EOF
# the nightly job
target = $URL
encrypt-key = $ENC_FPR
sign-key    = $SIGN_FPR

source = $SRC
exclude = $SRC/cache
exclude = $SRC/delete-me.txt
volsize = 1
EOF

log "config file: 'sealbox backup' alone"
run sb backup
expect_stats
[ "$(stat_value Errors)" = 0 ] || fail "backup reported errors"
[ "$(set_times "$TGT" | wc -l)" = 1 ] || fail "expected 1 set"
run sb restore --secret-key "$T/enc-secret.asc" "$T/r1"
[ ! -e "$T/r1/cache" ] && [ ! -e "$T/r1/delete-me.txt" ] || fail "config excludes were not applied"
[ -f "$T/r1/small.txt" ] || fail "restore via the config restored nothing"
expect_stdout_match '^Restored '
run sb snapshots --json
python3 -m json.tool <"$LAST_OUT" >/dev/null || fail "snapshots --json is not JSON"

log "command line wins over the config file; --no-config ignores it"
expect_exit 1 sb backup --volsize lots
expect_error 'volsize'
expect_exit 1 sb --no-config backup
expect_error 'target'

log "bad config lines name FILE:LINE"
printf 'target = %s\n\nfrobnicate = 1\n' "$URL" >"$T/bad1.conf"
expect_exit 1 sb backup --config "$T/bad1.conf"
expect_error "bad1\.conf:3: .*frobnicate"
printf '# x\nvolsize = lots\n' >"$T/bad2.conf"
expect_exit 1 sb --config "$T/bad2.conf" snapshots
expect_error "bad2\.conf:2: .*volsize"
printf 'target %s\n' "$URL" >"$T/bad3.conf"
expect_exit 1 sb snapshots --config="$T/bad3.conf"
expect_error "bad3\.conf:1:"
printf 'full = perhaps\n' >"$T/bad4.conf"
expect_exit 1 sb backup --config "$T/bad4.conf"
expect_error "bad4\.conf:1: .*full"
expect_exit 1 sb backup --config "$T/no-such.conf"
expect_error "no-such\.conf"

log "sign-passphrase-file: refused unless 0600, else used"
unset SEALBOX_SIGN_PASSPHRASE
printf '%s\n' "$SIGN_PASS" >"$T/sign.pass"
chmod 644 "$T/sign.pass"
printf 'sign-passphrase-file = %s\n' "$T/sign.pass" >>"$CONF"
wait_next_second
expect_exit 4 sb backup
expect_error 'sign\.pass.*(mode|0600)'
grep -q "$SIGN_PASS" "$LAST_ERR" "$LAST_OUT" && fail "the passphrase was printed"
chmod 600 "$T/sign.pass"
mutate_tree "$SRC" 1
run sb backup --json
python3 -m json.tool <"$LAST_OUT" >/dev/null || { cat "$LAST_OUT" >&2; fail "backup --json is not JSON"; }
python3 - "$LAST_OUT" <<'EOF' || fail "backup --json lacks fields"
import json, sys
d = json.load(open(sys.argv[1]))
for k in ("set", "type", "source_files", "new_files", "changed_files", "deleted_files",
          "total_destination_size_change", "errors", "elapsed_time"):
    assert k in d, k
assert d["type"] == "incremental" and d["errors"] == 0 and d["changed_files"] > 0
EOF
[ "$(set_times "$TGT" | wc -l)" = 2 ] || fail "expected 2 sets"
export SEALBOX_SIGN_PASSPHRASE=$SIGN_PASS

log "-q: errors only; --log-file: one line per run"
wait_next_second
run sb backup -q --log-file "$T/sealbox.log"
[ ! -s "$LAST_OUT" ] || { cat "$LAST_OUT" >&2; fail "-q printed something"; }
[ "$(wc -l <"$T/sealbox.log")" = 1 ] || fail "log file: not one line"
grep -Eq '^[0-9T:-]+Z backup\[[0-9]+\]: exit 0 \(ok\); incremental set .* files' "$T/sealbox.log" ||
    { cat "$T/sealbox.log" >&2; fail "log line format"; }
expect_exit 1 sb backup --log-file "$T/sealbox.log" --volsize 0
[ "$(wc -l <"$T/sealbox.log")" = 1 ] || fail "a usage error was logged as a run"

log "a second backup is refused at once, naming the first one's pid"
# a big sparse file keeps the first run busy (1 MiB volumes of zeros)
truncate -s 3G "$SRC/sparse.bin"
ARCH=$(dirname "$(find "$XDG_CACHE_HOME/sealbox" -name sealbox.db | head -1)")
[ -d "$ARCH" ] || fail "no archive dir"
bg_start "$SEALBOX" backup
FIRST=$BG_PID
for _ in $(seq 100); do
    [ -s "$ARCH/sealbox.lock" ] && [ "$(cat "$ARCH/sealbox.lock")" = "$FIRST" ] && break
    sleep 0.1
done
[ "$(cat "$ARCH/sealbox.lock" 2>/dev/null)" = "$FIRST" ] || fail "the first run did not take the lock"
start=$(date +%s)
expect_exit 9 sb backup
expect_error "pid $FIRST"
[ $(($(date +%s) - start)) -le 20 ] || fail "the second run was not refused quickly"
kill -0 "$FIRST" 2>/dev/null || fail "the first run ended too early for the test"
expect_exit 9 sb prune --keep-chains 1
expect_error "pid $FIRST"

log "a killed run's lock is taken over"
kill -KILL "$FIRST"
wait "$FIRST" 2>/dev/null || true
[ -f "$ARCH/sealbox.lock" ] || fail "the killed run left no lock file (test assumption)"
rm -f "$SRC/sparse.bin"
wait_next_second
run sb backup
expect_stats
[ ! -e "$ARCH/sealbox.lock" ] && [ ! -e "$TGT/.sealbox.lock" ] || fail "lock files left after a run"
snapshot_copy "$SRC" latest-chain1

log "prune: whole chains, never the newest"
wait_next_second
run sb backup --full
wait_next_second
mutate_tree "$SRC" 3
run sb backup
snapshot_copy "$SRC" newest
rm -rf "$T/expect/newest/cache"
touch -r "$SRC" "$T/expect/newest"
[ "$(ls "$TGT"/duplicity-full.*.manifest.gpg | wc -l)" = 2 ] || fail "expected 2 chains"
NEWEST=$(nth_time "$TGT" "$(set_times "$TGT" | wc -l)")
before=$(ls -A "$TGT" | sort)
before_arch=$(ls -A "$ARCH" | sort)
run sb prune --keep-chains 1 --dry-run
expect_stdout_match '^Would remove chain 1: '
expect_stdout_match 'duplicity-full\..*\.manifest\.gpg'
[ "$(ls -A "$TGT" | sort)" = "$before" ] || fail "--dry-run removed files"
[ "$(ls -A "$ARCH" | sort)" = "$before_arch" ] || fail "--dry-run removed local files"
printf 'keep-chains = 5\n' >>"$CONF"
run sb prune
expect_stdout_match '^Nothing to remove'
run sb prune --older-than 1D
expect_stdout_match '^Nothing to remove'
[ "$(ls -A "$TGT" | sort)" = "$before" ] || fail "--older-than 1D removed recent chains"
run sb prune --keep-chains 5
expect_stdout_match '^Nothing to remove'
expect_exit 1 sb --no-config prune --target "$URL"
expect_exit 1 sb prune --keep-chains 1 --older-than 1D
expect_exit 1 sb prune --keep-chains 0

run sb prune --keep-chains 1 --log-file "$T/sealbox.log"
expect_stdout_match '^Removed 1 chain\(s\), 4 set\(s\)'
[ "$(set_times "$TGT" | wc -l)" = 2 ] || { ls -l "$TGT" >&2; fail "prune: expected the 2 sets of the newest chain"; }
[ "$(ls "$TGT"/duplicity-full.*.manifest.gpg | wc -l)" = 1 ] || fail "prune: not one chain left"
[ "$(nth_time "$TGT" 2)" = "$NEWEST" ] || fail "prune removed the newest set"
[ "$(ls -A "$TGT" | grep -vcE '^(duplicity|sealbox)-(full|inc|new)')" = 0 ] || { ls -A "$TGT" >&2; fail "prune left odd files"; }
[ "$(ls "$ARCH" | grep -c 'manifest$')" = 2 ] || { ls "$ARCH" >&2; fail "prune: local copies not removed"; }
tail -1 "$T/sealbox.log" | grep -q 'prune\[[0-9]*\]: exit 0 (ok); 1 chain(s), 4 set(s)' ||
    { cat "$T/sealbox.log" >&2; fail "prune log line"; }

log "the kept chain restores with sealbox and with duplicity"
run sb restore --secret-key "$T/enc-secret.asc" "$T/r-newest"
compare "$T/expect/newest" "$T/r-newest"
run dup restore "$URL" "$T/d-newest"
compare "$T/expect/newest" "$T/d-newest" --ignore-symlink-mtime --ignore-root
if "$SEALBOX" verify --help >/dev/null 2>&1; then
    run sb verify   # the seals' hash chain starts at the oldest chain kept
fi
expect_exit 7 sb restore --secret-key "$T/enc-secret.asc" --time "$(iso $(($(nth_time "$TGT" 1) - 1)))" "$T/r-old"
run sb backup
expect_stats
[ "$(set_times "$TGT" | wc -l)" = 3 ] || fail "backup after prune did not continue the chain"
run sb verify --quick
grep -q '^note:' "$LAST_OUT" || fail "verify after a prune printed no note (the test no longer covers -q)"
run sb verify --quick -q
[ ! -s "$LAST_OUT" ] && [ ! -s "$LAST_ERR" ] ||
    { cat "$LAST_OUT" "$LAST_ERR" >&2; fail "verify --quick -q printed something on success"; }

log "secret-key in the config, the USB key unplugged: backup and verify --quick do not need it"
{ cat "$CONF"; echo "secret-key = $T/usb-unplugged/enc-secret.asc"; } >"$T/usb.conf"
wait_next_second
run sb --config "$T/usb.conf" backup
[ "$(set_times "$TGT" | wc -l)" = 4 ] || fail "backup with an unplugged secret key made no set"
run sb --config "$T/usb.conf" verify --quick

log "config: 'exclude = ~/...' is the home folder, '~user/...' is refused"
sed "s|^exclude = $SRC/cache\$|exclude = ~/$(basename "$SRC")/cache|" "$CONF" >"$T/tilde.conf"
grep -q '^exclude = ~/' "$T/tilde.conf" || fail "test set-up: no ~ exclude in tilde.conf"
wait_next_second
run env HOME="$(dirname "$SRC")" "$SEALBOX" --config "$T/tilde.conf" backup
expect_stats
[ "$(stat_value NewFiles)" = 0 ] || fail "exclude = ~/... excluded nothing (the cache folder was backed up)"
echo "exclude = ~nobody/x" >>"$T/tilde.conf"
expect_exit 1 sb --config "$T/tilde.conf" backup
expect_error "tilde\.conf:[0-9]+: .*not expanded"

log "cmake --install: binary, cron script, man pages, completion, systemd units"
[ -n "${SB_BUILD:-}" ] || fail "SB_BUILD (the build folder) is not set"
cmake --install "$SB_BUILD" --prefix "$T/prefix" >"$T/install.log" 2>&1 ||
    { cat "$T/install.log" >&2; fail "cmake --install failed"; }
for f in bin/sealbox bin/sealbox-cron libexec/sealbox/sealbox-gpg share/man/man1/sealbox.1 share/man/man5/sealbox.conf.5 \
         share/bash-completion/completions/sealbox lib/systemd/user/sealbox-backup.service \
         lib/systemd/user/sealbox-backup.timer; do
    [ -e "$T/prefix/$f" ] || fail "cmake --install did not install $f"
done
grep -qx "ExecStart=$T/prefix/bin/sealbox backup --syslog" "$T/prefix/lib/systemd/user/sealbox-backup.service" ||
    fail "the installed service unit does not name the installed binary"

log "installed sealbox-cron, run with cron's PATH: quiet backup, exit status passed through"
wait_next_second
expect_exit 0 env -u SEALBOX PATH=/usr/bin:/bin "$T/prefix/bin/sealbox-cron"
! grep -q StartTime "$LAST_OUT" || { cat "$LAST_OUT" >&2; fail "sealbox-cron: backup not quiet"; }
[ "$(set_times "$TGT" | wc -l)" = 6 ] || fail "sealbox-cron made no backup"
expect_exit 1 env -u SEALBOX PATH=/usr/bin:/bin "$T/prefix/bin/sealbox-cron" --config "$T/bad1.conf"
expect_error "bad1\.conf:3"

log "man pages: lint clean, --help options documented"
if command -v mandoc >/dev/null 2>&1; then
    for m in "$SB_ROOT"/man/*.[1-9]; do
        out=$(mandoc -Tlint -W warning "$m" 2>&1) || { printf '%s\n' "$out" >&2; fail "mandoc -Tlint $m"; }
    done
else
    log "mandoc missing: lint skipped"
fi
run sb umount --help
head -1 "$LAST_OUT" | grep -q '^usage: sealbox umount' || fail "sealbox umount --help is not umount's help"
! grep -q -- --target "$LAST_OUT" || fail "sealbox umount --help lists mount's options"
for cmd in backup restore snapshots prune umount verify mount ls find diff; do
    run sb "$cmd" --help
    for opt in $(grep -oE -- '--[a-z][a-z-]+' "$LAST_OUT" | sort -u); do
        grep -qE -- "Fl -${opt#--}( |$)" "$SB_ROOT/man/sealbox.1" ||
            fail "sealbox $cmd --help: $opt is not in sealbox(1)"
    done
done
