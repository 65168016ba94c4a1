#!/bin/bash
# 92-flows: the everyday flows as a user lives them (issue 14). A mount with
# a wrong or missing passphrase fails before it mounts, even when an earlier
# mount cached the indexes (item 2); keys check takes --sign-passphrase-file
# and the config's, and a wrong signing passphrase fails keys check and backup
# while gpg-agent holds the right one cached (item 5); ... (each part names
# its item).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/mountlib.sh"

make_keys "sign pass $RANDOM"
SIGN_PASS=$SEALBOX_SIGN_PASSPHRASE
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

log "item 5: checks use the passphrase cron will use, not gpg-agent's cache"
# this keyring's agent caches passphrases, as a user's does
sed -i '/cache-ttl/d' "$GNUPGHOME/gpg-agent.conf"
gpgconf --kill gpg-agent
printf 'x\n' | gpg --batch --pinentry-mode loopback --passphrase "$SIGN_PASS" \
    -u "$SIGN_FPR" --clearsign >/dev/null 2>&1 || fail "cannot prime the agent's cache"
printf 'x\n' | gpg --batch --pinentry-mode error -u "$SIGN_FPR" --clearsign >/dev/null 2>&1 ||
    fail "the agent did not cache the signing passphrase"
SEALBOX_SIGN_PASSPHRASE="wrong" expect_exit 4 sb backup --target "$URL" \
    --encrypt-key "$ENC_FPR" --sign-key "$SIGN_FPR" "$SRC"
expect_error 'passphrase'
SEALBOX_SIGN_PASSPHRASE="wrong" expect_exit 4 sb keys check --sign-key "$SIGN_FPR"
printf '%s\n' "$SIGN_PASS" >"$T/sign.pass"
printf 'wrong\n' >"$T/wrong.pass"
chmod 600 "$T/sign.pass" "$T/wrong.pass"
(
    unset SEALBOX_SIGN_PASSPHRASE
    expect_exit 4 sb keys check --sign-key "$SIGN_FPR" --sign-passphrase-file "$T/wrong.pass"
    run sb keys check --sign-key "$SIGN_FPR" --sign-passphrase-file "$T/sign.pass"
    expect_stdout_match 'ok.*signing key'
    printf 'sign-key = %s\nsign-passphrase-file = %s\n' "$SIGN_FPR" "$T/wrong.pass" >"$T/wrong.conf"
    expect_exit 4 sb keys check --config "$T/wrong.conf"
    expect_exit 4 sb backup --target "$URL" --encrypt-key "$ENC_FPR" --sign-key "$SIGN_FPR" \
        --sign-passphrase-file "$T/wrong.pass" "$SRC"
    expect_exit 4 sb backup --target "$URL" --encrypt-key "$ENC_FPR" --sign-key "$SIGN_FPR" "$SRC"
    expect_error 'no passphrase'
)
sb_backup "$URL" "$SRC"
