#!/bin/bash
# 92-flows: the everyday flows as a user lives them (issue 14). A mount with
# a wrong or missing passphrase fails before it mounts, even when an earlier
# mount cached the indexes; ... (each part names its item).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/mountlib.sh"

make_keys
SRC="$T/src"
mkdir -p "$SRC/sub"
printf 'hello\n' >"$SRC/a.txt"
printf 'deep\n' >"$SRC/sub/b.txt"
TGT="$T/target"
mkdir "$TGT"
URL="file://$TGT"
sb_backup "$URL" "$SRC"

# mount_fails RC REGEX [OPTS...]: the mount exits RC naming REGEX, mounts nothing.
mount_fails() {
    local want=$1 re=$2
    shift 2
    expect_exit "$want" sb mount --target "$URL" "$@" "$T/mnt"
    expect_error "$re"
    ! is_mounted "$T/mnt" || fail "$T/mnt mounted anyway"
    wait_cleaned
}

if [ -c /dev/fuse ] && [ -r /dev/fuse ] && [ -w /dev/fuse ] && command -v fusermount3 >/dev/null; then
    mkdir -p "$T/mnt"
    log "item 2: a mount that cannot decrypt fails before it mounts (indexes cached)"
    sb_mount "$URL" "$T/mnt"
    [ "$(cat "$T/mnt/latest/a.txt")" = hello ] || fail "first mount reads wrong"
    sb_umount "$T/mnt"
    SEALBOX_SECRET_PASSPHRASE=wrong mount_fails 4 'wrong passphrase' \
        --sign-key "$SIGN_FPR" --secret-key "$T/enc-secret.asc"
    (
        unset SEALBOX_SECRET_PASSPHRASE
        mount_fails 4 'no passphrase' --sign-key "$SIGN_FPR" --secret-key "$T/enc-secret.asc"
    )
else
    log "no usable /dev/fuse: mount parts skipped"
fi
