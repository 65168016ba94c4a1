#!/bin/bash
# 71-resume: a backup killed (SIGKILL, as a power cut) at 20 points of a full
# backup and at the edges continues on the next run from the last volume
# that reached the target: the volumes already there are not uploaded again
# (same inode on the file target), the files they hold are not read again
# (strace), and the chain restores identically with sealbox and duplicity.
#
# Edges: a kill inside a file that spans volumes, then that file unchanged,
# rewritten, or deleted before the resume; a file before the resume point
# deleted; a resumed run killed again; an incremental killed and resumed;
# another set written meanwhile (no resume: the old set goes).
source "$(dirname "$0")/lib.sh"
need_cmd duplicity strace

make_keys
SRC="$T/src"
mkdir -p "$SRC/a" "$SRC/b" "$SRC/c"
# small files before, between and after three big ones that span volumes
for i in $(seq 1 40); do printf 'small file %s\n' "$i" >"$SRC/a/s$i.txt"; done
head -c $((2600 * 1024)) /dev/urandom >"$SRC/b/big1.bin"
for i in $(seq 1 30); do head -c $((i * 3000)) /dev/urandom >"$SRC/b/m$i.dat"; done
head -c $((2700 * 1024)) /dev/urandom >"$SRC/b/big2.bin"
seq 1 300000 >"$SRC/c/text.txt" # compressible, ~2 MB
ln -s ../a/s1.txt "$SRC/c/link"
mkfifo "$SRC/c/fifo"
for i in $(seq 1 40); do printf 'late %s\n' "$i" >"$SRC/c/z$i.txt"; done
VOL=(--volsize 1)

# kill_at TARGET POINT: a full backup (or incremental) killed at POINT.
kill_at() {
    local url=$1 point=$2 rc=0
    shift 2
    SEALBOX_TESTPOINT=$point timeout -k 10 "$SB_TIMEOUT" "$SEALBOX" backup --target "$url" \
        --encrypt-key "$ENC_FPR" --sign-key "$SIGN_FPR" "${VOL[@]}" "$@" "$SRC" \
        >"$T/kill.out" 2>&1 || rc=$?
    [ "$rc" = 137 ] || { cat "$T/kill.out" >&2; fail "backup at $point: exit $rc, not killed"; }
}

# vol_inodes DIR: "name inode" of every volume
vol_inodes() { for f in "$1"/*.difftar.gpg; do echo "$(basename "$f") $(stat -c %i "$f")"; done; }

# logged: the volumes 1..n the killed run's journal says are on the target
logged() {
    local n=0
    cat "$XDG_CACHE_HOME"/sealbox/*/resume/log 2>/dev/null | sed -n 's/^v=\([0-9]*\) .*/\1/p' |
        sort -n >"$T/logged"
    while grep -qx "$((n + 1))" "$T/logged"; do n=$((n + 1)); done
    echo "$n"
}

# resume URL DIR [MAYREDO]: the next run (traced); the volumes the journal
# lists must not be uploaded again (with MAYREDO, when a file they end in
# changed, those after the resume point may); sets $kept to the volumes
# kept, $must to those listed
resume() {
    local url=$1 dir=$2 v
    must=$(logged)
    [ -z "${3:-}" ] || must=0
    vol_inodes "$dir" | sort >"$T/before"
    if [ "${NOTRACE:-0}" = 1 ]; then # (LeakSanitizer cannot run under ptrace)
        expect_exit 0 "$SEALBOX" backup --target "$url" --encrypt-key "$ENC_FPR" \
            --sign-key "$SIGN_FPR" "${VOL[@]}" "$SRC"
    else
        # the agent runs already: strace -f would wait for one the run started
        gpg-connect-agent /bye >/dev/null 2>&1
        ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
            expect_exit 0 strace -f -qq -e trace=openat -o "$T/trace" "$SEALBOX" backup \
            --target "$url" --encrypt-key "$ENC_FPR" --sign-key "$SIGN_FPR" "${VOL[@]}" "$SRC"
    fi
    expect_stats
    vol_inodes "$dir" | sort >"$T/after"
    kept=$(join "$T/before" "$T/after" | awk '$2 == $3' | wc -l)
    for v in $(seq 1 "$must"); do
        join "$T/before" "$T/after" | grep -q "\.vol$v\.difftar\.gpg \([0-9]*\) \1\$" ||
            fail "volume $v was uploaded again"
    done
}

# check_restores URL EXPECT: newest snapshot, with sealbox and duplicity
check_restores() {
    local url=$1 expect=$2
    rm -rf "$T/r" "$T/d"
    sb_restore "$url" "$T/r"
    compare "$expect" "$T/r" --ignore-root
    run dup restore "$url" "$T/d"
    compare "$expect" "$T/d" --ignore-root --ignore-symlink-mtime
    expect_exit 0 sb verify --target "$url" --sign-key "$SIGN_FPR" --secret-key "$T/enc-secret.asc"
}

# statrows TARGETDIR: rows of the stat cache in the archive dir of that target
statrows() {
    local m db
    m=$(basename "$(ls "$1"/duplicity-full.*.manifest.gpg | head -n 1)" .gpg)
    db=$(dirname "$(ls "$XDG_CACHE_HOME"/sealbox/*/"$m")")/sealbox.db
    python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from statcache").fetchone()[0])' "$db"
}

# count of volumes an uninterrupted full makes
log "uninterrupted reference"
sb_backup "file://$T/ref" "$SRC" "${VOL[@]}"
NV=$(ls "$T/ref"/*.difftar.gpg | wc -l)
NS=$(statrows "$T/ref")
[ "$NV" -ge 7 ] || fail "only $NV volumes: the test needs more"
log "$NV volumes"
snapshot_copy "$SRC" 0

points=()
for v in $(seq 1 "$NV"); do points+=("journal:$v"); done
for v in 2 4 6 "$NV"; do points+=("vol-upload:$v"); done
points+=(meta-sig:1 meta-index:1 meta-seal:1 meta-manifest:1 commit:1)
for v in 3 5; do points+=("journal:$v"); done # the same again, other target
points+=(vol-upload:1)
[ "${#points[@]}" -ge 20 ] || fail "only ${#points[@]} kill points"

n=0
for p in "${points[@]}"; do
    n=$((n + 1))
    D="$T/t$n"
    mkdir "$D"
    log "kill at $p"
    kill_at "file://$D" "$p"
    resume "file://$D" "$D"
    case $p in
    journal:*)
        v=${p#*:}
        [ "$must" -ge "$v" ] || fail "$p: the journal lists $must volumes"
        [ "$kept" -ge "$must" ] || fail "$p: only $kept volumes kept"
        # files wholly in the kept volumes were not opened again
        if [ "$must" -ge 2 ] && grep -q 'a/s1.txt' "$T/trace"; then
            fail "$p: the resumed run read a/s1.txt again"
        fi
        [ "$(statrows "$D")" = "$NS" ] || fail "$p: stat cache has $(statrows "$D") rows, not $NS"
        ;;
    meta-sig:* | meta-index:* | meta-seal:*)
        # the skipped files' stat-cache records were put back
        [ "$(statrows "$D")" = "$NS" ] || fail "$p: stat cache has $(statrows "$D") rows, not $NS"
        ;;&
    meta-* | commit:*)
        [ "$kept" -ge "$NV" ] && [ "$must" = "$NV" ] || fail "$p: only $kept of $NV volumes kept"
        grep -q 'b/big1.bin' "$T/trace" && fail "$p: the resumed run read the source again"
        ;;
    esac
    tmps=("$D"/.sealbox-tmp.*)
    [ "${#tmps[@]}" = 0 ] || fail "$p: temporary files left on the target: ${tmps[*]}"
    # (killed after the manifest, the set was whole: the next run adds an incremental)
    n_after=$(ls "$D"/duplicity-full.*.difftar.gpg | wc -l)
    [ "$n_after" = "$NV" ] || fail "$p: $n_after volumes, an uninterrupted run makes $NV"
    if [ $((n % 4)) = 1 ] || [ "$p" = "journal:3" ]; then
        check_restores "file://$D" "$T/expect/0"
    else
        rm -rf "$T/r"
        sb_restore "file://$D" "$T/r"
        compare "$T/expect/0" "$T/r" --ignore-root
    fi
    rm -rf "$D"
done

# the kill point inside big2.bin, from the reference run's plaintext manifest:
# the first volume that starts inside it, minus one
MAN=$(ls "$XDG_CACHE_HOME"/sealbox/*/duplicity-full.*.manifest | head -n 1)
VB=$(awk '/^Volume /{v=$2+0} /StartingPath +b\/big2\.bin [0-9]/{print v; exit}' "$MAN")
[ -n "$VB" ] && [ "$VB" -ge 3 ] || fail "no volume starts inside b/big2.bin ($VB)"
KB=$((VB - 1))

# the edges need no trace: their resumes run as they are (under ASan, with leak checks)
NOTRACE=1

# kill_inside_big2 DIR: a full to the new folder DIR killed with volumes
# 1..KB logged, so that the resume point is inside big2.bin. The two uploads
# end in any order: volumes after KB may be logged before KB is, and then
# the point may be past big2.bin; such a run is redone.
kill_inside_big2() {
    local try
    mkdir "$1"
    for try in 1 2 3; do
        kill_at "file://$1" "journal:$KB"
        [ "$(logged)" = "$KB" ] && return 0
        log "the killed run had logged volumes 1..$(logged), not 1..$KB: again"
        rm -rf "$XDG_CACHE_HOME"/sealbox/*/resume "$1"
        mkdir "$1"
    done
    fail "journal:$KB: three killed runs logged 1..$(logged), not 1..$KB"
}

log "edge: the file that spans the kill point is rewritten before the resume"
D="$T/e1"
kill_inside_big2 "$D"
cp "$SRC/b/big2.bin" "$T/big2.orig"
head -c $((2700 * 1024)) /dev/urandom >"$SRC/b/big2.bin"
resume "file://$D" "$D" mayredo
expect_stderr_match 'big2.bin changed since the interrupted run'
[ "$kept" -ge 1 ] || fail "nothing kept: the resume should start before big2.bin"
snapshot_copy "$SRC" 1
check_restores "file://$D" "$T/expect/1"

log "edge: the spanning file deleted, and a file before the point deleted"
D="$T/e2"
kill_inside_big2 "$D"
rm "$SRC/b/big2.bin" "$SRC/a/s3.txt"
resume "file://$D" "$D" mayredo
[ "$kept" -ge 1 ] || fail "nothing kept"
rm -rf "$T/r" "$T/d"
sb_restore "file://$D" "$T/r"
run dup restore "file://$D" "$T/d"
compare "$T/r" "$T/d" --ignore-root --ignore-symlink-mtime
# the deleted small file was stored before the kill: the set holds it
cmp "$T/r/a/s3.txt" "$T/expect/1/a/s3.txt" || fail "a/s3.txt is not the stored one"
[ ! -e "$T/r/b/big2.bin" ] || fail "the deleted spanning file was restored"
rm "$T/r/a/s3.txt"
compare "$SRC" "$T/r" --ignore-root --ignore-dir-mtime # a/ and b/ were stored before
printf 'small file 3\n' >"$SRC/a/s3.txt"
cp "$T/big2.orig" "$SRC/b/big2.bin"

log "edge: a resumed run killed again, then resumed"
D="$T/e3"
mkdir "$D"
kill_at "file://$D" journal:2
# two volumes further than the first run got (uploads end out of order)
m=$(logged)
kill_at "file://$D" "journal:$((m + 2))"
resume "file://$D" "$D"
[ "$must" -ge $((m + 2)) ] && [ "$kept" -ge "$must" ] ||
    fail "the second resume kept $kept volumes, the journal listed $must"
snapshot_copy "$SRC" 2
check_restores "file://$D" "$T/expect/2"

log "edge: an incremental killed and resumed"
wait_next_second
head -c $((1500 * 1024)) /dev/urandom >>"$SRC/b/big2.bin"
for i in $(seq 1 20); do printf 'inc %s\n' "$i" >"$SRC/c/new$i.txt"; done
kill_at "file://$D" journal:1
resume "file://$D" "$D"
expect_stderr_match 'resuming the interrupted backup duplicity-inc'
snapshot_copy "$SRC" 3
check_restores "file://$D" "$T/expect/3"
[ "$(ls "$D"/*.manifest.gpg | wc -l)" = 2 ] || fail "the chain does not have 2 sets"

log "edge: a full forced after an interrupted incremental: no resume, the set goes"
wait_next_second
echo more >"$SRC/c/more.txt"
kill_at "file://$D" journal:1
sb_backup "file://$D" "$SRC" "${VOL[@]}" --full
expect_stderr_match 'removing the incomplete set'
snapshot_copy "$SRC" 4
check_restores "file://$D" "$T/expect/4"
journals=("$XDG_CACHE_HOME"/sealbox/*/resume)
[ "${#journals[@]}" = 0 ] || fail "a journal outlived its set: ${journals[*]}"

log "hostile: between the kill and the resume the server rewrites a kept volume and removes another"
D="$T/h1"
mkdir "$D"
kill_at "file://$D" journal:4
V1=$(ls "$D"/duplicity-full.*.vol1.difftar.gpg)
ino1=$(stat -c %i "$V1")
flip_byte "$V1"
rm "$D"/duplicity-full.*.vol3.difftar.gpg
resume "file://$D" "$D" mayredo
# a missing volume is seen in the listing: the resume starts before it
expect_stderr_match "after volume 2 "
[ -e "$(ls "$D"/duplicity-full.*.vol3.difftar.gpg)" ] || fail "volume 3 was not uploaded again"
# a rewritten one of the same size is not read back, but the seal lists the
# hash this machine uploaded: verify and restore name it
[ "$(stat -c %i "$V1")" = "$ino1" ] || fail "volume 1 was uploaded again"
expect_exit 13 sb verify --target "file://$D" --sign-key "$SIGN_FPR" --secret-key "$T/enc-secret.asc"
expect_stdout_match "vol1\.difftar\.gpg" # verify lists its problems on stdout
rm -rf "$T/r"
set +e
sb restore --target "file://$D" --sign-key "$SIGN_FPR" --secret-key "$T/enc-secret.asc" "$T/r" \
    >/dev/null 2>"$T/h1.err"
rc=$?
set -e
[ "$rc" != 0 ] || fail "a restore through a rewritten volume succeeded"
grep -q "vol1\.difftar\.gpg" "$T/h1.err" || { cat "$T/h1.err" >&2; fail "the restore did not name volume 1"; }
