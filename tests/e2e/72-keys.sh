#!/bin/bash
# 72-keys: the offline-key workflow.  `sealbox keys create` in an empty
# keyring -> backup with the keyring as it is left -> restore with the secret
# key file -> identical trees.  Also: FILE is 0600, armored and passphrase
# protected (a wrong passphrase fails restore with exit 4); the keyring holds
# no secret for the encryption key, but its public half, ultimately trusted;
# no passphrase in any output; FILE is never overwritten; `keys check` passes,
# warns with the date for a key expiring in 10 days, catches the secret left
# in the keyring, a wrong FILE passphrase; one key in both roles is refused
# (keys check and backup) with the reason.
source "$(dirname "$0")/lib.sh"

_new_home "$GNUPGHOME"
export SEALBOX_SECRET_PASSPHRASE="offline 'usb' pass $RANDOM"
export SEALBOX_SIGN_PASSPHRASE="cron sign pass $RANDOM"
mkdir -m 700 "$T/usb"
FILE="$T/usb/sealbox-secret.asc"

# no_secret_in_output: neither passphrase appears in the last command's output.
no_secret_in_output() {
    if grep -aqF -e "$SEALBOX_SECRET_PASSPHRASE" -e "$SEALBOX_SIGN_PASSPHRASE" "$LAST_OUT" "$LAST_ERR"; then
        fail "a passphrase was printed"
    fi
}
# config_value KEY: "KEY = VALUE" from the last stdout.
config_value() { awk -v k="$1" '$1 == k && $2 == "=" { print $3; exit }' "$LAST_OUT"; }
# secret_in GNUPGHOME FPR: does that keyring hold a secret key for FPR?
secret_in() { gpg --homedir "$1" --batch --list-secret-keys "$2" >/dev/null 2>&1; }

log "keys create"
run sb keys create --secret-out "$FILE" --name "E2E Tester <e2e@sealbox.test>"
no_secret_in_output
ENC_FPR=$(config_value encrypt-key)
SIGN_FPR=$(config_value sign-key)
[[ $ENC_FPR =~ ^[0-9A-F]{40}$ ]] || { cat "$LAST_OUT" >&2; fail "no 'encrypt-key = FPR' line"; }
[[ $SIGN_FPR =~ ^[0-9A-F]{40}$ ]] || { cat "$LAST_OUT" >&2; fail "no 'sign-key = FPR' line"; }
[ "$ENC_FPR" != "$SIGN_FPR" ] || fail "one key made for both roles"
grep -q "Encryption key: $ENC_FPR" "$LAST_OUT" || fail "encryption fingerprint not printed"
grep -q "Signing key: *$SIGN_FPR" "$LAST_OUT" || fail "signing fingerprint not printed"
export ENC_FPR SIGN_FPR

log "FILE: mode 0600, armored secret key, passphrase protected"
[ "$(stat -c %a "$FILE")" = 600 ] || fail "$FILE has mode $(stat -c %a "$FILE"), not 600"
grep -q -- '-----BEGIN PGP PRIVATE KEY BLOCK-----' "$FILE" || fail "$FILE is not an armored secret key"
grep -aqF "$SEALBOX_SECRET_PASSPHRASE" "$FILE" && fail "the passphrase is in $FILE"
gpg --batch --list-packets "$FILE" 2>/dev/null | grep -q 'protected' ||
    fail "$FILE: the secret key is not passphrase-protected"
ls "$T/usb" | grep -qv '^sealbox-secret.asc$' && fail "stray files next to FILE: $(ls "$T/usb")"

log "the keyring: no secret encryption key, its public half trusted, the signing secret"
secret_in "$GNUPGHOME" "$ENC_FPR" && fail "the encryption key's secret is still in the keyring"
gpg --batch --list-keys "$ENC_FPR" >/dev/null 2>&1 || fail "the encryption key's public half is gone"
secret_in "$GNUPGHOME" "$SIGN_FPR" || fail "the signing key's secret is not in the keyring"
gpg --batch --with-colons --list-keys "$ENC_FPR" | awk -F: '$1 == "pub" { exit ($2 == "u") ? 0 : 1 }' ||
    fail "the encryption key lost its ultimate trust"
gpg --batch --with-colons --list-keys "$ENC_FPR" | awk -F: '$1 == "sub" && $12 ~ /e/ { f = 1 } END { exit !f }' ||
    fail "the encryption key has no encryption subkey"

log "keys check: all good"
run sb keys check --encrypt-key "$ENC_FPR" --sign-key "$SIGN_FPR" --secret-key "$FILE"
no_secret_in_output
[ "$(grep -c '^ok ' "$LAST_OUT")" = 4 ] || { cat "$LAST_OUT" >&2; fail "expected 4 'ok' lines"; }

log "backup with the keyring as left, restore with FILE"
SRC="$T/src"
make_tree "$SRC"
URL="file://$T/target"
sb_backup "$URL" "$SRC" --volsize 1
no_secret_in_output
expect_exit 0 sb restore --target "$URL" --sign-key "$SIGN_FPR" --secret-key "$FILE" "$T/restored"
no_secret_in_output
compare "$SRC" "$T/restored"

log "restore: FILE needs its passphrase"
SEALBOX_SECRET_PASSPHRASE="not it" expect_exit 4 sb restore --target "$URL" \
    --sign-key "$SIGN_FPR" --secret-key "$FILE" "$T/restored-wrong"
expect_error 'passphrase'
no_wrong_bytes "$SRC" "$T/restored-wrong"
# no variable and no terminal (setsid: no controlling tty)
expect_exit 4 env -u SEALBOX_SECRET_PASSPHRASE setsid -w timeout 120 "$SEALBOX" restore \
    --target "$URL" --sign-key "$SIGN_FPR" --secret-key "$FILE" "$T/restored-nopass"
expect_error 'passphrase'
# the user's keyring cannot decrypt: its secret is offline
expect_exit 3 sb restore --target "$URL" --sign-key "$SIGN_FPR" "$T/restored-nokey"
secret_in "$GNUPGHOME" "$ENC_FPR" && fail "restore left the secret key in the keyring"

log "keys check: the wrong FILE passphrase is exit 4"
SEALBOX_SECRET_PASSPHRASE="not it" expect_exit 4 sb keys check --encrypt-key "$ENC_FPR" \
    --sign-key "$SIGN_FPR" --secret-key "$FILE"
grep -q '^FAIL  secret key file' "$LAST_OUT" || { cat "$LAST_OUT" >&2; fail "no FAIL line for FILE"; }
log "keys check: the wrong signing passphrase is exit 4"
SEALBOX_SIGN_PASSPHRASE="not it" expect_exit 4 sb keys check --sign-key "$SIGN_FPR"

log "keys create refuses to overwrite FILE"
sum_before=$(sha256sum "$FILE")
keys_before=$(gpg --batch --with-colons --list-keys | grep -c '^pub:')
expect_exit 10 sb keys create --secret-out "$FILE" --name "Again <again@sealbox.test>"
expect_error 'exists|overwrite'
[ "$(sha256sum "$FILE")" = "$sum_before" ] || fail "$FILE was changed"
[ "$(gpg --batch --with-colons --list-keys | grep -c '^pub:')" = "$keys_before" ] ||
    fail "keys were created although FILE exists"
ln -s "$T/usb/elsewhere.asc" "$T/usb/link.asc"
expect_exit 10 sb keys create --secret-out "$T/usb/link.asc"
[ -e "$T/usb/elsewhere.asc" ] && fail "keys create followed a symlink"
rm "$T/usb/link.asc"

log "keys create: passphrase rules"
SEALBOX_SECRET_PASSPHRASE="" expect_exit 4 sb keys create --secret-out "$T/usb/empty.asc"
[ -e "$T/usb/empty.asc" ] && fail "FILE made with an empty passphrase"
SEALBOX_SIGN_PASSPHRASE="$SEALBOX_SECRET_PASSPHRASE" expect_exit 4 sb keys create \
    --secret-out "$T/usb/same.asc"
expect_error 'differ'
expect_exit 4 env -u SEALBOX_SECRET_PASSPHRASE setsid -w timeout 60 "$SEALBOX" keys create \
    --secret-out "$T/usb/notty.asc"
[ -e "$T/usb/notty.asc" ] && fail "FILE made without a passphrase"
expect_exit 1 sb keys create --secret-out "$T/usb/x.asc" --expire 5m
expect_exit 1 sb keys create --secret-out "$T/usb/x.asc" --algo dsa1024
expect_exit 1 sb keys create --secret-out "$T/usb/x.asc" --name "bad <name"
expect_exit 1 sb keys create

log "keys check catches the secret encryption key left in the keyring"
gpg --batch --quiet --pinentry-mode loopback --passphrase "$SEALBOX_SECRET_PASSPHRASE" \
    --import "$FILE" 2>/dev/null
secret_in "$GNUPGHOME" "$ENC_FPR" || fail "could not import $FILE for the test"
expect_exit 3 sb keys check --encrypt-key "$ENC_FPR" --sign-key "$SIGN_FPR"
expect_error "secret.*$ENC_FPR.*in this keyring"
expect_stderr_match 'intruder on this machine could read every backup'
grep -q '^FAIL  encryption key .*secret half is not in this keyring' "$LAST_OUT" ||
    { cat "$LAST_OUT" >&2; fail "no FAIL line for the secret in the keyring"; }
gpg --batch --yes --delete-secret-keys "$ENC_FPR" 2>/dev/null
run sb keys check --encrypt-key "$ENC_FPR" --sign-key "$SIGN_FPR"

log "one key in both roles is refused"
expect_exit 1 sb keys check --encrypt-key "$SIGN_FPR" --sign-key "$SIGN_FPR"
expect_error "both the encryption and the signing key.*whoever takes this machine gets the signing key's secret, and so the backups"
expect_exit 1 sb backup --target "$URL" --encrypt-key "$SIGN_FPR" --sign-key "$SIGN_FPR" "$SRC"
expect_error "whoever takes this machine gets the signing key's secret"
# allowed, it goes on to the key checks (this key cannot encrypt: exit 3)
expect_exit 3 sb backup --target "$URL" --encrypt-key "$SIGN_FPR" --sign-key "$SIGN_FPR" \
    --allow-same-key "$SRC"
expect_stderr_match 'allow-same-key'

log "a key expiring in 10 days: check warns with the date and fails; backup warns"
export GNUPGHOME="$T/gnupg-short"
_new_home "$GNUPGHOME"
run sb keys create --secret-out "$T/usb/short.asc" --expire 10D --name "Short <short@sealbox.test>"
SENC=$(config_value encrypt-key)
SSIGN=$(config_value sign-key)
when=$(date -u -d '+10 days' +%Y-%m-%d)
when2=$(date -u -d '+10 days 1 hour' +%Y-%m-%d) # around midnight
expect_exit 3 sb keys check --encrypt-key "$SENC" --sign-key "$SSIGN" --secret-key "$T/usb/short.asc"
expect_stderr_match "$SENC.* expires on ($when|$when2)"
expect_stderr_match "$SSIGN.* expires on ($when|$when2)"
grep -q "^ok    secret key file" "$LAST_OUT" || { cat "$LAST_OUT" >&2; fail "FILE check did not pass"; }
expect_exit 0 sb backup --target "file://$T/target-short" --encrypt-key "$SENC" --sign-key "$SSIGN" "$SRC"
expect_stderr_match "warning: .*$SENC expires on ($when|$when2)"

log "--algo rsa3072 --expire never"
export GNUPGHOME="$T/gnupg-rsa"
_new_home "$GNUPGHOME"
run sb keys create --secret-out "$T/usb/rsa.asc" --algo rsa3072 --expire never --name "<rsa@sealbox.test>"
RENC=$(config_value encrypt-key)
RSIGN=$(config_value sign-key)
gpg --batch --with-colons --list-keys "$RENC" | awk -F: '$1 == "pub" { exit !($3 == 3072 && $7 == "") }' ||
    fail "not a non-expiring rsa3072 key"
secret_in "$GNUPGHOME" "$RENC" && fail "rsa: the encryption key's secret is still in the keyring"
run sb keys check --encrypt-key "$RENC" --sign-key "$RSIGN" --secret-key "$T/usb/rsa.asc"
