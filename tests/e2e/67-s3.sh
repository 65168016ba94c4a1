#!/bin/bash
# 67-s3: s3://BUCKET/PREFIX targets against a real OpenStack Swift with its
# S3 API (s3api before tempauth; one-replica rings in $T; all on 127.0.0.1,
# stopped at exit; see s3lib.sh). Bad input (no bucket, a malformed
# endpoint, a bad region) is one line and exit 1; a missing bucket exit 5;
# a wrong secret key exit 21, and the secret is never printed. Backup (full
# + incrementals, many volumes, multipart uploads of volumes above the part
# size) and restore byte-identical; snapshots; verify catches one flipped
# byte in an object and names it; the proxy killed mid-upload (kill -9):
# exit 5, and a rerun completes the chain and aborts the multipart uploads
# left behind; prune; write-only credentials (a Swift proxy filter refusing
# the user's DELETEs): backup and verify work, prune fails in one line (exit
# 5) and deletes nothing; a full quota is one line; mount; duplicity
# (boto3+s3://) restores what sealbox wrote and sealbox restores and mounts
# what duplicity wrote.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/s3lib.sh"
swift_setup
command -v "$AWS_CLI" >/dev/null || skip "needs awscli"
log "starting Swift"
swift_start

# The secret never appears in what sealbox prints.
SECRET=$AWS_SECRET_ACCESS_KEY
no_secret() {
    if grep -aqF "$SECRET" "$LAST_OUT" "$LAST_ERR"; then fail "the secret key was printed"; fi
}
# s3_keys BUCKET PREFIX: the object names below PREFIX/ (one a line).
s3_keys() {
    aws_s3 s3api list-objects-v2 --bucket "$1" --prefix "$2/" --query 'Contents[].Key' \
        --output text | tr '\t' '\n' | sed -n "s|^$2/||p" | grep -v '^None$' || true
}
s3_uploads() {
    aws_s3 s3api list-multipart-uploads --bucket "$1" --prefix "$2/" --query 'Uploads[].Key' \
        --output text | tr '\t' '\n' | grep -v '^None$' | grep . || true
}
# s3_set_times BUCKET PREFIX: the set times of the manifests there (set_times on names).
s3_set_times() {
    local d
    d=$(mktemp -d "$T/names.XXXXXX")
    s3_keys "$1" "$2" | while read -r k; do : >"$d/$k"; done
    set_times "$d"
}

aws_s3 s3 mb s3://bkt >/dev/null
URL=s3://bkt/host1/home

make_keys
SRC="$T/src"
make_tree "$SRC"
head -c $((12 * 1024 * 1024)) /dev/urandom >"$SRC/big.bin"

log "bad input: one line each, exit 1, no network wait"
expect_exit 1 sb snapshots --target s3://
expect_error "no bucket"
expect_exit 1 sb snapshots --target s3:///prefix
expect_error "no bucket"
expect_exit 1 sb snapshots --target "$URL" --s3-endpoint "ftp://127.0.0.1:$S3_PORT"
expect_error "not an http:// or https:// URL"
expect_exit 1 sb snapshots --target "$URL" --s3-endpoint "http://127.0.0.1:99999"
expect_error "bad port"
expect_exit 1 sb snapshots --target "$URL" --s3-endpoint "http://user:pw@127.0.0.1/"
expect_error "bad character"
expect_exit 1 env AWS_REGION='Mars One' "$SEALBOX" snapshots --target "$URL"
expect_error "not a region name"
expect_exit 1 sb snapshots --target "$URL" --s3-addressing sideways
expect_error "s3-addressing"

log "missing bucket: exit 5, naming it"
expect_exit 5 sb snapshots --target s3://nobucket/x
expect_error "no such bucket 'nobucket'"

log "wrong secret key: exit 21, one line, the secret not printed"
expect_exit 21 env AWS_SECRET_ACCESS_KEY=not-the-secret "$SEALBOX" snapshots --target "$URL"
expect_error "refused the credentials"
[ "$(grep -c 'error:' "$LAST_ERR")" = 1 ] || { cat "$LAST_ERR" >&2; fail "more than one error line"; }
if grep -aq 'not-the-secret' "$LAST_ERR" "$LAST_OUT"; then fail "the (wrong) secret was printed"; fi
expect_exit 21 env AWS_ACCESS_KEY_ID=test:nobody "$SEALBOX" snapshots --target "$URL"
expect_error "refused the credentials"

expect_exit 21 env AWS_REGION=eu-west-9 "$SEALBOX" snapshots --target "$URL"
expect_error "region 'eu-west-9' is wrong"

log "no credentials at all, then a profile in ~/.aws"
expect_exit 21 env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$SEALBOX" snapshots --target "$URL"
expect_error "no S3 credentials"
mkdir -p "$HOME/.aws"
printf '[default]\naws_access_key_id = nobody\naws_secret_access_key = x\n[backup]\n# comment\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
    "$AWS_ACCESS_KEY_ID" "$SECRET" >"$HOME/.aws/credentials"
printf '[profile backup]\nregion = us-east-1\nendpoint_url = %s\n' "$AWS_ENDPOINT_URL" >"$HOME/.aws/config"
expect_exit 0 env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_ENDPOINT_URL \
    AWS_PROFILE=backup "$SEALBOX" snapshots --target "$URL"
expect_stdout_match "No backups|Backup chains: 0|no backup"
no_secret
rm -rf "$HOME/.aws"
printf 'target = %s\ns3-endpoint = %s\ns3-retries = 1\n' "$URL" "$AWS_ENDPOINT_URL" >"$T/s3.conf"
expect_exit 0 env -u AWS_ENDPOINT_URL "$SEALBOX" snapshots --config "$T/s3.conf"
expect_stdout_match "No backups|Backup chains: 0|no backup"
printf 's3-retries = many\n' >>"$T/s3.conf"
expect_exit 1 sb snapshots --config "$T/s3.conf"
expect_error "s3-retries must be 0 to 100"

log "backup: full, 1 MiB volumes, one 8 MiB volume in 5 MiB parts (multipart)"
sb_backup "$URL" "$SRC" --volsize 8 --s3-part-size 5
no_secret
snapshot_copy "$SRC" 1
s3_keys bkt host1/home >"$T/keys1"
grep -q 'duplicity-full\..*\.vol2\.difftar\.gpg$' "$T/keys1" || { cat "$T/keys1" >&2; fail "no second volume"; }
grep -q 'duplicity-full\..*\.manifest\.gpg$' "$T/keys1" || fail "no manifest"
[ -z "$(s3_uploads bkt host1/home)" ] || fail "multipart uploads left open"

log "backup: incrementals"
wait_next_second
mutate_tree "$SRC" 1
sb_backup "$URL" "$SRC" --volsize 1
snapshot_copy "$SRC" 2
wait_next_second
mutate_tree "$SRC" 2
sb_backup "$URL" "$SRC" --volsize 1
snapshot_copy "$SRC" 3
[ "$(s3_set_times bkt host1/home | wc -l)" = 3 ] || fail "expected 3 sets in the bucket"

log "snapshots"
expect_exit 0 sb snapshots --target "$URL" --sign-key "$SIGN_FPR"
expect_stdout_match "Backup chains: 1"

log "virtual-host addressing: http://bkt.localhost:PORT/ (curl resolves *.localhost itself)"
expect_exit 0 sb snapshots --target "$URL" --s3-endpoint "http://localhost:$S3_PORT" \
    --s3-addressing virtual --sign-key "$SIGN_FPR"
expect_stdout_match "Backup chains: 1"

log "https: the system's CAs by default (a private CA refused in one line); AWS_CA_BUNDLE"
swift_start_tls_proxy
TLS=(--s3-endpoint "https://127.0.0.1:$S3_TLS_PORT")
expect_exit 5 sb snapshots --target "$URL" "${TLS[@]}"
expect_error "certificate"
grep -aq "retrying" "$LAST_ERR" && fail "a certificate failure was retried"
expect_exit 0 env AWS_CA_BUNDLE="$SW/tls/ca.pem" "$SEALBOX" snapshots --target "$URL" "${TLS[@]}" \
    --sign-key "$SIGN_FPR"
expect_stdout_match "Backup chains: 1"
AWS_CA_BUNDLE="$SW/tls/ca.pem" sb_restore "$URL" "$T/r-tls" "${TLS[@]}"
compare "$T/expect/3" "$T/r-tls"

log "a server that takes the connection and never answers: --s3-timeout, one line, no hang"
bg_start python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
c = []
while True: c.append(s.accept())' "$T/mute.port"
for _ in $(seq 50); do [ -s "$T/mute.port" ] && break; sleep 0.1; done
t0=$(date +%s)
expect_exit 5 sb snapshots --target "$URL" --s3-endpoint "http://127.0.0.1:$(cat "$T/mute.port")" \
    --s3-timeout 2 --s3-retries 1
[ $(($(date +%s) - t0)) -lt 20 ] || fail "a mute server held sealbox for $(($(date +%s) - t0)) s"
expect_error "too slow|timed out"

log "a hostile server: garbage listings and a listing that never ends are one line each"
cat >"$T/hostile.py" <<'PY'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if "uploads" in self.path:
            body = b"<ListMultipartUploadsResult><IsTruncated>false</IsTruncated></ListMultipartUploadsResult>"
        elif "prefix=garbage" in self.path:
            body = b"<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>x\x00<<<&bogus;"
        else:  # the same page, the same token, forever
            body = (b"<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>again"
                    b"</NextContinuationToken><Contents><Key>loop/a</Key><Size>1</Size></Contents>"
                    b"</ListBucketResult>")
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1], "w").write(str(s.server_address[1]))
s.serve_forever()
PY
bg_start python3 "$T/hostile.py" "$T/hostile.port"
for _ in $(seq 50); do [ -s "$T/hostile.port" ] && break; sleep 0.1; done
HOSTILE="http://127.0.0.1:$(cat "$T/hostile.port")"
expect_exit 6 sb snapshots --target s3://bkt/garbage --s3-endpoint "$HOSTILE"
expect_error "not a ListObjectsV2 result"
expect_exit 6 sb snapshots --target s3://bkt/loop --s3-endpoint "$HOSTILE"
expect_error "repeats a continuation token"

log "restore: latest and the first, byte-identical"
sb_restore "$URL" "$T/r3"
compare "$T/expect/3" "$T/r3"
sb_restore "$URL" "$T/r1" --time "$(iso "$(s3_set_times bkt host1/home | sed -n 1p)")"
compare "$T/expect/1" "$T/r1"

log "verify: clean, then one flipped byte in an object is caught and named"
expect_exit 0 sb verify --target "$URL" --sign-key "$SIGN_FPR"
vol=$(grep 'duplicity-full\..*\.vol1\.difftar\.gpg$' "$T/keys1")
aws_s3 s3 cp "s3://bkt/host1/home/$vol" "$T/vol.orig" --quiet
cp "$T/vol.orig" "$T/vol.bad"
python3 - "$T/vol.bad" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(0, 2); n = f.tell() // 2; f.seek(n); b = f.read(1); f.seek(n); f.write(bytes([b[0] ^ 0xff]))
PY
aws_s3 s3 cp "$T/vol.bad" "s3://bkt/host1/home/$vol" --quiet
expect_exit 13 sb verify --target "$URL" --sign-key "$SIGN_FPR"
expect_stdout_match "$vol"
expect_exit 6 sb restore --target "$URL" --sign-key "$SIGN_FPR" --secret-key "$T/enc-secret.asc" \
    --time "$(iso "$(s3_set_times bkt host1/home | sed -n 1p)")" "$T/r-bad"
aws_s3 s3 cp "$T/vol.orig" "s3://bkt/host1/home/$vol" --quiet
expect_exit 0 sb verify --target "$URL" --sign-key "$SIGN_FPR"

if [ -c /dev/fuse ] && command -v fusermount3 >/dev/null; then
    source "$(dirname "$0")/mountlib.sh"
    log "mount: the latest snapshot equals the source at its time"
    sb_mount "$URL" "$T/mnt"
    expect_stdout_match 'Mounted 3 snapshot'
    mcompare "$T/expect/3" "$(snap_dir "$T/mnt" "$(s3_set_times bkt host1/home | sed -n 3p)")"
    sb_umount "$T/mnt"
else
    log "mount: skipped (no /dev/fuse or fusermount3)"
fi

log "the proxy killed (kill -9) mid-upload: exit 5; a rerun completes the chain"
head -c $((48 * 1024 * 1024)) /dev/urandom >"$SRC/big2.bin"
wait_next_second
n_before=$(s3_keys bkt host1/home | wc -l)
d_before=$(swift_objects)
(
    # kill it a few objects (volumes, parts) into the new set
    for _ in $(seq 1200); do
        [ "$(swift_objects)" -ge $((d_before + 10)) ] && break
        sleep 0.05
    done
    swift_stop_proxy
) &
KILLER=$!
expect_exit 5 sb backup --target "$URL" --encrypt-key "$ENC_FPR" --sign-key "$SIGN_FPR" \
    --volsize 6 --s3-part-size 5 --s3-retries 2 "$SRC"
wait "$KILLER" || true
grep -aq "retrying in" "$LAST_ERR" || { cat "$LAST_ERR" >&2; fail "no retry before giving up"; }
expect_error "127.0.0.1:$S3_PORT"
swift_start_proxy
[ "$(s3_keys bkt host1/home | wc -l)" -gt "$n_before" ] || fail "nothing was uploaded before the kill"
log "a multipart upload a killed run left behind is aborted by the next backup"
aws_s3 s3api create-multipart-upload --bucket bkt --key "host1/home/duplicity-inc.20200101T000000Z.to.20200102T000000Z.vol1.difftar.gpg" >/dev/null
[ -n "$(s3_uploads bkt host1/home)" ] || fail "the store lists no multipart upload"
sb_backup "$URL" "$SRC" --volsize 6 --s3-part-size 5
snapshot_copy "$SRC" 4
[ -z "$(s3_uploads bkt host1/home)" ] || { s3_uploads bkt host1/home >&2; fail "multipart uploads left behind"; }
expect_exit 0 sb verify --target "$URL" --sign-key "$SIGN_FPR"
sb_restore "$URL" "$T/r4"
compare "$T/expect/4" "$T/r4"

log "duplicity restores the chain sealbox wrote (boto3+s3://)"
if python3 -c 'import boto3' 2>/dev/null || /usr/bin/python3 -c 'import boto3' 2>/dev/null; then
    run dup restore --s3-endpoint-url "$AWS_ENDPOINT_URL" boto3+s3://bkt/host1/home "$T/d4"
    compare "$T/expect/4" "$T/d4" --ignore-symlink-mtime --ignore-root
    log "sealbox restores and mounts a chain duplicity wrote there"
    run dup full --s3-endpoint-url "$AWS_ENDPOINT_URL" "$T/expect/1" boto3+s3://bkt/dup
    sb_restore s3://bkt/dup "$T/rd"
    compare "$T/expect/1" "$T/rd" --ignore-root
    if [ -c /dev/fuse ] && command -v fusermount3 >/dev/null; then
        sb_mount s3://bkt/dup "$T/mnt-dup"
        mcompare "$T/expect/1" "$T/mnt-dup/latest/" --ignore-root --ignore-hardlinks
        sb_umount "$T/mnt-dup"
    fi
else
    log "duplicity interop: skipped (no python3-boto3)"
fi

log "prune: a second chain, then --keep-chains 1 removes the first one's objects"
old_full=$(s3_keys bkt host1/home | grep '^duplicity-full\..*\.manifest\.gpg$')
wait_next_second
sb_backup "$URL" "$SRC" --full --volsize 8
expect_exit 0 sb prune --target "$URL" --keep-chains 1
expect_exit 0 sb snapshots --target "$URL" --sign-key "$SIGN_FPR"
expect_stdout_match "Backup chains: 1"
if s3_keys bkt host1/home | grep -qF "$old_full"; then fail "the first chain is still there"; fi
old_t=${old_full#duplicity-full.}
old_t=${old_t%%.*}
if s3_keys bkt host1/home | grep -F "$old_t" | grep -v '^duplicity-inc\.'; then
    fail "objects of the first chain are still there"
fi
sb_restore "$URL" "$T/r5"
compare "$SRC" "$T/r5"

log "a store failing every other upload (503): each upload retried alone, the backup completes"
printf 'flaky\n' >"$SRC/flaky.txt"
wait_next_second
expect_exit 0 env AWS_ACCESS_KEY_ID=test:flaky AWS_SECRET_ACCESS_KEY=flaking "$SEALBOX" backup \
    --target "$URL" --encrypt-key "$ENC_FPR" --sign-key "$SIGN_FPR" --volsize 8 --s3-part-size 5 "$SRC"
grep -aq "retrying in" "$LAST_ERR" || { cat "$LAST_ERR" >&2; fail "no upload was retried"; }
if grep -aq "error:" "$LAST_ERR"; then cat "$LAST_ERR" >&2; fail "an error for a retried upload"; fi
expect_exit 0 sb verify --target "$URL" --sign-key "$SIGN_FPR"
sb_restore "$URL" "$T/r-flaky"
compare "$SRC" "$T/r-flaky"

log "write-only credentials (DELETE refused): backup and verify work, prune fails in one line"
WO=(env AWS_ACCESS_KEY_ID=test:writer AWS_SECRET_ACCESS_KEY=writing)
printf 'written with a write-only key\n' >"$SRC/wo.txt"
wait_next_second
expect_exit 0 "${WO[@]}" "$SEALBOX" backup --target "$URL" --encrypt-key "$ENC_FPR" \
    --sign-key "$SIGN_FPR" --full "$SRC"
expect_exit 0 "${WO[@]}" "$SEALBOX" verify --target "$URL" --sign-key "$SIGN_FPR"
log "write-only: a run killed (kill -9) mid-upload; the next one resumes it (or, with no checkpoint, leaves its leftovers) and completes"
head -c $((48 * 1024 * 1024)) /dev/urandom >"$SRC/wo-big.bin"
wait_next_second
d_before=$(swift_objects)
"${WO[@]}" "$SEALBOX" backup --target "$URL" --encrypt-key "$ENC_FPR" --sign-key "$SIGN_FPR" \
    --volsize 6 --s3-part-size 5 -q "$SRC" >/dev/null 2>&1 &
WO_PID=$!
for _ in $(seq 600); do
    [ "$(swift_objects)" -ge $((d_before + 8)) ] && break
    sleep 0.05
done
kill -KILL "$WO_PID" 2>/dev/null || fail "the write-only backup ended before it could be killed"
wait "$WO_PID" 2>/dev/null || true
wait_next_second
expect_exit 0 "${WO[@]}" "$SEALBOX" backup --target "$URL" --encrypt-key "$ENC_FPR" \
    --sign-key "$SIGN_FPR" --volsize 6 --s3-part-size 5 "$SRC"
expect_stderr_match "resuming the interrupted backup|leaving .* of the set .* on the target"
snapshot_copy "$SRC" wo
rm -f "$SRC/wo-big.bin"
n_wo=$(s3_keys bkt host1/home | wc -l)
expect_exit 5 "${WO[@]}" "$SEALBOX" prune --target "$URL" --keep-chains 1
expect_error "access denied.*these credentials may not delete"
[ "$(s3_keys bkt host1/home | wc -l)" = "$n_wo" ] || fail "a write-only key deleted objects"
expect_exit 0 sb snapshots --target "$URL" --sign-key "$SIGN_FPR"
expect_stdout_match "Backup chains: 2"
sb_restore "$URL" "$T/r-wo"
compare "$T/expect/wo" "$T/r-wo"

log "a full quota: one line, exit 5"
TOKEN=$(curl -s -D - -o /dev/null -H 'X-Auth-User: admin:admin' -H 'X-Auth-Key: admin' \
    "$AWS_ENDPOINT_URL/auth/v1.0" | tr -d '\r' | sed -n 's/^X-Auth-Token: //Ip')
[ -n "$TOKEN" ] || fail "no tempauth token for the admin"
curl -sf -X POST -H "X-Auth-Token: $TOKEN" -H 'X-Account-Meta-Quota-Bytes: 1' \
    "$AWS_ENDPOINT_URL/v1/AUTH_test" || fail "could not set the account quota"
printf 'more\n' >"$SRC/after-quota.txt"
wait_next_second
expect_exit 5 sb backup --target "$URL" --encrypt-key "$ENC_FPR" --sign-key "$SIGN_FPR" "$SRC"
expect_error "quota exceeded"
