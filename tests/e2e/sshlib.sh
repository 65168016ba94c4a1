# tests/e2e/sshlib.sh - a private OpenSSH sshd on 127.0.0.1 for the sftp://
# tests (sourced after lib.sh).  ssh_setup makes the host keys, the user
# keys and authorized_keys in $S and picks a free port; sshd_start runs the
# server through bg_start, so lib.sh's EXIT trap stops it even when a test
# fails.  Only loopback: ListenAddress 127.0.0.1.

SSHD=/usr/sbin/sshd

# ssh_setup: $S, $PORT, $KH (an empty known_hosts), $HOSTSPEC; host keys
# host1 and host2; user keys user_ed25519 and stranger (not authorised).
ssh_setup() {
    [ -x "$SSHD" ] || skip "needs OpenSSH's sshd"
    need_cmd ssh-keygen
    # sshd refuses to start without its privilege separation directory
    mkdir -p /run/sshd 2>/dev/null || [ -d /run/sshd ] || skip "cannot create /run/sshd"
    S="$T/ssh"
    mkdir -p "$S"
    chmod 700 "$S"
    ME=$(id -un)
    PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    HOSTSPEC="[127.0.0.1]:$PORT"
    KH="$S/known_hosts"
    : >"$KH"
    ssh-keygen -q -t ed25519 -N '' -C host1 -f "$S/host1"
    ssh-keygen -q -t ed25519 -N '' -C host2 -f "$S/host2"
    ssh-keygen -q -t ed25519 -N '' -C user -f "$S/user_ed25519"
    ssh-keygen -q -t ed25519 -N '' -C stranger -f "$S/stranger"
    cat "$S/user_ed25519.pub" >"$S/authorized_keys"
}

# trust_host HOSTKEY: add the server's key to $KH, as a user would.
trust_host() { printf '%s %s\n' "$HOSTSPEC" "$(cut -d' ' -f1,2 "$1.pub")" >>"$KH"; }

# sshd_start HOSTKEY: (re)start the server with that host key; $SSHD_EXTRA
# is appended to its configuration (Match blocks).
SSHD_PID=
SSHD_EXTRA=
sshd_start() {
    cat >"$S/sshd_config" <<CONF
ListenAddress 127.0.0.1
Port $PORT
HostKey $1
AuthorizedKeysFile $S/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile $S/sshd.pid
Subsystem sftp internal-sftp
LogLevel VERBOSE
$SSHD_EXTRA
CONF
    bg_start "$SSHD" -f "$S/sshd_config" -D -e -E "$S/sshd.log"
    SSHD_PID=$BG_PID
    local i
    for i in $(seq 100); do
        if python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' \
            "$PORT" 2>/dev/null; then
            return 0
        fi
        kill -0 "$SSHD_PID" 2>/dev/null || { cat "$S/sshd.log" >&2; fail "sshd did not start"; }
        sleep 0.1
    done
    fail "sshd does not listen on port $PORT"
}
# descendants PID: every process below PID (the per-connection sshd's).
descendants() {
    local c
    for c in $(ps -o pid= --ppid "$1" 2>/dev/null || true); do
        echo "$c"
        descendants "$c"
    done
}
# kill_sessions: drop every open connection, keep the listener.
kill_sessions() {
    local p
    for p in $(descendants "$SSHD_PID"); do kill -KILL "$p" 2>/dev/null || true; done
}
sshd_stop() { # the sessions too (a stopped listener leaves them running)
    local sessions p
    sessions=$(descendants "$SSHD_PID")
    kill "$SSHD_PID" 2>/dev/null || true
    for p in $sessions; do kill -KILL "$p" 2>/dev/null || true; done
    wait "$SSHD_PID" 2>/dev/null || true
}
# watch_opens DIR: from now on, log the name of every file opened in DIR
# (the server's folder: only the server opens files there) to $S/opens.log.
watch_opens() {
    need_cmd inotifywait
    : >"$S/opens.log"
    bg_start inotifywait -m -e open --format '%f' -o "$S/opens.log" "$1"
    local i
    for i in $(seq 100); do
        grep -q "Watches established" "$T/out/bg.$$.$((${#SB_BG_PIDS[@]} - 1)).out" && return 0
        sleep 0.05
    done
    fail "inotifywait did not start"
}
# log_mark: the length of the open log now, for opened_since.
log_mark() { wc -l <"$S/opens.log"; }
# opened_since MARK PATTERN: how many distinct files matching PATTERN (an ERE)
# were opened in the watched folder since MARK.
opened_since() { tail -n +"$(($1 + 1))" "$S/opens.log" | grep -E "$2" | sort -u | wc -l; }
# on_upload DIR WHAT CMD...: in the background, once a temporary upload whose
# name matches WHAT (an ERE) shows up in DIR (30 s at most), run CMD; the
# background job's pid in KILLER.
on_upload() {
    local dir=$1 what=$2
    shift 2
    (
        for _ in $(seq 600); do
            ls -a "$dir" | grep -qE "^\.sealbox-tmp\..*$what" && break
            sleep 0.05
        done
        "$@"
    ) &
    KILLER=$!
}
# accepted: how many logins the server accepted so far.
accepted() { grep -c 'Accepted publickey' "$S/sshd.log" || true; }
