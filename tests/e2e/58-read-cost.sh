#!/bin/bash
# 58-read-cost: a restore of one path reads what that path needs, whatever
# the length of the chain, and this machine's record of proven plaintext
# (the archive dir's proven/) changes no byte of what is restored.
#   1. paths that were changed, deleted, re-added, changed type or patched,
#      restored one by one (--path) at every time of a 5-set chain, equal the
#      snapshot; a path deleted by then is "no such path" (exit 7) even though
#      older sets hold it;
#   2. the gpg processes of a one-file restore of an unchanged file are as
#      many at 6 sets as at 1, with one decryption (the volume) and no
#      signature check of a seal; a file changed in every set costs one
#      decryption per set (its volumes) and no more;
#   3. a machine with an empty archive dir decrypts what it needs once, and
#      the next restore there takes it from its record;
#   4. a damaged record (every entry's bytes flipped) is noticed and not
#      used: the restore is right and the entries are written again;
#   5. an index the record holds, changed on the server: the restore takes
#      the bytes the seal proves (right file), and verify names the index.
source "$(dirname "$0")/lib.sh"
need_cmd strace

make_keys
SRC="$T/src"
make_tree "$SRC"
TGT="$T/target"
mkdir "$TGT"
URL="file://$TGT"
sb_backup_series "$URL" "$SRC" 5 --volsize 1
mapfile -t TIMES < <(set_times "$TGT")
[ "${#TIMES[@]}" = 5 ] || fail "expected 5 sets, found ${#TIMES[@]}"

restore() { sb restore --target "$URL" --sign-key "$SIGN_FPR" --secret-key "$T/enc-secret.asc" "$@"; }

# same PATH EXPECTED DEST: DEST is what EXPECTED (a file, folder or link) is.
same() {
    local what=$1 want=$2 got=$3
    if [ -L "$want" ]; then
        [ -L "$got" ] && [ "$(readlink "$got")" = "$(readlink "$want")" ] ||
            fail "$what: not the symlink to $(readlink "$want")"
    elif [ -d "$want" ]; then
        compare "$want" "$got"
    elif [ -p "$want" ]; then
        [ -p "$got" ] || fail "$what: not a fifo"
    else
        cmp -s "$want" "$got" || fail "$what: other bytes than the snapshot's"
        [ "$(stat -c %a "$want")" = "$(stat -c %a "$got")" ] || fail "$what: other mode"
    fi
}

log "1. one path at a time, at every time of the chain"
PATHS=(small.txt delete-me.txt added1.txt added2.txt typechange big.bin dir1/one.txt
    newdir fifo gen-4.txt "caf"$'\xe9'".txt")
n=0
for k in 1 2 3 4 5; do
    when=$(iso "${TIMES[$((k - 1))]}")
    for p in "${PATHS[@]}"; do
        d="$T/r1/$k/$n"
        n=$((n + 1))
        mkdir -p "$(dirname "$d")"
        if [ -e "$T/expect/$k/$p" ] || [ -L "$T/expect/$k/$p" ]; then
            expect_exit 0 restore --time "$when" --path "$p" "$d"
            same "$p at set $k" "$T/expect/$k/$p" "$d"
        else
            expect_exit 7 restore --time "$when" --path "$p" "$d"
            expect_error "no such path"
            [ ! -e "$d" ] && [ ! -L "$d" ] || fail "$p at set $k: restored though deleted"
        fi
    done
done

# gpg_ops TRACE: "LAUNCHES DECRYPTS VERIFIES" of an strace -f -e execve log.
gpg_ops() {
    local launches decrypts verifies
    launches=$(grep -c 'execve("[^"]*/\(gpg\|gpg-agent\|gpg-connect-agent\|gpgconf\|gpgsm\)"' "$1" || true)
    decrypts=$(grep 'execve("[^"]*/gpg"' "$1" | grep -c '"--decrypt"' || true)
    # gpgme verifies a clear-signed text as "gpg ... --output - -- -&N"
    verifies=$(grep 'execve("[^"]*/gpg"' "$1" | grep -v '"--decrypt"' |
        grep -c '"--output", "-", "--", "-&' || true)
    echo "$launches $decrypts $verifies"
}
traced_restore() { # traced_restore TRACE ARGS...
    local trace=$1
    shift
    # (LeakSanitizer cannot run under ptrace: a sanitized build leaves leaks to the others)
    expect_exit 0 env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
        strace -f -qq -s 256 -e trace=execve -e signal=none -o "$trace" \
        "$SEALBOX" restore --target "$URL" --sign-key "$SIGN_FPR" \
        --secret-key "$T/enc-secret.asc" "$@"
}

log "2. gpg processes of a one-file restore: 1 set and 6 sets"
G="$T/grow"
mkdir -p "$G/docs"
printf 'never changes\n' >"$G/keep.txt"
printf 'hot 0\n' >"$G/docs/hot.txt"
for i in $(seq 1 30); do printf 'doc %s\n' "$i" >"$G/docs/d$i.txt"; done
GT="$T/grow-target"
mkdir "$GT"
GURL="file://$GT"
sb_backup "$GURL" "$G"
URL=$GURL
traced_restore "$T/t1" --path keep.txt "$T/g1"
cmp -s "$T/g1" "$G/keep.txt" || fail "keep.txt restored wrong (1 set)"
read -r l1 d1 v1 < <(gpg_ops "$T/t1")
for i in 1 2 3 4 5; do
    wait_next_second
    printf 'hot %s\n' "$i" >>"$G/docs/hot.txt"
    printf 'more %s\n' "$i" >>"$G/docs/d$i.txt"
    sb_backup "$GURL" "$G"
done
traced_restore "$T/t6" --path keep.txt "$T/g6"
cmp -s "$T/g6" "$G/keep.txt" || fail "keep.txt restored wrong (6 sets)"
read -r l6 d6 v6 < <(gpg_ops "$T/t6")
log "unchanged file: 1 set: $l1 gpg launches, $d1 decrypts, $v1 verifies; 6 sets: $l6, $d6, $v6"
[ "$l6" = "$l1" ] || fail "a one-file restore started $l1 gpg processes at 1 set, $l6 at 6"
[ "$d6" = 1 ] && [ "$v6" = 0 ] ||
    fail "unchanged file at 6 sets: $d6 decryptions and $v6 seal checks (want 1 and 0)"
traced_restore "$T/th" --path docs/hot.txt "$T/gh"
cmp -s "$T/gh" "$G/docs/hot.txt" || fail "hot.txt restored wrong"
read -r lh dh vh < <(gpg_ops "$T/th")
log "file changed in every set: $lh launches, $dh decrypts, $vh verifies"
[ "$dh" = 6 ] && [ "$vh" = 0 ] || fail "hot file: $dh decryptions, $vh seal checks (want 6, 0)"

log "3. a machine with an empty archive dir"
EMPTY="$T/fresh-archive"
traced_restore "$T/tf1" --archive-dir "$EMPTY" --path keep.txt "$T/f1"
cmp -s "$T/f1" "$G/keep.txt" || fail "keep.txt restored wrong on a fresh machine"
read -r lf1 df1 vf1 < <(gpg_ops "$T/tf1")
[ -d "$EMPTY/proven" ] || fail "no record of proven plaintext made in $EMPTY"
traced_restore "$T/tf2" --archive-dir "$EMPTY" --path keep.txt "$T/f2"
read -r lf2 df2 vf2 < <(gpg_ops "$T/tf2")
log "fresh machine: first restore $df1 decrypts + $vf1 verifies, second $df2 + $vf2"
[ "$vf1" -ge 6 ] && [ "$df1" -gt 1 ] || fail "first restore on a fresh machine: $df1/$vf1"
[ "$df2" = 1 ] && [ "$vf2" = 0 ] || fail "second restore on that machine: $df2 decrypts, $vf2 verifies"

log "4. a damaged record is not used"
for f in "$XDG_CACHE_HOME"/sealbox/*/proven/*; do
    printf 'X' | dd of="$f" bs=1 seek=$(($(stat -c %s "$f") - 2)) conv=notrunc status=none
done
traced_restore "$T/td" --path docs/hot.txt "$T/d4"
cmp -s "$T/d4" "$G/docs/hot.txt" || fail "restore with a damaged record: wrong bytes"
read -r ld dd vd < <(gpg_ops "$T/td")
[ "$vd" -ge 6 ] || fail "damaged seal records were used ($vd seal checks by gpg)"
traced_restore "$T/td2" --path docs/hot.txt "$T/d5"
read -r ld2 dd2 vd2 < <(gpg_ops "$T/td2")
[ "$vd2" = 0 ] && [ "$dd2" = 6 ] || fail "the record was not written again ($dd2 decrypts, $vd2 verifies)"

log "5. an index changed on the server while this machine's record holds it"
IDX=$(ls "$GT" | grep '^sealbox-inc.*\.index\.gpg$' | sort | tail -1)
printf 'Z' | dd of="$GT/$IDX" bs=1 seek=100 conv=notrunc status=none
expect_exit 0 restore --path docs/hot.txt "$T/d6"
cmp -s "$T/d6" "$G/docs/hot.txt" || fail "restore after the index changed: wrong bytes"
expect_exit 13 sb verify --target "$GURL" --sign-key "$SIGN_FPR"
expect_stdout_match "$IDX"
log "ok"
