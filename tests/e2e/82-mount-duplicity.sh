#!/bin/bash
# 82-mount-duplicity: sealbox mount of chains written by the real duplicity
# 0.8.22, each a full + 2 incrementals: encrypted+signed, --no-encryption,
# and multi-volume (--volsize 1). Every snapshot folder equals `duplicity
# restore` of that time and the source copy of that time. The index built on
# the first mount is kept: a second mount lists everything with the volumes
# moved away (mounting and listing decrypt no volume).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/mountlib.sh"
need_fuse
need_cmd duplicity

make_keys
SRC="$T/src"
make_tree "$SRC"

log "duplicity full + 2 incrementals"
dup_backup_all full "$SRC"
snapshot_copy "$SRC" 1
wait_next_second
mutate_tree "$SRC" 1
dup_backup_all incremental "$SRC"
snapshot_copy "$SRC" 2
wait_next_second
mutate_tree "$SRC" 2
dup_backup_all incremental "$SRC"
snapshot_copy "$SRC" 3
ls "$T/t-multi"/duplicity-full.*.vol3.difftar.gpg >/dev/null || fail "multi chain: fewer than 3 volumes"

# dmount KIND MOUNTPOINT: mount chain KIND (the plain one needs no keys, but
# is refused unless --allow-unsigned says the user takes it unsigned).
dmount() {
    mkdir -p "$2"
    if [ "$1" = plain ]; then
        expect_exit 6 sb mount --target "file://$T/t-$1" "$2"
        expect_error "neither encrypted nor signed.*--allow-unsigned"
        ! is_mounted "$2" || fail "a refused mount left $2 mounted"
        expect_exit 0 sb mount --target "file://$T/t-$1" --allow-unsigned "$2"
        is_mounted "$2" || fail "plain chain not mounted"
    else
        sb_mount "file://$T/t-$1" "$2"
    fi
}

MP="$T/mnt"
for k in $DUP_KINDS; do
    url="file://$T/t-$k"
    log "$k: first mount (builds the index)"
    dmount "$k" "$MP"
    mapfile -t TIMES < <(set_times "$T/t-$k")
    [ ${#TIMES[@]} = 3 ] || fail "$k: expected 3 sets"
    [ "$(readlink "$MP/latest")" = "$(iso "${TIMES[2]}")" ] || fail "$k: latest"
    for i in 1 2 3; do
        t=${TIMES[$((i - 1))]}
        S=$(snap_dir "$MP" "$t")
        log "$k: snapshot $i ($(iso "$t")) against duplicity restore"
        if [ "$k" = plain ]; then
            DUP_PLAIN=1 run dup restore --time "$t" "$url" "$T/d-$k-$i"
        else
            run dup restore --time "$t" "$url" "$T/d-$k-$i"
        fi
        mcompare "$T/d-$k-$i" "$S" --ignore-symlink-mtime --ignore-root --ignore-hardlinks
        mcompare "$T/expect/$i" "$S" --ignore-hardlinks
        link_counts "$S"
    done
    [ "$k" != multi ] || cmp -s "$T/expect/2/big.bin" "$(snap_dir "$MP" "${TIMES[1]}")/big.bin" ||
        fail "multi: big.bin spanning volumes"
    sb_umount "$MP"

    log "$k: second mount uses the kept index: lists with no volume present"
    mkdir "$T/away-$k"
    mv "$T/t-$k"/duplicity-*.difftar.* "$T/away-$k/"
    dmount "$k" "$MP"
    (cd "$MP/latest/" && find . -printf '%y %s %m %T@ %p\n' | sort) >"$T/list-$k"
    (cd "$T/expect/3" && find . -printf '%y %s %m %T@ %p\n' | sort) >"$T/want-$k"
    [ "$(wc -l <"$T/list-$k")" -gt 40 ] || fail "$k: listing from the kept index is short"
    # directory sizes are the file system's business
    diff <(grep -av '^d' "$T/want-$k" | sed 's/\.[0-9]* / /') <(grep -av '^d' "$T/list-$k" | sed 's/\.[0-9]* / /') >&2 ||
        fail "$k: listing from the kept index differs"
    _run cat "$MP/latest/big.bin"
    [ "$LAST_RC" != 0 ] || fail "$k: big.bin read with its volumes gone"
    sb_umount "$MP"
    mv "$T/away-$k"/* "$T/t-$k/"
done
