#!/bin/bash
# 10-roundtrip: sealbox backup (full + 2 incrementals + an unchanged rerun +
# a forced full) and sealbox restore of every snapshot, of one file and of one
# directory, compared byte- and metadata-exactly with copies of the source
# taken at each backup time.  Also: snapshots (text and --json), --time forms,
# no overwrite without --force.
source "$(dirname "$0")/lib.sh"

make_keys
SRC="$T/src"
make_tree "$SRC"
TGT="$T/target"
mkdir "$TGT"
URL="file://$TGT"
# Times in the remote names are whole seconds; restore compares with them.

log "full backup"
sb_backup "$URL" "$SRC" --volsize 1
snapshot_copy "$SRC" 1
[ "$(stat_value SourceFiles)" -gt 40 ] || fail "SourceFiles too small in the full's statistics"
ls "$TGT"/duplicity-full.*.manifest.gpg >/dev/null || fail "no encrypted full manifest in $TGT"
ls "$TGT"/duplicity-full.*.vol2.difftar.gpg >/dev/null || fail "--volsize 1 with a 3 MB file gave a single volume"
ls "$TGT"/duplicity-full-signatures.*.sigtar.gpg >/dev/null || fail "no full signatures in $TGT"

log "incremental 1"
wait_next_second
mutate_tree "$SRC" 1
sb_backup "$URL" "$SRC" --volsize 1
snapshot_copy "$SRC" 2
[ "$(stat_value DeletedFiles)" -gt 0 ] || fail "inc 1 statistics show no deleted files"

log "incremental 2 (plain path as target)"
wait_next_second
mutate_tree "$SRC" 2
sb_backup "$TGT" "$SRC" --volsize 1
snapshot_copy "$SRC" 3

[ "$(set_times "$TGT" | wc -l)" = 3 ] || { ls -l "$TGT" >&2; fail "expected 3 sets in $TGT"; }
ls "$TGT"/duplicity-inc.*.manifest.gpg >/dev/null || fail "no incremental manifests"
ls "$TGT"/duplicity-new-signatures.*.sigtar.gpg >/dev/null || fail "no new-signatures files"
T1=$(nth_time "$TGT" 1)
T2=$(nth_time "$TGT" 2)
T3=$(nth_time "$TGT" 3)
[ "$T1" -lt "$T2" ] && [ "$T2" -lt "$T3" ] || fail "set times not increasing: $T1 $T2 $T3"

log "snapshots lists 3 sets"
expect_exit 0 sb snapshots --target "$URL" --sign-key "$SIGN_FPR"
expect_stdout_match ", checked$"
for t in "$T1" "$T2" "$T3"; do
    grep -aEq "$(iso "$t" | sed 's/Z$//')|$(date -u -d "@$t" +%Y%m%dT%H%M%S)|$(date -u -d "@$t" '+%Y-%m-%d %H:%M:%S')|$(LC_ALL=C date -u -d "@$t" '+%a %b %e %H:%M:%S %Y')" "$LAST_OUT" ||
        { cat "$LAST_OUT" >&2; fail "snapshots does not show set time $(iso "$t")"; }
done
expect_exit 0 sb snapshots --target "$URL" --json
python3 - "$LAST_OUT" "$T1" "$T2" "$T3" <<'EOF' || fail "snapshots --json does not list the 3 set times"
import json, sys, datetime
doc = json.load(open(sys.argv[1]))
want = [int(x) for x in sys.argv[2:]]
seen = set()
def walk(v):
    if isinstance(v, dict):
        for x in v.values(): walk(x)
    elif isinstance(v, list):
        for x in v: walk(x)
    elif isinstance(v, (int, float)) and not isinstance(v, bool):
        seen.add(int(v))
    elif isinstance(v, str):
        for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y%m%dT%H%M%SZ", "%Y-%m-%dT%H:%M:%S+00:00", "%Y-%m-%d %H:%M:%S"):
            try:
                d = datetime.datetime.strptime(v, fmt).replace(tzinfo=datetime.timezone.utc)
                seen.add(int(d.timestamp()))
            except ValueError:
                pass
walk(doc)
missing = [w for w in want if w not in seen]
if missing:
    print("missing set times in JSON:", missing, file=sys.stderr)
    sys.exit(1)
EOF

log "restore every snapshot (epoch, ISO, now, default)"
sb_restore "$URL" "$T/r1" --time "$T1"
compare "$T/expect/1" "$T/r1" --ignore-root
sb_restore "$URL" "$T/r2" --time "$(iso "$T2")"
compare "$T/expect/2" "$T/r2" --ignore-root
sb_restore "$URL" "$T/r3" --time now
compare "$T/expect/3" "$T/r3" --ignore-root
sb_restore "$TGT" "$T/r3b"
compare "$T/expect/3" "$T/r3b" --ignore-root
# a time between two sets picks the older one
sb_restore "$URL" "$T/r2b" --time "$(iso $((T3 - 1)))"
compare "$T/expect/2" "$T/r2b" --ignore-root

log "deleted files are absent where they should be"
[ -e "$T/r1/delete-me.txt" ] && [ -d "$T/r1/todelete/sub" ] || fail "snapshot 1 lacks files deleted later"
[ ! -e "$T/r2/delete-me.txt" ] && [ ! -e "$T/r2/todelete" ] || fail "deleted file/dir present in snapshot 2"
[ -e "$T/r2/added1.txt" ] && [ ! -e "$T/r3/added1.txt" ] || fail "added1.txt wrong in snapshots 2/3"
[ -f "$T/r1/typechange" ] && [ -d "$T/r2/typechange" ] && [ -L "$T/r3/typechange" ] || fail "type changes not restored"

log "restore of one file and one directory (--path)"
mkdir "$T/one"
sb_restore "$URL" "$T/one" --path dir1/one.txt
[ "$(ls -A "$T/one")" = one.txt ] || { ls -lA "$T/one" >&2; fail "--path file into a dir: expected only one.txt"; }
compare "$T/expect/3/dir1/one.txt" "$T/one/one.txt"
sb_restore "$URL" "$T/single-file" --path "caf"$'\xe9'".txt" --time "$T1"
compare "$T/expect/1/caf"$'\xe9'".txt" "$T/single-file"
sb_restore "$URL" "$T/bigfile" --path big.bin --time "$T2"
compare "$T/expect/2/big.bin" "$T/bigfile"
mkdir "$T/onedir"
sb_restore "$URL" "$T/onedir" --path dir1
[ "$(ls -A "$T/onedir")" = dir1 ] || { ls -lA "$T/onedir" >&2; fail "--path dir into a dir: expected only dir1"; }
compare "$T/expect/3/dir1" "$T/onedir/dir1"
sb_restore "$URL" "$T/newdir" --path todelete --time "$T1"
compare "$T/expect/1/todelete" "$T/newdir"
expect_exit 7 sb restore --target "$URL" --sign-key "$SIGN_FPR" --secret-key "$T/enc-secret.asc" \
    --path delete-me.txt --time "$T3" "$T/never"
expect_error 'delete-me\.txt'
[ ! -e "$T/never" ] || [ -z "$(ls -A "$T/never")" ] || fail "restore of a missing path created files"

log "restore with the secret key in the keyring instead of --secret-key"
GNUPGHOME="$RESTORE_GNUPGHOME" expect_exit 0 sb restore --target "$URL" --sign-key "$SIGN_FPR" \
    --time "$T2" "$T/r2-keyring"
compare "$T/expect/2" "$T/r2-keyring" --ignore-root

log "existing files are not overwritten without --force"
printf 'local edit\n' >"$T/r3/small.txt"
_run sb restore --target "$URL" --sign-key "$SIGN_FPR" --secret-key "$T/enc-secret.asc" "$T/r3"
[ "$LAST_RC" != 0 ] || fail "restore over existing files without --force exited 0"
[ "$LAST_RC" != 12 ] || { cat "$LAST_ERR" >&2; fail "restore over existing files: internal error"; }
expect_error 'small\.txt|exist|--force'
[ "$(cat "$T/r3/small.txt")" = 'local edit' ] || fail "restore without --force overwrote small.txt"
sb_restore "$URL" "$T/r3" --force
compare "$T/expect/3" "$T/r3" --ignore-root

log "unchanged rerun still produces a set"
wait_next_second
sb_backup "$URL" "$SRC" --volsize 1
[ "$(stat_value NewFiles)" = 0 ] && [ "$(stat_value DeletedFiles)" = 0 ] &&
    [ "$(stat_value ChangedFiles)" = 0 ] || { cat "$LAST_OUT" >&2; fail "unchanged rerun reports changes"; }
[ "$(set_times "$TGT" | wc -l)" = 4 ] || fail "unchanged rerun did not add a set"
T4=$(nth_time "$TGT" 4)
sb_restore "$URL" "$T/r4" --time "$T4"
compare "$T/expect/3" "$T/r4" --ignore-root

log "--full starts a new chain; old chain still restores"
wait_next_second
printf 'after forced full\n' >"$SRC/full2.txt"
sb_backup "$URL" "$SRC" --volsize 1 --full
snapshot_copy "$SRC" 5
[ "$(ls "$TGT"/duplicity-full.*.manifest.gpg | wc -l)" = 2 ] || fail "--full did not write a second full set"
sb_restore "$URL" "$T/r5"
compare "$T/expect/5" "$T/r5" --ignore-root
sb_restore "$URL" "$T/r2-again" --time "$T2"
compare "$T/expect/2" "$T/r2-again" --ignore-root
expect_exit 0 sb snapshots --target "$URL"
