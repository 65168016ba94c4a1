#!/bin/bash
# 95-progress: the progress line covers every long phase, on a terminal only
# (issue 14 item 8). Under a pseudo-terminal (script(1)), with the line
# redrawn at every update (SEALBOX_PROGRESS_INTERVAL=0): backup shows
# "reading" and then "encrypting and uploading" the last volume, with bytes
# of a known total, a rate and an ETA while bytes remain, then the metadata; restore shows the
# bytes written and the volumes read of the snapshot's, with an ETA once one
# is read; verify the bytes hashed of the total. Without a terminal, no line.
source "$(dirname "$0")/lib.sh"
need_cmd script

make_keys "sign pass $RANDOM"
SRC="$T/src"
mkdir -p "$SRC"
{ yes 'a line that compresses, so that gpg takes its time over it' || true; } |
    head -c $((24 << 20)) >"$SRC/text"
head -c $((2 << 20)) /dev/urandom >"$SRC/random"
export SEALBOX_PROGRESS_INTERVAL=0

# on_tty OUT CMD...: run CMD under a pseudo-terminal, its output (\r as
# newlines) into OUT; exit status as CMD's.
on_tty() {
    local out=$1 q=""
    shift
    printf -v q '%q ' "$@"
    timeout -k 10 300 script -qefc "$q" /dev/null >"$out.raw" 2>&1 </dev/null
    local rc=$?
    tr '\r' '\n' <"$out.raw" | sed 's/\x1b\[K//g' >"$out"
    return $rc
}

# has OUT REGEX WHAT: a line of OUT matches REGEX.
has() {
    grep -Eq -- "$2" "$1" || { cat "$1" >&2; fail "no progress line of $3 (/$2/)"; }
}

log "backup: reading, then encrypting and uploading, with an ETA"
on_tty "$T/backup" "$SEALBOX" backup --target "file://$T/big" --encrypt-key "$ENC_FPR" \
    --sign-key "$SIGN_FPR" --volsize 64 "$SRC" || fail "backup under a terminal failed"
has "$T/backup" '^reading: [0-9]+ files, [0-9.]+ [KMG]?i?B, [0-9.]+ [KMG]?i?B/s' "reading"
has "$T/backup" '^encrypting and uploading: [0-9.]+ [KMG]?i?B of 2[0-9]\.[0-9] MiB, [0-9.]+ [KMG]?i?B/s, ETA [0-9]+:[0-9]{2}$' \
    "the upload of the last volume"
has "$T/backup" '^encrypting and uploading metadata: [0-9.]+ [KMG]?i?B, [0-9.]+ [KMG]?i?B/s  .*\.sigtar\.gpg$' \
    "the signatures' upload"
grep -q '^Errors 0' "$T/backup" || fail "backup's statistics missing"

log "restore: bytes, volumes read of the snapshot's, an ETA once one is read"
run sb backup --target "file://$T/small" --encrypt-key "$ENC_FPR" --sign-key "$SIGN_FPR" \
    --volsize 4 "$SRC"
nvol=$(ls "$T/small"/*.difftar.gpg | wc -l)
[ "$nvol" -ge 5 ] || fail "expected 5 volumes or more, got $nvol"
on_tty "$T/restore" "$SEALBOX" restore --target "file://$T/small" --sign-key "$SIGN_FPR" \
    --secret-key "$T/enc-secret.asc" "$T/r" || fail "restore under a terminal failed"
has "$T/restore" "^restoring: [0-9]+ files, [0-9.]+ [KMG]?i?B, [0-9.]+ [KMG]?i?B/s, vol 0/$nvol  text$" \
    "restore before a volume is read"
has "$T/restore" "^restoring: .*, vol [1-9][0-9]*/$nvol, ETA [0-9]+:[0-9]{2}  text$" "restore"
cmp "$SRC/text" "$T/r/text" || fail "restore under a terminal restored wrong bytes"

log "verify: bytes hashed of the total"
on_tty "$T/verify" "$SEALBOX" verify --target "file://$T/small" --sign-key "$SIGN_FPR" ||
    fail "verify under a terminal failed"
has "$T/verify" '^verifying: [0-9.]+ [KMG]?i?B of 2\.[0-9] MiB, [0-9.]+ [KMG]?i?B/s, ETA [0-9]+:[0-9]{2}' \
    "verify"

if command -v duplicity >/dev/null; then
    log "ls of a duplicity chain: the index built from its volumes, once"
    mkdir -p "$T/dupt"
    run dup full "$SRC" "file://$T/dupt"
    on_tty "$T/ls" "$SEALBOX" ls --target "file://$T/dupt" --sign-key "$SIGN_FPR" \
        --secret-key "$T/enc-secret.asc" || fail "ls under a terminal failed"
    has "$T/ls" '^reading indexes: [0-9]+ files, [0-9.]+ [KMG]?i?B, [0-9.]+ [KMG]?i?B/s  text$' \
        "the index built"
    grep -Eq -- '^-rw-r--r-- +25165824 .* text$' "$T/ls" || fail "ls of the duplicity chain"
else
    log "no duplicity: the index building not tried"
fi

log "no terminal: no progress line"
run sb restore --target "file://$T/small" --sign-key "$SIGN_FPR" \
    --secret-key "$T/enc-secret.asc" "$T/r2"
! grep -q $'\r' "$LAST_ERR" "$LAST_OUT" || fail "a progress line without a terminal"
! grep -q 'restoring:' "$LAST_ERR" || fail "a progress line without a terminal"
