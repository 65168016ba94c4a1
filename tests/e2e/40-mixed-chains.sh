#!/bin/bash
# 40-mixed-chains: one chain, two writers.
#  A: sealbox full -> duplicity incremental (duplicity syncs its empty archive
#     dir from the target, decrypting sealbox's manifests and signatures) ->
#     sealbox incremental with --secret-key (sealbox must pick up the set
#     duplicity added, which its own cache does not know).
#  B: duplicity full + incremental -> sealbox incremental using duplicity's
#     archive dir for that target (--archive-dir $DUP_ARCHIVE/<name>) ->
#     duplicity incremental -> sealbox incremental with --secret-key and an
#     empty archive dir.
# At the end both tools restore every set of each chain equal to the copy
# of the source taken when it was written.
source "$(dirname "$0")/lib.sh"
need_cmd duplicity

make_keys
SRC="$T/src"
make_tree "$SRC"
step=0

# remember the source as the newest set of target DIR
remember() { step=$((step + 1)); snapshot_copy "$SRC" "$step"; EXPECT["$1:$(nth_time "$1" "$(set_times "$1" | wc -l)")"]=$step; }
declare -A EXPECT

# check_all DIR: every set of DIR restores equal to its copy, with both tools.
check_all() {
    local dir=$1 url="file://$1" t n
    for t in $(set_times "$dir"); do
        n=${EXPECT["$dir:$t"]:-}
        [ -n "$n" ] || fail "$dir: unexpected set at $(iso "$t")"
        rm -rf "$T/rs" "$T/rd"
        # duplicity's sets carry no seal: after a sealed set, read only when allowed
        sb_restore "$url" "$T/rs" --time "$t" --allow-unsealed
        compare "$T/expect/$n" "$T/rs" --ignore-root
        DUP_ARCHIVE="$T/dupcache-restore" run dup restore --time "$t" "$url" "$T/rd"
        compare "$T/expect/$n" "$T/rd" --ignore-root --ignore-symlink-mtime
    done
}

log "A: sealbox full"
A="$T/target-a"
mkdir "$A"
sb_backup "file://$A" "$SRC" --volsize 1 --archive-dir "$T/sbcache-a"
remember "$A"

log "A: duplicity incremental on sealbox's chain (fresh archive dir, secret key)"
wait_next_second
mutate_tree "$SRC" 1
DUP_GNUPGHOME="$ALL_GNUPGHOME" run dup incremental --volsize 1 "$SRC" "file://$A"
expect_stdout_match '^Errors 0'
[ "$(set_times "$A" | wc -l)" = 2 ] || { ls -l "$A" >&2; fail "duplicity did not add an incremental to sealbox's chain"; }
ls "$A"/duplicity-inc.*.manifest.gpg >/dev/null || fail "duplicity wrote a new full instead of an incremental"
remember "$A"

log "A: sealbox incremental after duplicity's (--secret-key to sync)"
wait_next_second
mutate_tree "$SRC" 2
expect_exit 0 sb backup --target "file://$A" --encrypt-key "$ENC_FPR" --sign-key "$SIGN_FPR" \
    --volsize 1 --archive-dir "$T/sbcache-a" --secret-key "$T/enc-secret.asc" --allow-unsealed "$SRC"
expect_stats
[ "$(set_times "$A" | wc -l)" = 3 ] || { ls -l "$A" >&2; fail "sealbox did not add a third set"; }
[ "$(ls "$A"/duplicity-full.*.manifest.gpg | wc -l)" = 1 ] || fail "sealbox started a new chain"
remember "$A"
log "A: without --allow-unsealed, duplicity's unsealed set after sealbox's is refused"
expect_exit 17 sb restore --target "file://$A" --sign-key "$SIGN_FPR" \
    --secret-key "$T/enc-secret.asc" "$T/rs-refused"
expect_stderr_match "duplicity-inc\.[0-9TZ.to]+\.manifest\.gpg has no seal.*--allow-unsealed"
[ ! -e "$T/rs-refused" ] || fail "a refused restore created its DEST"
check_all "$A"
run dup collection-status "file://$A"
expect_stdout_match '^Number of contained backup sets: 3$'

log "B: duplicity full + incremental"
B="$T/target-b"
mkdir "$B"
URLB="file://$B"
run dup full --volsize 1 "$SRC" "$URLB"
remember "$B"
wait_next_second
mutate_tree "$SRC" 3
run dup incremental --volsize 1 "$SRC" "$URLB"
remember "$B"
DUPDIR="$DUP_ARCHIVE/$(dup_name "$URLB")"
[ -d "$DUPDIR" ] && ls "$DUPDIR"/duplicity-full.*.manifest >/dev/null || fail "duplicity's archive dir is not $DUPDIR"

log "B: sealbox incremental using duplicity's archive dir (no secret key)"
wait_next_second
mutate_tree "$SRC" 4
sb_backup "$URLB" "$SRC" --volsize 1 --archive-dir "$DUPDIR"
[ "$(set_times "$B" | wc -l)" = 3 ] || { ls -l "$B" >&2; fail "sealbox did not add an incremental to duplicity's chain"; }
[ "$(ls "$B"/duplicity-full.*.manifest.gpg | wc -l)" = 1 ] || fail "sealbox started a new chain"
remember "$B"
# sealbox's set on duplicity's chain, read by duplicity before it continues
DUP_ARCHIVE="$T/dupcache-restore" run dup restore "$URLB" "$T/b3"
compare "$T/expect/$step" "$T/b3" --ignore-root --ignore-symlink-mtime

log "B: duplicity incremental after sealbox's"
wait_next_second
mutate_tree "$SRC" 5
# ALL_GNUPGHOME: duplicity may have to sync the set sealbox added.
DUP_GNUPGHOME="$ALL_GNUPGHOME" run dup incremental --volsize 1 "$SRC" "$URLB"
[ "$(set_times "$B" | wc -l)" = 4 ] || { ls -l "$B" >&2; fail "duplicity did not continue the chain"; }
remember "$B"

log "B: sealbox incremental with an empty archive dir and --secret-key"
wait_next_second
mutate_tree "$SRC" 6
expect_exit 0 sb backup --target "$URLB" --encrypt-key "$ENC_FPR" --sign-key "$SIGN_FPR" \
    --volsize 1 --archive-dir "$T/sbcache-b-empty" --secret-key "$T/enc-secret.asc" --allow-unsealed "$SRC"
expect_stats
[ "$(set_times "$B" | wc -l)" = 5 ] || { ls -l "$B" >&2; fail "sealbox did not add a fifth set"; }
[ "$(ls "$B"/duplicity-full.*.manifest.gpg | wc -l)" = 1 ] || fail "sealbox started a new chain"
remember "$B"
check_all "$B"
run dup verify --compare-data "$URLB" "$SRC"
expect_stdout_match 'Verify complete: [0-9]+ files compared, 0 differences found'
