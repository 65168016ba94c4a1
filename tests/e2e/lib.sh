# tests/e2e/lib.sh - shared helpers for the end-to-end tests.
#
# Sourced by every tests/e2e/NN-name.sh.  ctest runs them as
#   SEALBOX=/path/to/sealbox SB_TESTS=/path/to/tests bash tests/e2e/NN-name.sh
# Exit status: 0 pass, 77 skip (a prerequisite is missing), anything else fail.
#
# Environment knobs:
#   SEALBOX        the binary under test (required unless SB_NO_SEALBOX=1)
#   SB_TESTS       the tests/ directory (defaults to this file's parent)
#   SB_KEEP=1      keep the temp dir after the test (its path is printed)
#   SB_NO_SEALBOX=1  allow sourcing without a sealbox binary (harness checks)
#   SB_LENIENT=1   report wrong exit codes / error texts as "MISMATCH" and
#                  carry on (to see every problem of an unfinished binary in
#                  one run; such a run always ends in failure)
#
# Everything a test creates lives under $T (mktemp -d), which the EXIT trap
# removes after stopping gpg-agents, unmounting FUSE mounts and killing the
# background processes started through bg_start.

set -eEuo pipefail
shopt -s nullglob
# A failing command outside the helpers: say which one before exiting.
trap '_sb_rc=$?; [[ $- == *e* ]] && [ "$BASH_SUBSHELL" = 0 ] && printf "FAIL: %s: line %s: command failed (exit %s): %s\n" "${SB_NAME:-test}" "$LINENO" "$_sb_rc" "$BASH_COMMAND" >&2' ERR

SB_TESTS=${SB_TESTS:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
SB_ROOT=$(cd "$SB_TESTS/.." && pwd)
TREECMP="$SB_ROOT/scripts/treecmp.py"
SB_NAME=$(basename "${BASH_SOURCE[1]:-$0}" .sh)

# ---------------------------------------------------------------- messages

log() { printf '### %s: %s\n' "$SB_NAME" "$*" >&2; }
fail() {
    printf 'FAIL: %s: %s\n' "$SB_NAME" "$*" >&2
    exit 1
}
SB_MISMATCHES=0
# soft_fail MSG: fail, or under SB_LENIENT=1 only count and report.
soft_fail() {
    if [ "${SB_LENIENT:-0}" = 1 ]; then
        printf 'MISMATCH: %s: %s\n' "$SB_NAME" "$*" >&2
        SB_MISMATCHES=$((SB_MISMATCHES + 1))
    else
        fail "$@"
    fi
}
skip() {
    printf 'SKIP: %s: %s\n' "$SB_NAME" "$*" >&2
    exit 77
}

# ------------------------------------------------------- temp dir, cleanup

# Short path: gpg-agent socket names must fit in sockaddr_un.
T=$(mktemp -d /tmp/sbe2e.XXXXXX)
# Others may traverse $T (tests that drop privileges need that); the
# keyrings inside are 0700.
chmod 755 "$T"
export T

SB_GNUPGHOMES=()     # "uid:path" of every keyring whose agent we must stop
SB_BG_PIDS=()        # background processes (process-group leaders)

_sb_cleanup() {
    local rc=$? p h mp
    set +e
    if [ $rc = 0 ] && [ "$SB_MISMATCHES" != 0 ]; then
        echo "### $SB_NAME: $SB_MISMATCHES mismatches (SB_LENIENT)" >&2
        rc=1
    fi
    trap - EXIT INT TERM
    for p in "${SB_BG_PIDS[@]}"; do
        kill -KILL -- "-$p" 2>/dev/null || kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    # FUSE mounts below $T (mount points listed in /proc/mounts are octal-escaped).
    if [ -r /proc/self/mounts ]; then
        while read -r _ mp _; do
            mp=$(printf '%b' "${mp//\\/\\0}")
            case $mp in
                "$T"/*) fusermount3 -u -z "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null ;;
            esac
        done < <(tac /proc/self/mounts)
    fi
    for h in "${SB_GNUPGHOMES[@]}"; do
        if [ "${h%%:*}" = "$(id -u)" ]; then
            gpgconf --homedir "${h#*:}" --kill all >/dev/null 2>&1
        else
            setpriv --reuid="${h%%:*}" --regid="${h%%:*}" --clear-groups \
                gpgconf --homedir "${h#*:}" --kill all >/dev/null 2>&1
        fi
    done
    # Agents of keyrings made below $T by the programs under test (e.g. a
    # temporary keyring for --secret-key that a killed process left behind).
    for p in /proc/[0-9]*; do
        h=$({ tr '\0' '\n' <"$p/cmdline"; } 2>/dev/null | awk 'NR == 1 && $0 !~ /gpg-agent$/ { exit } prev == "--homedir" { print; exit } { prev = $0 }')
        case $h in
            "$T"/*) gpgconf --homedir "$h" --kill all >/dev/null 2>&1 || kill "${p#/proc/}" 2>/dev/null ;;
        esac
    done
    if [ "${SB_KEEP:-0}" = 1 ]; then
        echo "### $SB_NAME: kept $T" >&2
    else
        chmod -R u+rwX "$T" 2>/dev/null
        rm -rf "$T"
    fi
    if [ $rc = 0 ]; then
        echo "### $SB_NAME: PASS" >&2
    elif [ $rc = 77 ]; then
        echo "### $SB_NAME: SKIPPED" >&2
    else
        echo "### $SB_NAME: FAILED (exit $rc)" >&2
    fi
    exit $rc
}
trap _sb_cleanup EXIT
trap 'exit 130' INT TERM

# Private, reproducible environment.
export HOME="$T/home"
export XDG_CACHE_HOME="$HOME/.cache"
export XDG_CONFIG_HOME="$HOME/.config"
export GNUPGHOME="$T/gnupg"
export TMPDIR="$T/tmp"
export TZ=UTC
export LC_ALL=C.UTF-8
unset SEALBOX_SIGN_PASSPHRASE SEALBOX_SECRET_PASSPHRASE PASSPHRASE SIGN_PASSPHRASE \
    GPG_AGENT_INFO SSH_AUTH_SOCK DISPLAY 2>/dev/null || true
mkdir -p "$HOME" "$XDG_CACHE_HOME" "$XDG_CONFIG_HOME" "$TMPDIR"
chmod 700 "$HOME"
mkdir -p "$T/out"

is_root() { [ "$(id -u)" = 0 ]; }
need_cmd() {
    local c
    for c; do command -v "$c" >/dev/null 2>&1 || skip "needs $c"; done
}
need_root() { is_root || skip "needs root${1:+ ($1)}"; }

need_cmd gpg gpgconf python3 timeout
if [ "${SB_NO_SEALBOX:-0}" != 1 ]; then
    [ -n "${SEALBOX:-}" ] || fail "SEALBOX is not set (path to the sealbox binary)"
    [ -x "$SEALBOX" ] || fail "SEALBOX=$SEALBOX is not an executable file"
    SEALBOX=$(realpath "$SEALBOX")
fi

# ------------------------------------------------------- running commands

# Every command run through these helpers leaves its output in
# $T/out/last.out and $T/out/last.err (also copied to LAST_OUT / LAST_ERR).
LAST_OUT="$T/out/last.out"
LAST_ERR="$T/out/last.err"
LAST_RC=0
SB_TIMEOUT=${SB_TIMEOUT:-300}

# _run CMD...: run with stdin from /dev/null, record rc.  CMD may be a shell
# function; sb and dup apply their own timeouts (exit 124 = timed out).
_run() {
    set +e
    ( set -e; "$@" ) >"$LAST_OUT" 2>"$LAST_ERR" </dev/null
    LAST_RC=$?
    set -e
    if [ "$LAST_RC" = 124 ] || [ "$LAST_RC" = 137 ]; then
        echo "### exit $LAST_RC: killed by timeout? $*" >>"$LAST_ERR"
    fi
}

_show_last() {
    echo "----- command: $*" >&2
    echo "----- exit status: $LAST_RC" >&2
    echo "----- stdout:" >&2
    head -c 20000 "$LAST_OUT" >&2
    echo "----- stderr:" >&2
    head -c 20000 "$LAST_ERR" >&2
    echo "-----" >&2
}

# expect_exit CODE CMD...: run CMD, fail the test unless it exits with CODE.
expect_exit() {
    local want=$1
    shift
    _run "$@"
    if [ "$LAST_RC" != "$want" ]; then
        _show_last "$@"
        soft_fail "expected exit $want, got $LAST_RC: $*"
    fi
}

# run CMD...: same as expect_exit 0.
run() { expect_exit 0 "$@"; }

# expect_stderr_match REGEX: the last command's stderr matches (grep -E).
expect_stderr_match() {
    if ! grep -aEq -- "$1" "$LAST_ERR"; then
        echo "----- stderr was:" >&2
        cat "$LAST_ERR" >&2
        soft_fail "stderr does not match /$1/"
    fi
}
expect_stdout_match() {
    if ! grep -aEq -- "$1" "$LAST_OUT"; then
        echo "----- stdout was:" >&2
        cat "$LAST_OUT" >&2
        soft_fail "stdout does not match /$1/"
    fi
}

# expect_error REGEX: stderr has a "sealbox: error: " line matching REGEX
# (case-insensitive; the contract: one line starting with that prefix,
# naming the file/key/host at fault).
expect_error() {
    local line
    line=$(grep -aE '^sealbox: error: ' "$LAST_ERR" || true)
    if [ -z "$line" ]; then
        echo "----- stderr was:" >&2
        cat "$LAST_ERR" >&2
        soft_fail "no 'sealbox: error: ' line on stderr"
        return 0
    fi
    if ! grep -aE '^sealbox: error: ' "$LAST_ERR" | grep -aiEq -- "$1"; then
        echo "----- stderr was:" >&2
        cat "$LAST_ERR" >&2
        soft_fail "'sealbox: error:' line does not match /$1/"
    fi
}

# stat_value NAME: the value of a statistics line ("Errors 0") in last stdout.
stat_value() {
    awk -v k="$1" '$1 == k { print $2; found = 1; exit } END { if (!found) exit 1 }' "$LAST_OUT" ||
        { cat "$LAST_OUT" >&2; fail "no '$1' line in the statistics on stdout"; }
}

# expect_stats: the statistics block duplicity prints is on stdout.
expect_stats() {
    local k
    for k in StartTime EndTime ElapsedTime SourceFiles SourceFileSize NewFiles \
        DeletedFiles ChangedFiles DeltaEntries RawDeltaSize TotalDestinationSizeChange Errors; do
        grep -Eq "^$k " "$LAST_OUT" || { cat "$LAST_OUT" >&2; fail "statistics lack '$k'"; }
    done
}

# bg_start CMD...: start CMD in its own process group (killed at exit).
# Sets BG_PID.
bg_start() {
    setsid "$@" >"$T/out/bg.$$.${#SB_BG_PIDS[@]}.out" 2>&1 </dev/null &
    BG_PID=$!
    SB_BG_PIDS+=("$BG_PID")
}

# ------------------------------------------------------------------ sealbox

# sb ARGS...: the binary under test, with a timeout, output in LAST_OUT/ERR.
# Use as: expect_exit 0 sb backup ...
sb() { timeout -k 10 "$SB_TIMEOUT" "$SEALBOX" "$@"; }

# sb_backup TARGET SOURCE [OPTS...]: backup with the test keys (exit 0 expected).
sb_backup() {
    local target=$1 src=$2
    shift 2
    expect_exit 0 sb backup --target "$target" --encrypt-key "$ENC_FPR" \
        --sign-key "$SIGN_FPR" "$@" "$src"
    expect_stats
    [ "$(stat_value Errors)" = 0 ] || fail "backup reported errors"
}

# sb_restore TARGET DEST [OPTS...]: restore with the exported secret key.
sb_restore() {
    local target=$1 dest=$2
    shift 2
    expect_exit 0 sb restore --target "$target" --sign-key "$SIGN_FPR" \
        --secret-key "$T/enc-secret.asc" "$@" "$dest"
}

# ------------------------------------------------------------------- keys

_gpg() {
    gpg --batch --no-tty --quiet "$@" 2>>"$T/out/gpg.log" ||
        { cat "$T/out/gpg.log" >&2; fail "gpg $(_redacted "$@")"; }
}

# _redacted ARGS...: the arguments for a message, a passphrase given to gpg
# shown as ***
_redacted() {
    local a hide= out=()
    for a in "$@"; do
        if [ -n "$hide" ]; then out+=('***'); hide=
        elif [ "$a" = --passphrase ]; then out+=("$a"); hide=1
        elif [[ $a == --passphrase=* ]]; then out+=('--passphrase=***')
        else out+=("$a"); fi
    done
    printf '%s' "${out[*]}"
}

# _new_home DIR: an empty keyring with an agent that never prompts.
_new_home() {
    mkdir -p "$1"
    chmod 700 "$1"
    # Loopback only: a pinentry must never be started (it would hang or fail
    # confusingly); passphrases are not cached so a wrong one is always noticed.
    cat >"$1/gpg-agent.conf" <<EOF
allow-loopback-pinentry
pinentry-program /bin/false
default-cache-ttl 0
max-cache-ttl 0
EOF
    SB_GNUPGHOMES+=("$(id -u):$1")
}

_fpr_of() { # _fpr_of HOME UID-email
    gpg --homedir "$1" --batch --with-colons --list-keys "$2" 2>/dev/null | awk -F: '$1 == "fpr" { print $10; exit }'
}

# gen_sign_key HOME NAME [PASSPHRASE] [EXTRA quick-gen-key args]: prints fingerprint.
gen_sign_key() {
    local home=$1 name=$2 pass=${3:-}
    _gpg --homedir "$home" --pinentry-mode loopback --passphrase "$pass" \
        --quick-gen-key "$name <$name@sealbox.test>" ed25519 sign "${4:-never}"
    _fpr_of "$home" "<$name@sealbox.test>"
}

# make_keys [SIGN_PASSPHRASE]
#   $GNUPGHOME (the backup machine): public half of the encryption key,
#     secret signing key (no passphrase unless one is given; then exported as
#     SEALBOX_SIGN_PASSPHRASE), secret 'foreign' signing key.
#   $T/enc-secret.asc: the encryption key's secret half, armored, protected
#     with $SEALBOX_SECRET_PASSPHRASE (deleted from $GNUPGHOME).
#   $RESTORE_GNUPGHOME: what a duplicity restorer needs: secret encryption
#     key + public signing and foreign keys, all trusted.
#   $ALL_GNUPGHOME: everything secret (duplicity continuing a chain it must
#     first sync, i.e. decrypt, from the target).
# Exports ENC_FPR SIGN_FPR FOREIGN_FPR SEALBOX_SECRET_PASSPHRASE
# [SEALBOX_SIGN_PASSPHRASE] RESTORE_GNUPGHOME ALL_GNUPGHOME.
make_keys() {
    local sign_pass=${1:-}
    export SEALBOX_SECRET_PASSPHRASE="enc secret pass 'x' $RANDOM"
    _new_home "$GNUPGHOME"
    # gpg-agent (2.2.40) now and then cannot export a key it just made
    # ("Corrupted protection"): that key is dropped and another one made
    local try
    for try in 1 2 3; do
        _gpg --pinentry-mode loopback --passphrase "$SEALBOX_SECRET_PASSPHRASE" \
            --quick-gen-key "sealbox-enc <enc@sealbox.test>" ed25519 cert never
        ENC_FPR=$(_fpr_of "$GNUPGHOME" "<enc@sealbox.test>")
        _gpg --pinentry-mode loopback --passphrase "$SEALBOX_SECRET_PASSPHRASE" \
            --quick-add-key "$ENC_FPR" cv25519 encr never
        if gpg --batch --no-tty --quiet --pinentry-mode loopback \
            --passphrase "$SEALBOX_SECRET_PASSPHRASE" --armor --export-secret-keys \
            "$ENC_FPR" >"$T/enc-secret.asc" 2>>"$T/out/gpg.log" &&
            grep -q 'BEGIN PGP PRIVATE KEY BLOCK' "$T/enc-secret.asc"; then
            break
        fi
        [ "$try" = 3 ] && { cat "$T/out/gpg.log" >&2; fail "secret key export failed"; }
        log "the new encryption key could not be exported: another one"
        _gpg --yes --delete-secret-and-public-keys "$ENC_FPR"
    done
    _gpg --yes --delete-secret-keys "$ENC_FPR"
    if gpg --batch --list-secret-keys "$ENC_FPR" >/dev/null 2>&1; then
        fail "secret encryption key still in $GNUPGHOME"
    fi
    # gpg names the encryption *subkey* in "no secret key" messages
    ENC_SUB_FPR=$(gpg --batch --with-colons --list-keys "$ENC_FPR" 2>/dev/null |
        awk -F: '$1 == "sub" { s = 1 } s && $1 == "fpr" { print $10; exit }')
    export ENC_SUB_FPR
    SIGN_FPR=$(gen_sign_key "$GNUPGHOME" sealbox-sign "$sign_pass")
    FOREIGN_FPR=$(gen_sign_key "$GNUPGHOME" sealbox-foreign "")
    [ -n "$ENC_FPR" ] && [ -n "$SIGN_FPR" ] && [ -n "$FOREIGN_FPR" ] || fail "key generation failed"
    export ENC_FPR SIGN_FPR FOREIGN_FPR
    if [ -n "$sign_pass" ]; then export SEALBOX_SIGN_PASSPHRASE="$sign_pass"; fi
    _gpg --armor --export "$ENC_FPR" "$SIGN_FPR" "$FOREIGN_FPR" >"$T/public.asc"
    _gpg --pinentry-mode loopback --passphrase "$sign_pass" \
        --armor --export-secret-keys "$SIGN_FPR" >"$T/sign-secret.asc"
    printf '%s:6:\n%s:6:\n%s:6:\n' "$ENC_FPR" "$SIGN_FPR" "$FOREIGN_FPR" >"$T/ownertrust"

    export RESTORE_GNUPGHOME="$T/gnupg-restore"
    _new_home "$RESTORE_GNUPGHOME"
    _gpg --homedir "$RESTORE_GNUPGHOME" --import "$T/public.asc"
    _gpg --homedir "$RESTORE_GNUPGHOME" --pinentry-mode loopback \
        --passphrase "$SEALBOX_SECRET_PASSPHRASE" --import "$T/enc-secret.asc"
    _gpg --homedir "$RESTORE_GNUPGHOME" --import-ownertrust "$T/ownertrust"

    export ALL_GNUPGHOME="$T/gnupg-all"
    _new_home "$ALL_GNUPGHOME"
    _gpg --homedir "$ALL_GNUPGHOME" --import "$T/public.asc"
    _gpg --homedir "$ALL_GNUPGHOME" --pinentry-mode loopback \
        --passphrase "$SEALBOX_SECRET_PASSPHRASE" --import "$T/enc-secret.asc"
    _gpg --homedir "$ALL_GNUPGHOME" --pinentry-mode loopback \
        --passphrase "$sign_pass" --import "$T/sign-secret.asc"
    _gpg --homedir "$ALL_GNUPGHOME" --import-ownertrust "$T/ownertrust"
    log "keys: enc $ENC_FPR sign $SIGN_FPR foreign $FOREIGN_FPR"
}

# ------------------------------------------------------------------ trees

# Size used for "larger than a volume" files; tests use --volsize 1.
BIG_BYTES=$((3 * 1024 * 1024))

# make_tree DIR: a tree with every object type duplicity keeps.
# Without root, ownership/0000/device parts are left out.
make_tree() {
    local d=$1 long255 i p
    mkdir -p "$d"
    : >"$d/empty"
    printf 'hello\n' >"$d/small.txt"
    printf 'second small file\n' >"$d/b.txt"
    head -c 65536 /dev/urandom >"$d/exact64k.bin"
    head -c 131072 /dev/urandom >"$d/exact128k.bin"
    head -c 65535 /dev/urandom >"$d/under64k.bin"
    head -c "$BIG_BYTES" /dev/urandom >"$d/big.bin"
    # A highly compressible large file too (fills volumes differently).
    { yes 'sealbox compressible line' || true; } | head -c 1500000 >"$d/zeros-ish.txt"
    mkdir -p "$d/dir1/dir2/dir3" "$d/emptydir"
    printf 'deep\n' >"$d/dir1/dir2/dir3/deep.txt"
    printf 'one\n' >"$d/dir1/one.txt"
    printf 'two\n' >"$d/dir1/dir2/two.txt"
    mkdir -p "$d/todelete/sub"
    printf 'x\n' >"$d/todelete/sub/x.txt"
    printf 'y\n' >"$d/todelete/y.txt"
    printf 'gone soon\n' >"$d/delete-me.txt"
    printf 'will become a dir\n' >"$d/typechange"
    # symlinks
    ln -s small.txt "$d/link-to-small"
    ln -s dir1/dir2 "$d/link-to-dir"
    ln -s does/not/exist "$d/dangling"
    ln -s /etc/hostname "$d/abs-link"
    # hard links
    printf 'linked content\n' >"$d/hard-a"
    ln "$d/hard-a" "$d/hard-b"
    # fifo
    mkfifo "$d/fifo"
    # odd names
    printf 'space\n' >"$d/name with spaces.txt"
    printf 'newline\n' >"$d/new"$'\n'"line"
    printf 'quotes\n' >"$d/quote\"s'and\\backslash"
    printf 'latin1\n' >"$d/caf"$'\xe9'".txt"
    printf 'unicode\n' >"$d/ünïcødé-日本語-✓.txt"
    printf 'leading dash\n' >"$d/-dash"
    printf 'dots\n' >"$d/..dots"
    # a path longer than 255 bytes over several components
    p="$d/long"
    for i in 1 2 3 4 5; do p="$p/$(printf 'component%02d_%s' "$i" "$(printf 'x%.0s' $(seq 60))")"; done
    mkdir -p "$p"
    printf 'long path\n' >"$p/file-at-the-end.txt"
    # a single 255-byte component
    long255=$(printf 'L%.0s' $(seq 251))
    printf 'max name\n' >"$d/$long255.txt"
    mkdir -p "$d/modes"
    printf 'suid\n' >"$d/modes/suid"
    printf 'sgid\n' >"$d/modes/sgid"
    printf 'private\n' >"$d/modes/private"
    printf 'none\n' >"$d/modes/none"
    printf 'exec\n' >"$d/modes/exec"
    mkdir -p "$d/modes/sticky" "$d/modes/sgiddir"
    if is_root; then
        mkdir -p "$d/owned"
        printf 'owned\n' >"$d/owned/file"
        ln -s file "$d/owned/link"
        chown -h 12345:54321 "$d/owned/file" "$d/owned/link" "$d/owned"
        chown 12345:54321 "$d/modes/suid"
        chown 0:54321 "$d/modes/sgid"
        if mknod "$d/null-dev" c 1 3 2>/dev/null; then
            chmod 0640 "$d/null-dev"
        fi
    fi
    chmod 4755 "$d/modes/suid"
    chmod 2750 "$d/modes/sgid"
    chmod 1777 "$d/modes/sticky"
    chmod 2775 "$d/modes/sgiddir"
    chmod 0600 "$d/modes/private"
    chmod 0755 "$d/modes/exec"
    chmod 0700 "$d/dir1/dir2/dir3"
    if is_root; then chmod 0000 "$d/modes/none"; else chmod 0400 "$d/modes/none"; fi
    # mtimes in the past (files first, then dirs deepest first)
    touch -h -d '2001-02-03 04:05:06 UTC' "$d/link-to-small" "$d/dangling"
    find "$d" -mindepth 1 ! -type l ! -type d -exec touch -d '2015-06-07 08:09:10 UTC' {} +
    touch -d '1999-12-31 23:59:59 UTC' "$d/small.txt"
    touch -d '1970-01-02 00:00:00 UTC' "$d/b.txt"
    find "$d" -mindepth 1 -depth -type d -exec touch -d '2020-01-01 00:00:00 UTC' {} +
    touch -d '2021-01-01 12:00:00 UTC' "$d"
}

# mutate_tree DIR N: change the tree for incremental N (N = 1, 2, ...).
# Changes mtimes too: duplicity ignores content changes with the same mtime.
mutate_tree() {
    local d=$1 n=$2
    case $n in
    1)
        printf 'hello, changed\n' >"$d/small.txt"                    # content
        touch "$d/b.txt"                                               # mtime only
        chmod 0640 "$d/dir1/one.txt"                                   # mode only
        rm -f "$d/delete-me.txt"                                       # delete file
        rm -rf "$d/todelete"                                           # delete dir
        printf 'new in inc1\n' >"$d/added1.txt"                        # add
        mkdir -p "$d/newdir/inner" && printf 'new deep\n' >"$d/newdir/inner/f"
        rm "$d/link-to-small" && ln -s b.txt "$d/link-to-small"        # retarget
        rm "$d/typechange" && mkdir "$d/typechange" &&                 # file -> dir
            printf 'inside\n' >"$d/typechange/inside.txt"
        # partial change in the big file (delta), and a grown file
        printf 'PATCHED-IN-THE-MIDDLE' | dd of="$d/big.bin" bs=1 seek=1500000 conv=notrunc status=none
        head -c 70000 /dev/urandom >>"$d/exact64k.bin"
        printf 'appended\n' >>"$d/caf"$'\xe9'".txt"
        touch "$d/big.bin" "$d/exact64k.bin" "$d/caf"$'\xe9'".txt"
        ;;
    2)
        printf 'changed again in inc2\n' >"$d/small.txt"
        touch -d '2010-01-01 00:00:00 UTC' "$d/small.txt"             # mtime back in time
        printf 'new in inc2\n' >"$d/added2.txt"
        rm -f "$d/added1.txt"                                          # delete something inc1 added
        chmod 0644 "$d/modes/sticky"                                   # drop sticky bit
        truncate -s 1000 "$d/exact128k.bin"                            # shrink
        rm "$d/dangling" && ln -s still/dangling "$d/dangling"
        rm "$d/typechange/inside.txt" && rmdir "$d/typechange" &&      # dir -> symlink
            ln -s dir1 "$d/typechange"
        rm -f "$d/fifo" && printf 'fifo became file\n' >"$d/fifo"      # fifo -> file
        printf 'hardlinked change\n' >"$d/hard-a"                     # both links change
        touch "$d/small.txt" -d '2010-01-01 00:00:00 UTC'
        ;;
    *)
        printf 'generation %s\n' "$n" >"$d/gen-$n.txt"
        printf 'gen %s\n' "$n" >>"$d/dir1/one.txt"
        ;;
    esac
}

# snapshot_copy SRC N: remember the tree as it is now, as $T/expect/N.
snapshot_copy() {
    mkdir -p "$T/expect"
    rm -rf "${T:?}/expect/$2"
    cp -a "$1" "$T/expect/$2"
}

# sb_backup_series TARGET SOURCE N [OPTS...]: N backups of SOURCE (a full
# set, then incrementals, each after mutate_tree and in a later second), each
# copied to $T/expect/1..N.
sb_backup_series() {
    local url=$1 src=$2 n=$3 i
    shift 3
    for i in $(seq "$n"); do
        if [ "$i" -gt 1 ]; then
            wait_next_second
            mutate_tree "$src" $((i - 1))
        fi
        sb_backup "$url" "$src" "$@"
        snapshot_copy "$src" "$i"
    done
}

# The duplicity targets of one source history: $T/t-KIND for each KIND of
# DUP_KINDS: enc (encrypted, signed), plain (--no-encryption), multi (1 MiB
# volumes).
DUP_KINDS="enc plain multi"
# dup_backup_all full|incremental SOURCE: that duplicity backup to each.
dup_backup_all() {
    local k
    for k in $DUP_KINDS; do
        mkdir -p "$T/t-$k"
        case $k in
            plain) DUP_PLAIN=1 run dup "$1" "$2" "file://$T/t-$k" ;;
            multi) run dup "$1" --volsize 1 "$2" "file://$T/t-$k" ;;
            *) run dup "$1" "$2" "file://$T/t-$k" ;;
        esac
    done
}

# compare EXPECTED ACTUAL [treecmp options]: fail with the differences.
# Hard links are always ignored (duplicity stores each link as a copy).
compare() {
    local a=$1 b=$2 out
    shift 2
    set +e
    out=$(python3 "$TREECMP" --ignore-hardlinks --skip-sockets ${SB_CMP_OPTS:-} "$@" "$a" "$b" 2>&1)
    local rc=$?
    set -e
    if [ $rc != 0 ]; then
        printf '%s\n' "$out" | head -50 >&2
        fail "trees differ: $a vs $b"
    fi
}

# no_wrong_bytes EXPECTED DEST: whatever DEST holds (maybe nothing) is
# identical in content to the corresponding part of EXPECTED: a failed
# restore may stop early but must never leave a file with wrong bytes.
no_wrong_bytes() {
    local out rc
    set +e
    out=$(python3 "$TREECMP" --subset --content-only --ignore-hardlinks "$1" "$2" 2>&1)
    rc=$?
    set -e
    if [ $rc != 0 ]; then
        printf '%s\n' "$out" | head -50 >&2
        fail "$2 holds data that differs from $1"
    fi
}

# key_id FPR: the last 16 hex digits (how gpg often names a key).
key_id() { printf '%s' "${1: -16}"; }
# key_re FPR: a regex matching the fingerprint or its long or short key id.
key_re() { printf '(%s|%s)' "$(key_id "$1")" "${1: -8}"; }

# flip_byte [OFFSET] FILE: invert one byte of FILE (default: the middle one).
flip_byte() { # flip_byte [OFFSET] FILE: invert one byte (default: the middle)
    local off=
    [ $# = 2 ] && { off=$1; shift; }
    python3 - "$1" "$off" <<'PY'
import os, sys
p = sys.argv[1]
n = os.path.getsize(p)
off = int(sys.argv[2]) if sys.argv[2] else n // 2
with open(p, "r+b") as f:
    f.seek(off)
    b = f.read(1)
    f.seek(off)
    f.write(bytes([b[0] ^ 0xFF]))
PY
}

# ---------------------------------------------------------------- times

# set_times DIR: the end times of the complete sets (those with a manifest)
# found in a duplicity-format target directory, oldest first, one epoch per line.
set_times() {
    local f t
    for f in "$1"/duplicity-full.*.manifest* "$1"/duplicity-inc.*.manifest*; do
        f=${f##*/}
        case $f in
        duplicity-full.*) t=${f#duplicity-full.} ;;
        duplicity-inc.*) t=${f#*.to.} ;;
        esac
        t=${t%%.*}
        date -u -d "${t:0:4}-${t:4:2}-${t:6:2} ${t:9:2}:${t:11:2}:${t:13:2}" +%s
    done | sort -n
}
# nth_time DIR N: the N-th (1-based) set time of set_times.
nth_time() { set_times "$1" | sed -n "${2}p"; }
# iso TIME: epoch -> 2024-01-02T03:04:05Z
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

# wait_next_second: make sure the next backup gets a later time.
wait_next_second() { sleep "${1:-1.1}"; }

# ------------------------------------------------------------- duplicity

# dup_name URL: the name duplicity gives the archive-dir folder of URL
# (md5 of the URL string exactly as given on the command line).
dup_name() { printf '%s' "$1" | md5sum | cut -d' ' -f1; }

# Archive dir for duplicity runs: DUP_ARCHIVE (default $T/dupcache);
# the folder used for target URL is $DUP_ARCHIVE/$(dup_name URL).
DUP_ARCHIVE="$T/dupcache"

# dup ACTION ARGS...: real duplicity, non-interactive, with a timeout.
#   Backups (full/incremental) run with $GNUPGHOME (public encryption key +
#   signing secret key, like the backup machine); everything else with
#   $RESTORE_GNUPGHOME (secret encryption key).  Override with DUP_GNUPGHOME.
#   PASSPHRASE = passphrase of the secret encryption key (decryption),
#   SIGN_PASSPHRASE = passphrase of the signing key (may be empty).
#   DUP_PLAIN=1: --no-encryption (no keys at all).
#   Never use --use-agent: without it duplicity passes
#   --pinentry-mode=loopback and feeds the passphrase on a pipe.
# Use as: run dup full SRC URL  /  expect_exit N dup restore URL DEST
dup() {
    need_cmd duplicity
    local action=$1 home
    shift
    case $action in
    full | incremental | inc) home=${DUP_GNUPGHOME:-$GNUPGHOME} ;;
    *) home=${DUP_GNUPGHOME:-${RESTORE_GNUPGHOME:-$GNUPGHOME}} ;;
    esac
    local keyopts=()
    if [ "${DUP_PLAIN:-0}" = 1 ]; then
        keyopts=(--no-encryption)
    else
        keyopts=(--encrypt-key "$ENC_FPR" --sign-key "${DUP_SIGN_KEY:-$SIGN_FPR}")
    fi
    env GNUPGHOME="$home" \
        PASSPHRASE="${SEALBOX_SECRET_PASSPHRASE:-}" \
        SIGN_PASSPHRASE="${SEALBOX_SIGN_PASSPHRASE:-}" \
        timeout -k 5 "${DUP_TIMEOUT:-240}" \
        duplicity "$action" "${keyopts[@]}" --archive-dir "$DUP_ARCHIVE" \
        --tempdir "$TMPDIR" "$@" </dev/null
}

# --------------------------------------------------------- privileges

# as_nobody CMD...: run CMD as nobody:nogroup with a private HOME and
# GNUPGHOME ($T/nobody/{home,gnupg}, made by nobody_setup).
NOBODY_UID=$(id -u nobody 2>/dev/null || echo 65534)
NOBODY_GID=$(getent group nogroup | cut -d: -f3 || echo 65534)
NOBODY_GID=${NOBODY_GID:-65534}
as_nobody() {
    setpriv --reuid="$NOBODY_UID" --regid="$NOBODY_GID" --clear-groups \
        env HOME="$T/nobody/home" GNUPGHOME="$T/nobody/gnupg" \
        XDG_CACHE_HOME="$T/nobody/home/.cache" XDG_CONFIG_HOME="$T/nobody/home/.config" \
        TMPDIR="$T/nobody/tmp" "$@"
}
# sb_nobody ARGS...: the binary under test as nobody (a copy in $T/bin, in
# case the build tree is not readable by others).
sb_nobody() {
    as_nobody timeout -k 10 "$SB_TIMEOUT" "$T/bin/sealbox" "$@"
}
# nobody_setup: a keyring for nobody holding the public encryption key and
# the signing secret key (copied from $T/sign-secret.asc), owned by nobody.
nobody_setup() {
    need_root "dropping privileges"
    need_cmd setpriv
    mkdir -p "$T/nobody/home" "$T/nobody/gnupg" "$T/nobody/tmp"
    chmod 700 "$T/nobody/gnupg"
    cp "$GNUPGHOME/gpg-agent.conf" "$T/nobody/gnupg/"
    chown -R "$NOBODY_UID:$NOBODY_GID" "$T/nobody"
    if [ -n "${SEALBOX:-}" ]; then
        mkdir -p "$T/bin"
        cp "$SEALBOX" "$T/bin/sealbox"
        chmod 755 "$T/bin" "$T/bin/sealbox"
    fi
    chmod 755 "$T/nobody"
    SB_GNUPGHOMES+=("$NOBODY_UID:$T/nobody/gnupg")
    local pass=${SEALBOX_SIGN_PASSPHRASE:-}
    as_nobody gpg --batch --quiet --import "$T/public.asc" 2>/dev/null
    as_nobody gpg --batch --quiet --pinentry-mode loopback --passphrase "$pass" \
        --import "$T/sign-secret.asc" 2>/dev/null
    as_nobody gpg --batch --quiet --import-ownertrust "$T/ownertrust" 2>/dev/null
    as_nobody gpg --batch --list-secret-keys "$SIGN_FPR" >/dev/null 2>&1 ||
        fail "could not set up nobody's keyring"
}
