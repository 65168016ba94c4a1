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

log "item 6: verify --content honours the configured excludes"
mkdir -p "$SRC/.cache"
printf 'junk\n' >"$SRC/.cache/junk"
CONF="$T/flows.conf"
printf 'exclude = %s/.cache\n' "$SRC" >"$CONF"
run sb --config "$CONF" backup --target "$URL" --encrypt-key "$ENC_FPR" --sign-key "$SIGN_FPR" "$SRC"
run sb --config "$CONF" verify --content --target "$URL" --sign-key "$SIGN_FPR" \
    --secret-key "$T/enc-secret.asc" "$SRC"
expect_stdout_match '0 difference'
run sb verify --content --target "$URL" --sign-key "$SIGN_FPR" \
    --secret-key "$T/enc-secret.asc" --exclude '**/.cache' "$SRC"
printf 'new\n' >"$SRC/.cache/newer"
printf 'changed\n' >"$SRC/a.txt"
expect_exit 20 sb --config "$CONF" verify --content --target "$URL" --sign-key "$SIGN_FPR" \
    --secret-key "$T/enc-secret.asc" "$SRC"
expect_stdout_match '^content: a.txt: '
! grep -q cache "$LAST_OUT" || fail "an excluded path was compared"
printf 'hello\n' >"$SRC/a.txt"

if is_root && command -v setpriv >/dev/null; then
    log "item 6: verify --content removes its folder when the snapshot holds a mode-0000 folder"
    nobody_setup
    NSRC="$T/nobody/src"
    mkdir -p "$NSRC/locked/inner" "$NSRC/open"
    printf 'x\n' >"$NSRC/locked/inner/f"
    printf 'y\n' >"$NSRC/open/g"
    cp "$T/enc-secret.asc" "$T/nobody/enc.asc"
    NT="$T/nobody/target"
    mkdir "$NT"
    chown -R "$NOBODY_UID:$NOBODY_GID" "$NSRC" "$NT" "$T/nobody/enc.asc"
    chmod 000 "$NSRC/locked/inner" "$NSRC/locked"
    # nobody cannot enter 'locked': the backup keeps the folder, not its contents (exit 2)
    expect_exit 2 sb_nobody backup --target "$NT" --encrypt-key "$ENC_FPR" --sign-key "$SIGN_FPR" "$NSRC"
    _run sb_nobody verify --content --target "$NT" --sign-key "$SIGN_FPR" \
        --secret-key "$T/nobody/enc.asc" "$NSRC"
    left=("$T/nobody/tmp"/sealbox-verify.*)
    [ ${#left[@]} = 0 ] || { ls -laR "$T/nobody/tmp" >&2; fail "verify --content left ${left[*]}"; }
fi

log "item 10: a typo in SOURCE against an existing target says no such folder"
expect_exit 7 sb backup --target "$URL" --encrypt-key "$ENC_FPR" --sign-key "$SIGN_FPR" "$SRC-typo"
expect_error "$SRC-typo: no such folder"
! grep -q 'allow-source-mismatch' "$LAST_ERR" || fail "a typo reported as another source"

log "item 14: a killed backup's temporary signatures are removed by the next run"
ARCH="$T/arch"
sb_backup "$URL" "$SRC" --archive-dir "$ARCH"
head -c 100000 /dev/urandom >"$ARCH/.sealbox-tmp.duplicity-new-signatures.20200101T000000Z.to.20200102T000000Z.sigtar.gz"
sb_backup "$URL" "$SRC" --archive-dir "$ARCH"
left=("$ARCH"/.sealbox-tmp.*)
[ ${#left[@]} = 0 ] || fail "left in the archive dir: ${left[*]}"

log "item 7: --path may be absolute inside SOURCE; --time takes local times"
rm -rf "$T/r7"
sb_restore "$URL" "$T/r7" --path "$SRC/sub/b.txt"
cmp "$SRC/sub/b.txt" "$T/r7" || fail "--path $SRC/sub/b.txt restored other bytes"
rm -rf "$T/r7"
expect_exit 7 sb restore --target "$URL" --sign-key "$SIGN_FPR" --secret-key "$T/enc-secret.asc" \
    --path /etc/passwd "$T/r7"
expect_error "/etc/passwd is not inside $SRC"
[ ! -e "$T/r7" ] || fail "a refused restore created $T/r7"
# a local date-time as `date '+%F %R'` prints it, one minute ahead: the newest set
when=$(TZ=America/St_Johns date -d '+1 minute' '+%F %R')
TZ=America/St_Johns sb_restore "$URL" "$T/r7" --time "$when" --path a.txt
cmp "$SRC/a.txt" "$T/r7" || fail "--time '$when' restored other bytes"
rm -rf "$T/r7"
# read as UTC it would be 3.5 hours earlier than every set: nothing
expect_exit 7 sb restore --target "$URL" --sign-key "$SIGN_FPR" --secret-key "$T/enc-secret.asc" \
    --time "$(TZ=America/St_Johns date -d '-1 hour' '+%F %R')Z" --path a.txt "$T/r7"

log "item 13: a restore whose DEST fills up: exit 10, the file named, DEST as before"
if is_root; then
    BIG="$T/bigsrc"
    mkdir "$BIG"
    head -c 3000000 /dev/urandom >"$BIG/big.bin"
    mkdir "$T/bigtgt"
    sb_backup "file://$T/bigtgt" "$BIG" --archive-dir "$T/bigarch"
    mkdir "$T/small"
    mount -t tmpfs -o size=1m tmpfs "$T/small"
    expect_exit 10 sb restore --target "file://$T/bigtgt" --sign-key "$SIGN_FPR" \
        --secret-key "$T/enc-secret.asc" "$T/small/dest"
    expect_error "cannot write .*big\.bin.*No space left"
    [ -z "$(ls -A "$T/small")" ] || { ls -laR "$T/small" >&2; fail "a failed restore left files in the full DEST"; }
    umount "$T/small"
fi

log "item 13: mounting over a non-empty folder, or over a mount, is refused with the reason"
need_fuse
mkdir -p "$T/full-mp"
echo mine >"$T/full-mp/note.txt"
expect_exit 10 sb mount --target "$URL" --sign-key "$SIGN_FPR" --secret-key "$T/enc-secret.asc" "$T/full-mp"
expect_error "full-mp is not empty"
! is_mounted "$T/full-mp" || fail "mounted over a non-empty folder"
sb_mount "$URL" "$T/mp2"
expect_exit 10 sb mount --target "$URL" --sign-key "$SIGN_FPR" --secret-key "$T/enc-secret.asc" "$T/mp2"
expect_error "mp2 is already a mount point"
sb_umount "$T/mp2"
