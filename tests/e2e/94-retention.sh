#!/bin/bash
# 94-retention: prune's retention rules on whole chains. Four chains are
# made a second or more apart (times come from the clock), and TZ is set to
# a zone whose midnight falls between chain 1 and chain 2, so that "days"
# are under the test's control. --dry-run names every chain with its
# reasons and removes nothing; rules on the command line replace the config
# file's; a real prune removes exactly the files the dry run listed (here a
# chain between two kept ones), never the newest; the kept chains restore,
# and verify accepts the gap in the seals' hash chain as a note, as prune
# recorded it in the archive dir, while a chain removed by hand is a broken
# hash chain (exit 17).
source "$(dirname "$0")/lib.sh"

make_keys
SRC="$T/src"
make_tree "$SRC"
TGT="$T/target"
URL="file://$TGT"
ARCH="$T/arch"
last_time() { set_times "$TGT" | tail -1; }
version() { # version N: change the source for chain N
    printf 'chain %s\n' "$1" >"$SRC/version.txt"
    head -c 20000 /dev/urandom >"$SRC/random-$1.bin"
}

log "four chains: full+inc, full, full, full+inc"
version 1
sb_backup "$URL" "$SRC" --archive-dir "$ARCH"
wait_next_second
printf 'inc of chain 1\n' >"$SRC/inc1.txt"
sb_backup "$URL" "$SRC" --archive-dir "$ARCH"
snapshot_copy "$SRC" c1
E1=$(last_time)
for n in 2 3 4; do
    wait_next_second
    version $n
    sb_backup "$URL" "$SRC" --archive-dir "$ARCH" --full
    eval "E$n=\$(last_time)"
done
wait_next_second
printf 'inc of chain 4\n' >"$SRC/inc4.txt"
sb_backup "$URL" "$SRC" --archive-dir "$ARCH"
snapshot_copy "$SRC" c4
E4=$(last_time)
[ "$(ls "$TGT"/duplicity-full.*.manifest.gpg | wc -l)" = 4 ] || fail "expected 4 chains"
[ "$(set_times "$TGT" | wc -l)" = 6 ] || fail "expected 6 sets"

# A zone whose midnight is E2 (the end of chain 2): chain 1 ends the day
# before, chains 2..4 end on the same day. POSIX TZ: local = UTC - offset.
off=$((E2 % 86400))
export TZ=$(printf 'RET+%02d:%02d:%02d' $((off / 3600)) $((off % 3600 / 60)) $((off % 60)))
D1=$(date -d "@$E1" +%F)
D2=$(date -d "@$E2" +%F)
[ "$D1" != "$D2" ] && [ "$(date -d "@$E4" +%F)" = "$D2" ] && [ "$(date -d "@$E2" +%T)" = 00:00:00 ] ||
    fail "test setup: TZ=$TZ does not split the chains' days ($D1, $D2)"

CONF="$T/sealbox.conf"
cat >"$CONF" <<CONF
target = $URL
archive-dir = $ARCH
keep-daily = 2
CONF
before=$(cd "$TGT" && ls -A | sort)
before_arch=$(cd "$ARCH" && ls -A | sort)

log "dry run, the config file's keep-daily 2: chains 1 and 4 stay, 2 and 3 go"
run sb --config "$CONF" prune --dry-run
cp "$LAST_OUT" "$T/dry.out"
expect_stdout_match "^Keeping chain 1: .*: daily $D1\$"
expect_stdout_match "^Would remove chain 2: .*, 1 set\(s\): no rule keeps it; day $D2 has a newer chain\$"
expect_stdout_match "^Would remove chain 3: .*: no rule keeps it; day $D2 has a newer chain\$"
expect_stdout_match "^Keeping chain 4: .*, 2 set\(s\): the newest chain; daily $D2\$"
expect_stdout_match '^Would remove 2 chain\(s\), 2 set\(s\), .*; 2 chain\(s\) kept\.$'
[ "$(grep -c '^Keeping\|^Would remove chain' "$LAST_OUT")" = 4 ] || fail "not one line per chain"
[ "$(cd "$TGT" && ls -A | sort)" = "$before" ] || fail "--dry-run removed files"
[ "$(cd "$ARCH" && ls -A | sort)" = "$before_arch" ] || fail "--dry-run removed local files"

log "rules on the command line replace the config file's: keep-within"
W=$((E4 - E3))
run sb --config "$CONF" prune --dry-run --keep-within "${W}s"
expect_stdout_match "^Would remove chain 1: .*: no rule keeps it; more than ${W}s before the newest\$"
expect_stdout_match "^Would remove chain 2: .*: no rule keeps it; more than ${W}s before the newest\$"
expect_stdout_match "^Keeping chain 3: .*: within ${W}s of the newest \(keep-within\)\$"
expect_stdout_match "^Keeping chain 4: .*: the newest chain; within ${W}s of the newest"
run sb --config "$CONF" prune --dry-run --keep-yearly 1 --keep-monthly 1 --keep-weekly 1
expect_stdout_match "^Keeping chain 4: .*: the newest chain; .*monthly $(date -d "@$E4" +%Y-%m); yearly $(date -d "@$E4" +%Y)\$"
[ "$(grep -c '^Would remove chain' "$LAST_OUT")" = 3 ] || fail "keep-yearly/monthly/weekly 1 kept more than the newest"

log "bad rules are refused"
expect_exit 1 sb --config "$CONF" prune --keep-daily 0
expect_error 'keep-daily'
expect_exit 1 sb --config "$CONF" prune --keep-within soon
expect_error 'keep-within'
expect_exit 1 sb --config "$CONF" prune --keep-weekly 2 --older-than 1D
expect_error 'older-than'
printf 'keep-monthly = many\n' >"$T/bad.conf"
expect_exit 1 sb --config "$T/bad.conf" prune --target "$URL"
expect_error 'bad\.conf:1: .*keep-monthly'
[ "$(cd "$TGT" && ls -A | sort)" = "$before" ] || fail "a refused prune removed files"

log "a chain removed by hand, not by prune: verify reports a broken hash chain"
rm -rf "$T/cut" "$T/cut-arch"
cp -a "$TGT" "$T/cut"
cp -a "$ARCH" "$T/cut-arch"
t2=$(date -u -d "@$E2" +%Y%m%dT%H%M%SZ)
rm "$T/cut"/*"$t2"*
expect_exit 17 sb verify --target "file://$T/cut" --sign-key "$SIGN_FPR" --archive-dir "$T/cut-arch"
expect_stdout_match '^chain: sealbox-full\..*: .*removed by someone else$'

log "the real prune removes exactly what the dry run listed"
run sb --config "$CONF" prune
expect_stdout_match '^Removed 2 chain\(s\), 2 set\(s\)'
listed=$(grep -E '^  duplicity-|^  sealbox-' "$T/dry.out" | sed 's/^  //' | sort)
[ -n "$listed" ] || fail "the dry run listed no remote file"
gone=$(comm -23 <(printf '%s\n' "$before") <(cd "$TGT" && ls -A | sort))
[ "$gone" = "$listed" ] || { diff <(echo "$listed") <(echo "$gone") >&2; fail "removed files differ from the dry run's list"; }
[ -z "$(comm -13 <(printf '%s\n' "$before") <(cd "$TGT" && ls -A | sort))" ] || fail "prune added files"
[ "$(set_times "$TGT" | wc -l)" = 4 ] || fail "expected the 4 sets of chains 1 and 4"
set_times "$TGT" | grep -qx "$E1" || fail "chain 1 (kept by keep-daily) was removed"
set_times "$TGT" | grep -qx "$E4" || fail "the newest chain was removed"
! set_times "$TGT" | grep -qx "$E2" && ! set_times "$TGT" | grep -qx "$E3" || fail "chains 2 and 3 are still there"
[ "$(ls "$ARCH" | grep -c 'manifest$')" = 4 ] || { ls "$ARCH" >&2; fail "local copies of removed sets were not removed"; }

log "the kept chains restore; verify notes the removed chains"
sb_restore "$URL" "$T/r1" --archive-dir "$ARCH" --time "$(iso "$E1")"
compare "$T/expect/c1" "$T/r1"
sb_restore "$URL" "$T/r4" --archive-dir "$ARCH"
compare "$T/expect/c4" "$T/r4"
run sb verify --target "$URL" --sign-key "$SIGN_FPR" --archive-dir "$ARCH"
expect_stdout_match '^note: sealbox-full\..*: .*chain\(s\) between .* were removed by prune on this machine$'
expect_stdout_match ': OK$'
run sb verify --target "$URL" --sign-key "$SIGN_FPR" --archive-dir "$T/elsewhere"
expect_stdout_match '^note: sealbox-full\..*: .*chain\(s\) between .* were removed \(no archive dir of the backup here'

log "again: nothing to remove; the newest chain stays whatever the rules"
run sb --config "$CONF" prune
expect_stdout_match '^Nothing to remove: 2 chain\(s\)'
# the newest chain must be more than 1 s old here, so that only its being
# the newest keeps it (right after the backups it may not be yet)
wait_next_second 2.1
run sb --config "$CONF" prune --older-than 1s --dry-run
expect_stdout_match "^Keeping chain 2: .*: the newest chain\$"
expect_stdout_match "^Would remove chain 1: .*: no rule keeps it; older than 1s\$"
