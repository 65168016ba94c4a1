#!/bin/bash
# 30-sealbox-restores-duplicity: chains written by the real duplicity 0.8.22,
# each a full + 2 incrementals:
#   enc    encrypted to the encryption key and signed (default volume size)
#   plain  --no-encryption (gzip volumes, plain manifests, no signatures)
#   multi  encrypted+signed, --volsize 1 with a 3 MB file spanning volumes
# sealbox restore of every set time equals duplicity's restore of that time
# and the copy of the source taken at that time.
source "$(dirname "$0")/lib.sh"
need_cmd duplicity

make_keys
SRC="$T/src"
make_tree "$SRC"

# One source history, three targets backed up at the same moments (lib.sh).
log "duplicity full"
dup_backup_all full "$SRC"
snapshot_copy "$SRC" 1
wait_next_second
mutate_tree "$SRC" 1
log "duplicity incremental 1"
dup_backup_all incremental "$SRC"
snapshot_copy "$SRC" 2
wait_next_second
mutate_tree "$SRC" 2
log "duplicity incremental 2"
dup_backup_all incremental "$SRC"
snapshot_copy "$SRC" 3

ls "$T/t-plain"/duplicity-full.*.manifest >/dev/null || fail "plain chain: no plain manifest"
ls "$T/t-multi"/duplicity-full.*.vol3.difftar.gpg >/dev/null || fail "multi chain: fewer than 3 volumes"

for k in $DUP_KINDS; do
    [ "$(set_times "$T/t-$k" | wc -l)" = 3 ] || fail "$k: expected 3 sets"
    url="file://$T/t-$k"
    i=0
    for t in $(set_times "$T/t-$k"); do
        i=$((i + 1))
        log "$k: restore set $i ($(iso "$t"))"
        if [ "$k" = plain ]; then
            DUP_PLAIN=1 run dup restore --time "$t" "$url" "$T/d-$k-$i"
            # Neither encrypted nor signed: refused unless the user says so.
            expect_exit 6 sb restore --target "$url" --time "$t" "$T/s-$k-$i"
            expect_stderr_match "neither encrypted nor signed.*--allow-unsigned"
            [ ! -e "$T/s-$k-$i" ] || fail "a refused restore created $T/s-$k-$i"
            expect_exit 0 sb restore --target "$url" --time "$t" --allow-unsigned "$T/s-$k-$i"
        else
            run dup restore --time "$t" "$url" "$T/d-$k-$i"
            sb_restore "$url" "$T/s-$k-$i" --time "$t"
        fi
        compare "$T/expect/$i" "$T/d-$k-$i" --ignore-symlink-mtime --ignore-root
        compare "$T/expect/$i" "$T/s-$k-$i" --ignore-root
        # what duplicity itself restores (it leaves symlink mtimes unset)
        compare "$T/d-$k-$i" "$T/s-$k-$i" --ignore-symlink-mtime --ignore-root
    done
done

log "multi: single files spanning volumes, at each time"
url="file://$T/t-multi"
i=0
for t in $(set_times "$T/t-multi"); do
    i=$((i + 1))
    sb_restore "$url" "$T/big-$i" --time "$t" --path big.bin
    compare "$T/expect/$i/big.bin" "$T/big-$i"
done

log "snapshots on duplicity's chains"
for k in $DUP_KINDS; do
    expect_exit 0 sb snapshots --target "file://$T/t-$k"
done
