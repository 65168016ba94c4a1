#!/bin/bash
# 74-secrets: the passphrases do not linger.  A backup run with
# $SEALBOX_SIGN_PASSPHRASE and a restore with --secret-key and
# $SEALBOX_SECRET_PASSPHRASE leave no process (gpg, gpg-agent, keyboxd,
# scdaemon, dirmngr, ... any) with a passphrase in its environment, neither
# while they run nor after; sealbox's own environment loses them at start.  A
# restore that fails (wrong passphrase) and one stopped by SIGTERM half way
# leave no temporary keyring folder and no gpg-agent serving one; that agent
# starts with an environment of its own.  No output names a passphrase.
source "$(dirname "$0")/lib.sh"

SIGN_PASS="sign pass 74 $RANDOM$RANDOM"
make_keys "$SIGN_PASS"
SECRET_PASS=$SEALBOX_SECRET_PASSPHRASE
# From here on only sealbox gets them, each run through its own environment.
unset SEALBOX_SIGN_PASSPHRASE SEALBOX_SECRET_PASSPHRASE
(umask 077 && printf '%s' "$SIGN_PASS" >"$T/sign.pass" && printf '%s' "$SECRET_PASS" >"$T/secret.pass" &&
    printf 'not the passphrase' >"$T/wrong.pass")
# Temporary keyrings go below $XDG_RUNTIME_DIR/sealbox: ours alone.
export XDG_RUNTIME_DIR="$T/run"
mkdir -m 700 "$XDG_RUNTIME_DIR"
EPH="$XDG_RUNTIME_DIR/sealbox/sealbox-gnupg."

# holders: "PID COMM" of every process whose environment holds a passphrase.
holders() {
    local f p
    for f in $(grep -laF -e "$SIGN_PASS" -e "$SECRET_PASS" /proc/[0-9]*/environ 2>/dev/null || true); do
        p=${f#/proc/}
        p=${p%/environ}
        printf '%s %s\n' "$p" "$(cat "/proc/$p/comm" 2>/dev/null || echo '?')"
    done
}
# step WHAT: a clean slate: the agents of the test's keyrings stopped (they
# would otherwise serve the next step), nothing seen by the watcher so far.
step() {
    local h i
    log "$1"
    for h in "${SB_GNUPGHOMES[@]}"; do gpgconf --homedir "${h#*:}" --kill all >/dev/null 2>&1 || true; done
    for i in $(seq 20); do [ -z "$(holders)" ] && break; sleep 0.1; done
    : >"$T/out/holders.log"
}
# eph_agents: PIDs of the processes (gpg-agent, gpg) working in a temporary
# keyring of ours.
eph_agents() {
    local f
    for f in $(grep -laF -- "$EPH" /proc/[0-9]*/cmdline 2>/dev/null || true); do
        f=${f#/proc/}
        echo "${f%/cmdline}"
    done
}
# no_leftovers WHAT: within 5 s, no temporary keyring folder and no agent of one.
no_leftovers() {
    local i
    for i in $(seq 50); do
        [ -z "$(eph_agents)" ] && ! compgen -G "$EPH*" >/dev/null && return 0
        sleep 0.1
    done
    ps -o pid,args -p "$(eph_agents | paste -sd, -)" >&2 2>/dev/null || true
    ls -la "$XDG_RUNTIME_DIR/sealbox" >&2 || true
    soft_fail "$1: a temporary keyring or its gpg-agent is left"
}
# no_holders WHAT: no process now holds a passphrase in its environment, and
# the watcher saw none do so (sealbox itself is checked apart).
no_holders() {
    local now
    now=$(holders | grep -vE '^[0-9]+ sealbox$' || true)
    if [ -n "$now" ] || [ -s "$T/out/holders.log" ]; then
        printf 'now: %s\nseen while running:\n' "$now" >&2
        sort -u "$T/out/holders.log" >&2
        soft_fail "$1: a passphrase is in the environment of another process"
    fi
}
# no_secret_printed: no output (last command, background runs, archive dir,
# runlogs) names a passphrase.
no_secret_printed() {
    if grep -rlaF -e "$SIGN_PASS" -e "$SECRET_PASS" "$T/out" "$HOME" 2>/dev/null | grep -v 'holders.log$'; then
        soft_fail "a passphrase was printed or logged"
    fi
}

# with_pass VAR FILE CMD...: exec CMD with VAR set to FILE's content.  The
# shell in between reads the file, so CMD is the one process whose
# environment ever holds it.
WITH_PASS='IFS= read -r v <"$2" || true; export "$1=$v"; unset v; shift 2; exec "$@"'
sbp() {
    local var=$1 file=$2
    shift 2
    timeout -k 10 "$SB_TIMEOUT" bash -c "$WITH_PASS" with_pass "$var" "$file" "$SEALBOX" "$@"
}

step "no passphrase anywhere before sealbox runs"
[ -z "$(holders)" ] || { holders >&2; fail "before any sealbox run, a process holds a passphrase"; }

# The watcher: every 50 ms, who holds a passphrase, apart from sealbox itself
# (from its exec to its first instructions it does).
(
    trap - ERR
    while :; do
        holders | grep -vE '^[0-9]+ sealbox$' >>"$T/out/holders.log" || true
        sleep 0.05
    done
) &
SB_BG_PIDS+=("$!")

SRC="$T/src"
make_tree "$SRC"
mkdir "$SRC/bulk"
head -c $((40 * 1024 * 1024)) /dev/urandom >"$SRC/bulk/r.bin"
URL="file://$T/target"

step "backup with \$SEALBOX_SIGN_PASSPHRASE"
expect_exit 0 sbp SEALBOX_SIGN_PASSPHRASE "$T/sign.pass" backup --target "$URL" \
    --encrypt-key "$ENC_FPR" --sign-key "$SIGN_FPR" --volsize 8 "$SRC"
sleep 0.3
no_holders "backup"
no_secret_printed

step "restore with --secret-key and \$SEALBOX_SECRET_PASSPHRASE"
expect_exit 0 sbp SEALBOX_SECRET_PASSPHRASE "$T/secret.pass" restore --target "$URL" \
    --sign-key "$SIGN_FPR" --secret-key "$T/enc-secret.asc" "$T/r1"
compare "$SRC" "$T/r1"
sleep 0.3
no_holders "restore"
no_leftovers "restore"
no_secret_printed

step "restore with a wrong passphrase"
expect_exit 4 sbp SEALBOX_SECRET_PASSPHRASE "$T/wrong.pass" restore --target "$URL" \
    --sign-key "$SIGN_FPR" --secret-key "$T/enc-secret.asc" "$T/r2"
expect_error passphrase
grep -aqF 'not the passphrase' "$LAST_OUT" "$LAST_ERR" && soft_fail "the wrong passphrase was printed"
no_leftovers "restore with a wrong passphrase"

step "restore stopped half way by SIGTERM"
bash -c "$WITH_PASS" with_pass SEALBOX_SECRET_PASSPHRASE "$T/secret.pass" "$SEALBOX" restore \
    --target "$URL" --sign-key "$SIGN_FPR" --secret-key "$T/enc-secret.asc" "$T/r3" \
    >"$T/out/term.out" 2>"$T/out/term.err" </dev/null &
PID=$!
SB_BG_PIDS+=("$PID")
# once its keyring's agent runs, hold it still (SIGSTOP) to look at it
for i in $(seq 1000); do
    [ -n "$(eph_agents)" ] && [ -e "$T/r3" ] && break
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.01
done
kill -STOP "$PID" 2>/dev/null || true
sleep 0.1
grep -q '^State:.*stopped' "/proc/$PID/status" 2>/dev/null ||
    { cat "$T/out/term.err" >&2; fail "the restore ended before it could be stopped"; }
[ -n "$(eph_agents)" ] || fail "no gpg-agent for the temporary keyring while restoring"
grep -qaF "$SECRET_PASS" "/proc/$PID/environ" &&
    soft_fail "sealbox keeps \$SEALBOX_SECRET_PASSPHRASE in its environment (/proc/$PID/environ)"
[ "$(tr '\0' '\n' <"/proc/$PID/comm")" = sealbox ] || fail "PID $PID is not sealbox"
for a in $(eph_agents); do
    [ "$(cat "/proc/$a/comm" 2>/dev/null)" = gpg-agent ] || continue
    tr '\0' '\n' <"/proc/$a/environ" | grep -qE '^(HOME|TMPDIR|XDG_[A-Z_]*|GNUPGHOME)=' &&
        soft_fail "the temporary keyring's gpg-agent got sealbox's environment:" \
            "$(tr '\0' '\n' <"/proc/$a/environ" | cut -d= -f1 | paste -sd' ')"
done
no_holders "restore, half way"
kill -TERM "$PID"
kill -CONT "$PID"
set +e
wait "$PID"
rc=$?
set -e
[ "$rc" = 11 ] || { cat "$T/out/term.err" >&2; soft_fail "SIGTERM: exit $rc, expected 11"; }
no_leftovers "restore stopped by SIGTERM"
no_holders "restore stopped by SIGTERM"
no_secret_printed
