#!/bin/bash
# 50-errors: each failure exits with the contract's code and one
# "sealbox: error: " line naming the culprit:
#   1 usage; 2 unreadable source file (backup still completes, Errors 1);
#   3 unknown/expired key, secret key missing; 4 wrong/missing passphrase;
#   5 missing or read-only target; 6 wrong signing key on restore;
#   7 no backups / time before the first backup / no such path;
#   8 target holds another source's chain.
source "$(dirname "$0")/lib.sh"

make_keys
SRC="$T/src"
mkdir -p "$SRC/dir"
printf 'a\n' >"$SRC/a.txt"
printf 'b\n' >"$SRC/dir/b.txt"
head -c 200000 /dev/urandom >"$SRC/dir/r.bin"
TGT="$T/target"
mkdir "$TGT"
URL="file://$TGT"
backup() { sb backup --encrypt-key "$ENC_FPR" --sign-key "$SIGN_FPR" "$@"; }
restore() { sb restore --sign-key "$SIGN_FPR" --secret-key "$T/enc-secret.asc" "$@"; }
no_sets() {
    [ -z "$(set_times "$1")" ] && return 0
    ls -l "$1" >&2
    soft_fail "$2 left a set in $1"
    find "$1" -mindepth 1 -delete # (SB_LENIENT) carry on with an empty target
}

log "usage errors -> 1"
expect_exit 1 sb
expect_exit 1 sb frobnicate
expect_error 'frobnicate'
expect_exit 1 sb backup --encrypt-key "$ENC_FPR" --sign-key "$SIGN_FPR" "$SRC"
expect_error 'target'
expect_exit 1 backup --target "$URL" --no-such-option "$SRC"
expect_error 'no-such-option'
expect_exit 1 backup --target "$URL"
expect_exit 1 backup --target "$URL" --volsize lots "$SRC"
expect_exit 1 restore --target "$URL" --time 'not a time' "$T/r-usage"
expect_error 'not a time'
expect_exit 1 restore --target "$URL"
no_sets "$TGT" "usage errors"

log "unknown encryption key -> 3"
BOGUS=0123456789ABCDEF0123456789ABCDEF01234567
expect_exit 3 sb backup --target "$URL" --encrypt-key "$BOGUS" --sign-key "$SIGN_FPR" "$SRC"
expect_error "$(key_re "$BOGUS")"
no_sets "$TGT" "a backup with an unknown key"
log "unknown signing key -> 3"
expect_exit 3 sb backup --target "$URL" --encrypt-key "$ENC_FPR" --sign-key "$BOGUS" "$SRC"
expect_error "$(key_re "$BOGUS")"
log "signing key without its secret half -> 3"
_new_home "$T/gnupg-other"
PUBONLY=$(gen_sign_key "$T/gnupg-other" pubonly-sign "")
gpg --homedir "$T/gnupg-other" --batch --export "$PUBONLY" | _gpg --import
_gpg --import-ownertrust <<<"$PUBONLY:6:"
expect_exit 3 sb backup --target "$URL" --encrypt-key "$ENC_FPR" --sign-key "$PUBONLY" "$SRC"
expect_error "$(key_re "$PUBONLY")"
no_sets "$TGT" "a backup with an unusable signing key"

log "expired keys -> 3"
faked=(--faked-system-time '20200101T000000!' --pinentry-mode loopback --passphrase '')
_gpg "${faked[@]}" --quick-gen-key "expired-enc <expired-enc@sealbox.test>" ed25519 cert 1d
EXP_ENC=$(_fpr_of "$GNUPGHOME" "<expired-enc@sealbox.test>")
_gpg "${faked[@]}" --quick-add-key "$EXP_ENC" cv25519 encr 1d
_gpg "${faked[@]}" --quick-gen-key "expired-sign <expired-sign@sealbox.test>" ed25519 sign 1d
EXP_SIGN=$(_fpr_of "$GNUPGHOME" "<expired-sign@sealbox.test>")
expect_exit 3 sb backup --target "$URL" --encrypt-key "$EXP_ENC" --sign-key "$SIGN_FPR" "$SRC"
expect_error "$(key_re "$EXP_ENC")"
expect_exit 3 sb backup --target "$URL" --encrypt-key "$ENC_FPR" --sign-key "$EXP_SIGN" "$SRC"
expect_error "$(key_re "$EXP_SIGN")"
no_sets "$TGT" "a backup with an expired key"

log "signing key passphrase: missing or wrong -> 4, right -> 0"
PW_SIGN=$(gen_sign_key "$GNUPGHOME" pw-sign "right passphrase")
PW_TGT="$T/target-pw"
mkdir "$PW_TGT"
# (gpg-agent caching is off in these keyrings, so nothing is remembered.)
expect_exit 4 sb backup --target "$PW_TGT" --encrypt-key "$ENC_FPR" --sign-key "$PW_SIGN" "$SRC"
expect_error "passphrase|$(key_re "$PW_SIGN")"
SEALBOX_SIGN_PASSPHRASE="wrong passphrase" \
    expect_exit 4 sb backup --target "$PW_TGT" --encrypt-key "$ENC_FPR" --sign-key "$PW_SIGN" "$SRC"
expect_error "passphrase|$(key_re "$PW_SIGN")"
no_sets "$PW_TGT" "a backup with a wrong passphrase"
SEALBOX_SIGN_PASSPHRASE="right passphrase" \
    expect_exit 0 sb backup --target "$PW_TGT" --encrypt-key "$ENC_FPR" --sign-key "$PW_SIGN" "$SRC"
expect_stats

log "the real backup"
expect_exit 0 backup --target "$URL" "$SRC"
expect_stats
T1=$(nth_time "$TGT" 1)
[ -n "$T1" ] || fail "no set after a successful backup"

log "secret encryption key passphrase: wrong or missing -> 4"
SEALBOX_SECRET_PASSPHRASE="not it" expect_exit 4 restore --target "$URL" "$T/r-wrongpass"
expect_error "passphrase|$(key_re "$ENC_FPR")|$(key_re "$ENC_SUB_FPR")|enc-secret"
no_wrong_bytes "$SRC" "$T/r-wrongpass"
env -u SEALBOX_SECRET_PASSPHRASE timeout 120 "$SEALBOX" restore --target "$URL" --sign-key "$SIGN_FPR" \
    --secret-key "$T/enc-secret.asc" "$T/r-nopass" </dev/null >"$LAST_OUT" 2>"$LAST_ERR" && LAST_RC=0 || LAST_RC=$?
[ "$LAST_RC" = 4 ] || { cat "$LAST_ERR" >&2; soft_fail "restore without SEALBOX_SECRET_PASSPHRASE (no tty): exit $LAST_RC, expected 4"; }

log "restore without the secret key -> 3"
expect_exit 3 sb restore --target "$URL" --sign-key "$SIGN_FPR" "$T/r-nosecret"
expect_error "$(key_re "$ENC_FPR")|$(key_re "$ENC_SUB_FPR")|secret key"
no_wrong_bytes "$SRC" "$T/r-nosecret"

log "restore with the wrong signing key -> 6"
expect_exit 6 sb restore --target "$URL" --sign-key "$FOREIGN_FPR" --secret-key "$T/enc-secret.asc" "$T/r-foreign"
expect_error "$(key_re "$FOREIGN_FPR")|$(key_re "$SIGN_FPR")|duplicity-"
no_wrong_bytes "$SRC" "$T/r-foreign"
[ -z "$(find "$T/r-foreign" -type f 2>/dev/null)" ] || soft_fail "files restored although no signature matched $FOREIGN_FPR"

log "missing target -> 5; empty target -> 7"
expect_exit 5 restore --target "file://$T/no-such-dir" "$T/r-missing"
expect_error "no-such-dir"
expect_exit 5 sb snapshots --target "$T/no-such-dir"
expect_error "no-such-dir"
mkdir "$T/empty-target"
expect_exit 7 restore --target "$T/empty-target" "$T/r-empty"
expect_error "empty-target"

log "time before the first backup, or no such path -> 7"
expect_exit 7 restore --target "$URL" --time 2001-01-01 "$T/r-early"
expect_exit 7 restore --target "$URL" --time "$((T1 - 3600))" "$T/r-early2"
expect_exit 7 restore --target "$URL" --path no/such/file "$T/r-nopath"
expect_error "no/such/file"
[ -z "$(find "$T/r-early" "$T/r-early2" "$T/r-nopath" -type f 2>/dev/null)" ] || soft_fail "files restored for a failed restore"
restore --target "$URL" --time "$T1" "$T/r-ok" >/dev/null 2>&1 || fail "restore at the set time itself failed"
compare "$SRC" "$T/r-ok" --ignore-root

log "another source's chain -> 8 (unless --allow-source-mismatch)"
OTHER="$T/other-src"
mkdir "$OTHER"
printf 'other\n' >"$OTHER/o.txt"
wait_next_second
expect_exit 8 backup --target "$URL" "$OTHER"
expect_error "$TGT|other-src|source"
[ "$(set_times "$TGT" | wc -l)" = 1 ] || fail "a refused backup added a set"
expect_exit 0 backup --target "$URL" --allow-source-mismatch "$OTHER"
[ "$(set_times "$TGT" | wc -l)" = 2 ] || fail "--allow-source-mismatch did not add a set"

if ! is_root; then
    log "skipping the privilege-dropping cases (not root)"
    exit 0
fi
need_cmd setpriv
nobody_setup
NSRC="$T/nobody/src"
mkdir -p "$NSRC/sub"
printf 'readable\n' >"$NSRC/ok.txt"
printf 'also readable\n' >"$NSRC/sub/ok2.txt"
printf 'secret\n' >"$NSRC/sub/unreadable.txt"
chown -R "$NOBODY_UID:$NOBODY_GID" "$NSRC"
chmod 000 "$NSRC/sub/unreadable.txt"

log "read-only target for backup -> 5 (as nobody)"
RO="$T/readonly-target"
mkdir "$RO"
chmod 755 "$RO"
expect_exit 5 sb_nobody backup --target "$RO" --encrypt-key "$ENC_FPR" --sign-key "$SIGN_FPR" "$NSRC"
expect_error "readonly-target"
[ -z "$(ls -A "$RO")" ] || fail "something was written to the read-only target"

log "unreadable source file -> 2, Errors 1, the rest backed up (as nobody)"
NT="$T/nobody-target"
mkdir "$NT"
chown "$NOBODY_UID:$NOBODY_GID" "$NT"
snapshot_copy "$NSRC" nobody
rm -f "$T/expect/nobody/sub/unreadable.txt"
touch -r "$NSRC/sub" "$T/expect/nobody/sub"
expect_exit 2 sb_nobody backup --target "$NT" --encrypt-key "$ENC_FPR" --sign-key "$SIGN_FPR" "$NSRC"
expect_stats
[ "$(stat_value Errors)" = 1 ] || { cat "$LAST_OUT" >&2; fail "Errors should be 1"; }
expect_stderr_match 'unreadable\.txt'
[ "$(set_times "$NT" | wc -l)" = 1 ] || fail "a backup with an unreadable file did not complete its set"
log "with -q and --log-file, the unreadable file is still named, on stderr and in the log"
wait_next_second
expect_exit 2 sb_nobody backup -q --log-file "$T/nobody/tmp/sb.log" --target "$NT" \
    --encrypt-key "$ENC_FPR" --sign-key "$SIGN_FPR" "$NSRC"
[ ! -s "$LAST_OUT" ] || fail "-q printed the statistics"
expect_error 'cannot read .*sub/unreadable\.txt'
grep -q 'error: cannot read .*sub/unreadable\.txt' "$T/nobody/tmp/sb.log" ||
    { cat "$T/nobody/tmp/sb.log" >&2; fail "the log file does not name the unreadable file"; }
tail -1 "$T/nobody/tmp/sb.log" | grep -q 'exit 2 (partial)' ||
    { cat "$T/nobody/tmp/sb.log" >&2; fail "the log file's last line is not the run's summary"; }
restore --target "$NT" "$T/r-nobody" >"$LAST_OUT" 2>"$LAST_ERR" || { cat "$LAST_ERR" >&2; fail "restore of the nobody backup failed"; }
compare "$T/expect/nobody" "$T/r-nobody" --ignore-root
