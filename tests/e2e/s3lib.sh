# tests/e2e/s3lib.sh - a private OpenStack Swift with its S3 API (s3api) on
# 127.0.0.1, for the s3:// tests (sourced after lib.sh).
#
# swift_setup: one-replica rings of one device in $SW (a folder below $T),
# configuration files for a proxy (s3api before tempauth), account,
# container and object servers and memcached, each on a free port; skips
# (exit 77) unless root with Debian's swift packages installed.
# swift_start / swift_stop_proxy / swift_start_proxy: run the servers through
# bg_start, so lib.sh's EXIT trap stops them even when a test fails.
#
# Credentials (tempauth users, as S3 access key "account:user"):
#   test:tester / testing       owner of account AUTH_test
#   test:writer / writing       the same, but its DELETEs refused (the proxy's
#                               "nodelete" filter: a write-only key; multipart
#                               uploads still complete and abort)
#   test:flaky / flaking        the same, but every other object PUT fails with
#                               503 SlowDown (the "flaky" filter)
# Listings come in pages of 7 keys (s3api's max_bucket_listing), so every
# listing of more than a few objects takes continuation tokens.
# Exports AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
# AWS_DEFAULT_REGION for that user; S3_PORT is the proxy's port.

SWIFT_PY=/usr/lib/python3/dist-packages/swift

_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

swift_setup() {
    is_root || skip "needs root (Swift's servers run as root here)"
    local c
    for c in swift-ring-builder swift-proxy-server swift-object-server swift-container-server \
        swift-account-server memcached; do
        command -v "$c" >/dev/null || skip "needs $c (Debian packages swift swift-proxy swift-object swift-container swift-account memcached)"
    done
    [ -d "$SWIFT_PY/common/middleware/s3api" ] || skip "needs Swift's s3api middleware"
    SW="$T/swift"
    mkdir -p "$SW/srv/d1" "$SW/run" "$SW/cache" "$SW/mw"
    # A write-only user the Swift way, as a proxy filter: DELETE by the user
    # named (after tempauth has said who it is) is 403, which s3api turns
    # into AccessDenied.
    cat >"$SW/mw/sb_nodelete.py" <<'PY'
def filter_factory(global_conf, **local_conf):
    user = local_conf["deny_delete_for"]

    def wrap(app):
        def nodelete(env, start_response):
            who = (env.get("REMOTE_USER") or "").split(",")
            # /v1/ACCOUNT/CONTAINER/...: s3api keeps a multipart upload's
            # parts in CONTAINER+segments and removes them itself when it
            # completes or aborts the upload (as S3 lets a key without
            # s3:DeleteObject complete and abort multipart uploads)
            path = env.get("PATH_INFO", "").split("/")
            parts = len(path) > 3 and path[3].endswith("+segments")
            if env.get("REQUEST_METHOD") == "DELETE" and user in who and not parts:
                start_response("403 Forbidden", [("Content-Length", "0")])
                return [b""]
            return app(env, start_response)
        return nodelete
    return wrap


def flaky_factory(global_conf, **local_conf):
    user = local_conf["flaky_user"]

    def wrap(app):
        count = [0]

        def flaky(env, start_response):
            who = (env.get("REMOTE_USER") or "").split(",")
            path = env.get("PATH_INFO", "")
            if env.get("REQUEST_METHOD") == "PUT" and user in who and path.count("/") >= 4:
                count[0] += 1
                if count[0] % 2:
                    start_response("503 Service Unavailable", [("Content-Length", "0")])
                    return [b""]
            return app(env, start_response)
        return flaky
    return wrap
PY
    S3_PORT=$(_free_port)
    SW_ACC_PORT=$(_free_port)
    SW_CON_PORT=$(_free_port)
    SW_OBJ_PORT=$(_free_port)
    SW_MC_PORT=$(_free_port)
    cat >"$SW/swift.conf" <<CONF
[swift-hash]
swift_hash_path_suffix = sealbox-test
swift_hash_path_prefix = sealbox-test
[storage-policy:0]
name = Policy-0
default = yes
[swift-constraints]
max_file_size = 5368709122
CONF
    local ring port
    for ring in account container object; do
        case $ring in
            account) port=$SW_ACC_PORT ;;
            container) port=$SW_CON_PORT ;;
            object) port=$SW_OBJ_PORT ;;
        esac
        (cd "$SW" && swift-ring-builder $ring.builder create 4 1 1 >/dev/null &&
            swift-ring-builder $ring.builder add r1z1-127.0.0.1:$port/d1 1 >/dev/null &&
            swift-ring-builder $ring.builder rebalance >/dev/null) ||
            fail "swift-ring-builder $ring failed"
    done
    local common="swift_dir = $SW
devices = $SW/srv
mount_check = false
user = root
bind_ip = 127.0.0.1
workers = 0
log_facility = LOG_LOCAL0
log_level = WARNING
disable_fallocate = true"
    cat >"$SW/account-server.conf" <<CONF
[DEFAULT]
$common
bind_port = $SW_ACC_PORT
[pipeline:main]
pipeline = account-server
[app:account-server]
use = egg:swift#account
CONF
    cat >"$SW/container-server.conf" <<CONF
[DEFAULT]
$common
bind_port = $SW_CON_PORT
[pipeline:main]
pipeline = container-server
[app:container-server]
use = egg:swift#container
allow_versions = true
CONF
    cat >"$SW/object-server.conf" <<CONF
[DEFAULT]
$common
bind_port = $SW_OBJ_PORT
[pipeline:main]
pipeline = object-server
[app:object-server]
use = egg:swift#object
[object-updater]
interval = 1
CONF
    cat >"$SW/proxy-server.conf" <<CONF
[DEFAULT]
$common
bind_port = $S3_PORT
[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats s3api tempauth nodelete flaky copy account-quotas slo dlo proxy-logging proxy-server
[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
[filter:s3api]
use = egg:swift#s3api
location = us-east-1
max_bucket_listing = 7
storage_domain = localhost
[filter:tempauth]
use = egg:swift#tempauth
user_admin_admin = admin .admin .reseller_admin
user_test_tester = testing .admin
user_test_writer = writing .admin
user_test_flaky = flaking .admin
[filter:flaky]
paste.filter_factory = sb_nodelete:flaky_factory
flaky_user = test:flaky
[filter:nodelete]
paste.filter_factory = sb_nodelete:filter_factory
deny_delete_for = test:writer
[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$SW_MC_PORT
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:copy]
use = egg:swift#copy
[filter:account-quotas]
use = egg:swift#account_quotas
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
CONF
    export AWS_ENDPOINT_URL="http://127.0.0.1:$S3_PORT"
    export AWS_ACCESS_KEY_ID=test:tester
    export AWS_SECRET_ACCESS_KEY=testing
    export AWS_DEFAULT_REGION=us-east-1
    unset AWS_PROFILE AWS_SESSION_TOKEN AWS_REGION
}

# _swift_server NAME CONF: run one Swift server with $SW as its swift_dir
# (the packaged scripts read /etc/swift/swift.conf, which we leave alone).
_swift_server() {
    bg_start env PYTHONPATH="$SW/mw" /usr/bin/python3 -c '
import sys
from swift.common import utils
utils.set_swift_dir(sys.argv[3])
if sys.argv[1] == "object-updater":
    from swift.common.daemon import run_daemon
    from swift.obj.updater import ObjectUpdater
    run_daemon(ObjectUpdater, sys.argv[2], once=False, verbose=False)
else:
    from swift.common.wsgi import run_wsgi
    sys.exit(run_wsgi(sys.argv[2], sys.argv[1]))
' "$1" "$2" "$SW"
}

_wait_port() { # _wait_port PORT PID WHAT
    local i
    for i in $(seq 300); do
        if python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' \
            "$1" 2>/dev/null; then
            return 0
        fi
        kill -0 "$2" 2>/dev/null || { cat "$T"/out/bg.* >&2 2>/dev/null; fail "$3 did not start"; }
        sleep 0.1
    done
    fail "$3 does not listen on port $1"
}

SW_PROXY_PID=
swift_start_proxy() {
    _swift_server proxy-server "$SW/proxy-server.conf"
    SW_PROXY_PID=$BG_PID
    _wait_port "$S3_PORT" "$SW_PROXY_PID" "swift-proxy-server"
}
# swift_start_tls_proxy: a second proxy on $S3_TLS_PORT serving HTTPS with a
# certificate for 127.0.0.1 and localhost from a private CA, $SW/tls/ca.pem.
swift_start_tls_proxy() {
    local d="$SW/tls"
    need_cmd openssl
    mkdir -p "$d"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/ca.key" -out "$d/ca.pem" -days 2 \
        -subj /CN=sealbox-test-ca 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout "$d/srv.key" -out "$d/srv.csr" \
        -subj /CN=localhost 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$d/ext"
    openssl x509 -req -in "$d/srv.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
        -out "$d/srv.pem" -days 2 -extfile "$d/ext" 2>/dev/null
    S3_TLS_PORT=$(_free_port)
    sed -e "s|^bind_port = $S3_PORT\$|bind_port = $S3_TLS_PORT\ncert_file = $d/srv.pem\nkey_file = $d/srv.key|" \
        "$SW/proxy-server.conf" >"$SW/proxy-tls.conf"
    grep -q "^cert_file" "$SW/proxy-tls.conf" || fail "no TLS proxy configuration"
    _swift_server proxy-server "$SW/proxy-tls.conf"
    _wait_port "$S3_TLS_PORT" "$BG_PID" "the TLS swift-proxy-server"
}

# swift_stop_proxy: kill -9 the proxy (what a crashed server looks like).
swift_stop_proxy() {
    kill -KILL -- "-$SW_PROXY_PID" 2>/dev/null || kill -KILL "$SW_PROXY_PID"
    wait "$SW_PROXY_PID" 2>/dev/null || true
}

swift_start() {
    local pid
    bg_start memcached -u root -l 127.0.0.1 -p "$SW_MC_PORT" -U 0 -m 64
    _wait_port "$SW_MC_PORT" "$BG_PID" memcached
    _swift_server account-server "$SW/account-server.conf"
    pid=$BG_PID
    _swift_server container-server "$SW/container-server.conf"
    _swift_server object-server "$SW/object-server.conf"
    _swift_server object-updater "$SW/object-server.conf"
    _wait_port "$SW_ACC_PORT" "$pid" swift-account-server
    _wait_port "$SW_CON_PORT" "$pid" swift-container-server
    _wait_port "$SW_OBJ_PORT" "$pid" swift-object-server
    swift_start_proxy
}

# swift_objects: how many objects (parts included) the object server holds.
swift_objects() { find "$SW/srv" -name '*.data' 2>/dev/null | wc -l; }

# aws_s3 ARGS...: Debian's awscli (/usr/bin/aws, ahead of any other on
# PATH) against the test's Swift.
AWS_CLI=/usr/bin/aws
[ -x "$AWS_CLI" ] || AWS_CLI=$(command -v aws || echo aws)
aws_s3() { "$AWS_CLI" --endpoint-url "$AWS_ENDPOINT_URL" "$@"; }
