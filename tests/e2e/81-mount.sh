#!/bin/bash
# 81-mount: sealbox mount of a sealbox chain (full + 2 incrementals,
# --volsize 1): every snapshot folder equals the copy of the source taken at
# that time (bytes, sizes, modes, mtimes, owners, symlinks, fifos, hard links
# with their link counts, folder link counts), `latest`, stable inode
# numbers, statfs, EROFS for every modifying call, parallel readers, tar and
# rsync of a snapshot, random-offset reads; unmount by `sealbox umount`,
# SIGTERM and after a crash removes the temporary keyring and the plaintext
# cache; a tampered volume gives EIO for its files only (one log line names
# it); a tampered index makes the mount refuse to start.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/mountlib.sh"
need_fuse

make_keys
SRC="$T/src"
make_tree "$SRC"
TGT="$T/target"
mkdir "$TGT"
URL="file://$TGT"
sb_backup_series "$URL" "$SRC" 3 --volsize 1
mapfile -t TIMES < <(set_times "$TGT")
[ ${#TIMES[@]} = 3 ] || fail "expected 3 sets"

MP="$T/mnt"
log "mount"
sb_mount "$URL" "$MP"
expect_stdout_match 'Mounted 3 snapshot'
want=$(printf '%s\n' "$(iso "${TIMES[0]}")" "$(iso "${TIMES[1]}")" "$(iso "${TIMES[2]}")" latest versions)
[ "$(ls "$MP")" = "$want" ] || { ls -la "$MP" >&2; fail "top folder is not the 3 snapshots + latest + versions"; }
[ "$(readlink "$MP/latest")" = "$(iso "${TIMES[2]}")" ] || fail "latest -> $(readlink "$MP/latest")"
[ "$(stat -c %h "$MP")" = 6 ] || fail "top folder st_nlink $(stat -c %h "$MP"), expected 6 (3 snapshots, versions)"

log "every snapshot equals the source at its time"
for i in 1 2 3; do
    mcompare "$T/expect/$i" "$(snap_dir "$MP" "${TIMES[$((i - 1))]}")"
    link_counts "$(snap_dir "$MP" "${TIMES[$((i - 1))]}")"
done
mcompare "$T/expect/3" "$MP/latest/"
[ "$(stat -c %h "$MP/latest/hard-b")" = 2 ] || fail "hard-b: st_nlink $(stat -c %h "$MP/latest/hard-b")"
[ "$(stat -c %i "$MP/latest/hard-a")" = "$(stat -c %i "$MP/latest/hard-b")" ] ||
    fail "hard-a and hard-b have different inode numbers"
[ -f "$(snap_dir "$MP" "${TIMES[2]}")/fifo" ] || fail "fifo of snapshot 3 (a file by then) is wrong"
[ -p "$(snap_dir "$MP" "${TIMES[0]}")/fifo" ] || fail "fifo of snapshot 1 is not a fifo"
[ "$(stat -c %s "$(snap_dir "$MP" "${TIMES[2]}")/exact128k.bin")" = 1000 ] || fail "shrunk file size"
[ "$(ls -l "$(snap_dir "$MP" "${TIMES[1]}")/exact64k.bin" | awk '{print $5}')" = 135536 ] ||
    fail "ls -l size of a grown file"

log "stable inode numbers"
inodes() { # inodes OUT: path -> inode of the whole mount; only hard links share one
    python3 - "$MP" "$1" <<'PY' || fail "distinct objects share inode numbers"
import os, stat, sys, json
top, out = sys.argv[1], sys.argv[2]
seen, bad = {}, 0
for root, dirs, files in os.walk(top):
    if root == top:
        # latest and versions/ show the snapshots' own nodes again
        dirs[:] = [d for d in dirs if d not in ("latest", "versions")]
    for n in dirs + files:
        p = os.path.join(root, n)
        st = os.lstat(p)
        seen.setdefault(st.st_ino, []).append((os.fsencode(p).hex(), st.st_nlink, stat.S_ISDIR(st.st_mode)))
for ino, ps in seen.items():
    if len(ps) > 1 and (any(d for _, _, d in ps) or any(nl < len(ps) for _, nl, _ in ps)):
        print("inode %d shared by %s" % (ino, [bytes.fromhex(p) for p, _, _ in ps])); bad += 1
json.dump(sorted((p, ino) for ino, ps in seen.items() for p, _, _ in ps), open(out, "w"))
sys.exit(1 if bad else 0)
PY
}
inodes "$T/ino1"
if [ -w /proc/sys/vm/drop_caches ]; then
    sync
    echo 2 >/proc/sys/vm/drop_caches # the kernel forgets the nodes: all looked up again
fi
inodes "$T/ino2"
cmp -s "$T/ino1" "$T/ino2" || fail "inode numbers changed"

log "statfs"
stat -f -c '%l %S %b' "$MP" >"$T/statfs"
read -r namemax bsize _ <"$T/statfs"
[ "$namemax" = 255 ] && [ "$bsize" = 4096 ] || fail "statfs: $(cat "$T/statfs")"
grep -E " $MP fuse.sealbox ro[,[:space:]]" /proc/self/mounts >/dev/null || fail "not mounted ro"

log "read-only: every modifying call is EROFS"
L="$MP/latest"
erofs touch "$L/newfile"
erofs touch "$L/small.txt"
erofs mkdir "$L/newdir2"
erofs rmdir "$L/emptydir"
erofs rm -f "$L/small.txt"
erofs mv "$L/small.txt" "$L/moved.txt"
erofs chmod 600 "$L/small.txt"
erofs chown 1:1 "$L/small.txt"
erofs truncate -s 0 "$L/small.txt"
erofs ln "$L/small.txt" "$L/hl"
erofs ln -s x "$L/sl"
erofs mkfifo "$L/ff"
erofs sh -c "echo x >>'$L/small.txt'"
erofs python3 -c "import os; os.open('$L/small.txt', os.O_RDWR)"
if command -v setfattr >/dev/null; then erofs setfattr -n user.x -v 1 "$L/small.txt"; fi
erofs mkdir "$MP/2000-01-01T00:00:00Z"
erofs rm -f "$MP/latest"
cmp -s "$T/expect/3/small.txt" "$L/small.txt" || fail "small.txt changed"

log "parallel readers: cp -a of two snapshots at once, find | xargs -P4 cat"
S1=$(snap_dir "$MP" "${TIMES[0]}")
S2=$(snap_dir "$MP" "${TIMES[1]}")
cp -a "$S1" "$T/cp1" & p1=$!
cp -a "$S2" "$T/cp2" & p2=$!
wait $p1 || fail "cp -a of snapshot 1 failed"
wait $p2 || fail "cp -a of snapshot 2 failed"
mcompare "$T/expect/1" "$T/cp1"
mcompare "$T/expect/2" "$T/cp2"
(cd "$T/expect/3" && find . -type f -print0 | sort -z | xargs -0 sha256sum) >"$T/sums.expect"
(cd "$L/" && find . -type f -print0 | sort -z | xargs -0 -n3 -P4 sha256sum | sort -k2) >"$T/sums.got"
sort -k2 "$T/sums.expect" | cmp -s - "$T/sums.got" || fail "xargs -P4 sha256sum differs"
find "$MP/" -type f -print0 | xargs -0 -P4 -n5 cat >/dev/null || fail "find | xargs -P4 cat failed"

log "tar c and rsync -a of a snapshot"
mkdir "$T/untar"
tar -C "$S2" -cf - . | tar -C "$T/untar" -xpf - || fail "tar of snapshot 2"
mcompare "$T/expect/2" "$T/untar" --ignore-root
if command -v rsync >/dev/null; then
    rsync -aHS "$L/" "$T/rsync/" || fail "rsync -a out of the mount"
    mcompare "$T/expect/3" "$T/rsync" --ignore-root
fi

log "random-offset reads of a multi-volume file"
python3 - "$T/expect/2/big.bin" "$S2/big.bin" <<'PY' || fail "random reads differ"
import os, random, sys
a, b = open(sys.argv[1], "rb"), open(sys.argv[2], "rb")
size = os.path.getsize(sys.argv[1])
assert os.path.getsize(sys.argv[2]) == size
r = random.Random(7)
for i in range(300):
    off = r.randrange(0, size + 10)
    n = r.choice([1, 17, 4096, 65536, 200000, r.randrange(1, 1 << 20)])
    x = os.pread(a.fileno(), n, off)
    y = os.pread(b.fileno(), n, off)
    if x != y:
        print("differ at offset", off, "length", n); sys.exit(1)
PY
dd if="$S1/big.bin" bs=4096 skip=500 count=3 status=none | cmp -s - \
    <(dd if="$T/expect/1/big.bin" bs=4096 skip=500 count=3 status=none) || fail "dd skip= differs"

log "sealbox umount removes the keyring and the plaintext cache"
left=("$XDG_RUNTIME_DIR"/sealbox/sealbox-gnupg.*)
[ ${#left[@]} = 1 ] || fail "no temporary keyring while mounted"
[ "$(stat -c %a "$XDG_RUNTIME_DIR"/sealbox-mount.*)" = 700 ] || fail "cache folder not 0700"
sb_umount "$MP"
expect_exit 7 sb umount "$MP"
expect_error 'not a sealbox mount'

log "--foreground; SIGTERM unmounts cleanly"
bg_start "$SEALBOX" mount --foreground --target "$URL" --sign-key "$SIGN_FPR" \
    --secret-key "$T/enc-secret.asc" "$MP"
for i in $(seq 150); do is_mounted "$MP" && break; sleep 0.2; done
is_mounted "$MP" || fail "--foreground mount did not come up"
cmp -s "$T/expect/3/big.bin" "$MP/latest/big.bin" || fail "big.bin in the --foreground mount"
kill -TERM "$BG_PID"
for i in $(seq 100); do kill -0 "$BG_PID" 2>/dev/null || break; sleep 0.2; done
! kill -0 "$BG_PID" 2>/dev/null || fail "SIGTERM did not stop the mount"
! is_mounted "$MP" || fail "still mounted after SIGTERM"
wait_cleaned

log "after a crash: sealbox umount of the dead mount; the next mount reaps the leftovers"
# in the foreground so that this shell reaps it (a zombie counts as alive)
bg_start "$SEALBOX" mount --foreground --target "$URL" --sign-key "$SIGN_FPR" \
    --secret-key "$T/enc-secret.asc" "$MP"
for i in $(seq 150); do is_mounted "$MP" && break; sleep 0.2; done
is_mounted "$MP" || fail "--foreground mount did not come up"
cat "$MP/latest/small.txt" >/dev/null
kill -KILL "$BG_PID"
wait "$BG_PID" || true
_run stat "$MP/latest"
[ "$LAST_RC" != 0 ] || fail "dead mount still answers"
run sb umount "$MP"
left=("$XDG_RUNTIME_DIR"/sealbox/sealbox-gnupg.*)
[ ${#left[@]} = 1 ] || fail "expected a stale keyring after the crash"
sb_mount "$URL" "$MP"
left=("$XDG_RUNTIME_DIR"/sealbox/sealbox-gnupg.*)
[ ${#left[@]} = 1 ] || fail "stale keyring not reaped"
left=("$XDG_RUNTIME_DIR"/sealbox-mount.*)
[ ${#left[@]} = 1 ] || fail "stale plaintext cache not reaped"
sb_umount "$MP"

log "-o allow_other passes through; the backed-up modes are enforced"
sb_mount "$URL" "$MP" -o allow_other
grep -E " $MP fuse.sealbox ro,.*default_permissions,allow_other" /proc/self/mounts >/dev/null ||
    { grep " $MP " /proc/self/mounts >&2; fail "allow_other/default_permissions not in the mount options"; }
if is_root && command -v setpriv >/dev/null; then
    nob() { setpriv --reuid="$NOBODY_UID" --regid="$NOBODY_GID" --clear-groups "$@"; }
    [ "$(nob cat "$MP/latest/small.txt")" = "changed again in inc2" ] || fail "nobody cannot read small.txt"
    ! nob cat "$MP/latest/modes/private" >/dev/null 2>&1 || fail "nobody read a 0600 file of root"
    ! nob ls "$MP/latest/dir1/dir2/dir3" >/dev/null 2>&1 || fail "nobody listed a 0700 folder of root"
fi
sb_umount "$MP"

log "a large file that ends the set's last volume"
mkdir "$T/onebig"
head -c 300000 /dev/urandom >"$T/onebig/last.bin"
sb_backup "file://$T/t-onebig" "$T/onebig"
sb_mount "file://$T/t-onebig" "$MP"
cmp "$T/onebig/last.bin" "$MP/latest/last.bin" || fail "last.bin read back wrong"
sb_umount "$MP"

log "errors before the mount: exit status, nothing mounted"
expect_exit 1 sb mount --target "$URL" --sign-key "$SIGN_FPR" --secret-key "$T/enc-secret.asc" \
    -o no_such_option "$MP"
! is_mounted "$MP" || fail "mounted despite a bad -o option"
expect_exit 10 sb mount --target "$URL" --sign-key "$SIGN_FPR" --secret-key "$T/enc-secret.asc" \
    "$T/no-such-dir"
expect_exit 1 sb mount --sign-key "$SIGN_FPR" "$MP"
wait_cleaned

one() { local m=("$TGT"/$1); [ ${#m[@]} = 1 ] || fail "expected one $1"; basename "${m[0]}"; }
flip_byte() {
    python3 - "$1" <<'PY'
import os, sys
p = sys.argv[1]; off = os.path.getsize(p) // 2
with open(p, "r+b") as f:
    f.seek(off); b = f.read(1); f.seek(off); f.write(bytes([b[0] ^ 0xFF]))
PY
}

log "tampered volume: EIO for its files, the rest still served"
BAD="$T/bad-vol"
cp -a "$TGT" "$BAD"
VOL=$(one 'duplicity-full.*.vol2.difftar.gpg')
flip_byte "$BAD/$VOL"
bg_start "$SEALBOX" mount --foreground --target "file://$BAD" --sign-key "$SIGN_FPR" \
    --secret-key "$T/enc-secret.asc" "$MP"
LOGF="$T/out/bg.$$.$((${#SB_BG_PIDS[@]} - 1)).out"
for i in $(seq 150); do is_mounted "$MP" && break; sleep 0.2; done
is_mounted "$MP" || { cat "$LOGF" >&2; fail "mount of the tampered chain did not come up"; }
S1=$(snap_dir "$MP" "${TIMES[0]}")
_run cat "$S1/big.bin"
[ "$LAST_RC" != 0 ] || fail "big.bin (spanning the tampered volume) was served"
grep -q 'Input/output error' "$LAST_ERR" || { cat "$LAST_ERR" >&2; fail "not EIO"; }
ok=0 eio=0
while IFS= read -r -d '' f; do
    if cat "$S1/$f" >"$T/one.out" 2>/dev/null; then
        cmp -s "$T/expect/1/$f" "$T/one.out" || fail "wrong bytes served for $f"
        ok=$((ok + 1))
    else
        eio=$((eio + 1))
    fi
done < <(cd "$T/expect/1" && find . -type f -print0)
log "tampered: $ok files served, $eio refused"
[ "$ok" -gt 10 ] && [ "$eio" -ge 1 ] || fail "expected most files served and some refused"
cmp -s "$T/expect/3/dir1/one.txt" "$MP/latest/dir1/one.txt" || fail "one.txt no longer served"
grep -q "$VOL" "$LOGF" || { cat "$LOGF" >&2; fail "no log line names $VOL"; }
run sb umount "$MP"
wait_cleaned

log "tampered index: the mount refuses to start"
BADI="$T/bad-index"
cp -a "$TGT" "$BADI"
IDXS=("$TGT"/sealbox-inc.*.index.gpg)
[ ${#IDXS[@]} = 2 ] || { ls "$TGT" >&2; fail "expected an index per incremental"; }
IDX=$(basename "${IDXS[0]}")
flip_byte "$BADI/$IDX"
expect_exit 6 sb mount --target "file://$BADI" --sign-key "$SIGN_FPR" \
    --secret-key "$T/enc-secret.asc" "$MP"
expect_error 'index|refus'
grep -q "${IDX//./\\.}" "$LAST_ERR" || { cat "$LAST_ERR" >&2; fail "no error names $IDX"; }
! is_mounted "$MP" || fail "mounted a chain with a tampered index"
wait_cleaned
