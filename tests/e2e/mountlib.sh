# tests/e2e/mountlib.sh - helpers for the `sealbox mount` tests (sourced
# after lib.sh).  Every mount goes below $T, so lib.sh's EXIT trap unmounts
# it (fusermount3 -u -z) even when a test fails; the keyrings and plaintext
# caches of the mounts go below $T/run ($XDG_RUNTIME_DIR), so the trap also
# stops their gpg-agents.

need_fuse() {
    [ -c /dev/fuse ] || skip "no /dev/fuse"
    command -v fusermount3 >/dev/null 2>&1 || skip "no fusermount3"
    [ -r /dev/fuse ] && [ -w /dev/fuse ] || skip "/dev/fuse not usable by $(id -un)"
}

export XDG_RUNTIME_DIR="$T/run"
mkdir -p "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"

# is_mounted DIR: DIR is a sealbox FUSE mount now.
is_mounted() {
    awk -v mp="$1" '$2 == mp && $3 == "fuse.sealbox" { f = 1 } END { exit !f }' /proc/self/mounts
}

# sb_mount TARGET MOUNTPOINT [OPTS...]: mount (detached) with the test keys.
sb_mount() {
    local target=$1 mp=$2
    shift 2
    mkdir -p "$mp"
    expect_exit 0 sb mount --target "$target" --sign-key "$SIGN_FPR" \
        --secret-key "$T/enc-secret.asc" "$@" "$mp"
    is_mounted "$mp" || fail "sealbox mount exited 0 but $mp is not mounted"
}

# mount_pid: the pid serving the (only) mount, from its cache folder name.
mount_pid() {
    local d=("$XDG_RUNTIME_DIR"/sealbox-mount.*)
    [ ${#d[@]} = 1 ] || fail "expected one mount cache folder, found ${#d[@]}"
    printf '%s\n' "${d[0]##*.}"
}

# wait_cleaned: the mount process is gone and removed its keyring and its
# plaintext cache (up to 20 s).
wait_cleaned() {
    local i left
    for i in $(seq 100); do
        left=("$XDG_RUNTIME_DIR"/sealbox/sealbox-gnupg.* "$XDG_RUNTIME_DIR"/sealbox-mount.*)
        [ ${#left[@]} = 0 ] && return 0
        sleep 0.2
    done
    ls -la "$XDG_RUNTIME_DIR" "$XDG_RUNTIME_DIR"/sealbox >&2 || true
    fail "the mount left its keyring or plaintext cache behind"
}

# sb_umount MOUNTPOINT: sealbox umount, then wait for the cleanup.
sb_umount() {
    run sb umount "$1"
    ! is_mounted "$1" || fail "$1 still mounted after sealbox umount"
    wait_cleaned
}

# snap_dir MOUNTPOINT EPOCH: the folder of the snapshot of that time.
snap_dir() { printf '%s/%s\n' "$1" "$(iso "$2")"; }

# mcompare EXPECTED ACTUAL [treecmp options]: exact, hard links included.
mcompare() {
    local a=$1 b=$2 out rc
    shift 2
    set +e
    out=$(python3 "$TREECMP" --skip-sockets "$@" "$a" "$b" 2>&1)
    rc=$?
    set -e
    if [ $rc != 0 ]; then
        printf '%s\n' "$out" | head -50 >&2
        fail "trees differ: $a vs $b"
    fi
}

# link_counts DIR: every folder has 2 + subfolders links; prints nothing.
link_counts() {
    python3 - "$1" <<'PY' || fail "wrong link counts in $1"
import os, stat, sys
bad = 0
for root, dirs, files in os.walk(sys.argv[1]):
    st = os.lstat(root)
    sub = sum(1 for d in dirs if stat.S_ISDIR(os.lstat(os.path.join(root, d)).st_mode))
    if st.st_nlink != 2 + sub:
        print("%s: st_nlink %d, expected %d" % (root, st.st_nlink, 2 + sub)); bad += 1
sys.exit(1 if bad else 0)
PY
}

# erofs CMD...: CMD fails with "Read-only file system".
erofs() {
    _run "$@"
    [ "$LAST_RC" != 0 ] || fail "on the mount, succeeded: $*"
    grep -q 'Read-only file system' "$LAST_ERR" || { _show_last "$@"; fail "not EROFS: $*"; }
}
