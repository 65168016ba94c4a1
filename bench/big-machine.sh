#!/bin/bash
# bench/big-machine.sh - the speed targets of issue 16: sealbox, restic and
# duplicity 0.8.22 on the same trees in one run (not part of the test suite).
#
#   bash bench/big-machine.sh TREE...
#
# TREE is a folder, or "small:N:DIR" for a tree of N small text files made
# (once, deterministically, by this script) in DIR: 100 files a folder,
# 60-1060 bytes each, words from a fixed-seed generator. The issue's trees:
#   linux-source-6.1 without drivers/ (about 47,000 files, 380 MB), from
#     apt-get download linux-source-6.1; dpkg-deb -x ...; tar -xf ... --exclude='*/drivers'
#   small:300000:/var/tmp/small300k (300,000 files, 172 MB)
#
# For each tree and tool: full backup, then a backup with nothing changed;
# wall seconds, CPU seconds of the whole machine during the step (from
# /proc/stat: gpg and gpg-agent count), the peak RSS of the tool's largest
# process (getrusage of its children, exact: /usr/bin/time -f %M), the peak of
# the summed RSS of every process of the tool (the command, each gpg it
# starts, and the gpg-agent of its keyring; sampled every 50 ms, so a short
# peak can be missed), and the target's size in bytes.
#
# Keys as in backup-vs-duplicity.sh (no passphrase on the signing key);
# SIGN_PASS=PASSPHRASE gives the signing key one, as cron would
# (SEALBOX_SIGN_PASSPHRASE, duplicity's SIGN_PASSPHRASE): then every
# signature costs gpg-agent a derivation of the key from the passphrase, as
# on a user's machine. SKIP="WORD..." leaves out the tool:tree pairs whose
# text contains a listed word (e.g. SKIP=duplicity:small300k).
# GPG_COMPRESS_LEVEL=N puts "compress-level N" into the keyring's gpg.conf:
# duplicity's gpg then compresses at that zlib level instead of 6. sealbox
# compresses at its own --compress-level (default 3), which wins over
# gpg.conf; SB_COMPRESS_LEVEL=N passes --compress-level N.
# Volumes: each tool's default size (sealbox 50 MiB, duplicity 200 MB);
# VOLSIZE=MIB gives both that size.
# PAIRS=N then runs the fulls of sealbox and restic N times more, in turn,
# and prints the median of their ratios (see pairs).
# Run it on an otherwise idle machine (each step waits for the machine to be
# idle: see settle); figures of one run, not medians. Each tool's full
# starts with the tree read once, untimed (see warm), so that no tool pays
# for reading it from the disk while the others find it in memory.
set -euo pipefail
[ $# -ge 1 ] || { sed -n '2,39p' "$0" >&2; exit 2; }
vol=${VOLSIZE:-} # empty: each tool's default (sealbox 50 MiB, duplicity 200 MB)
for c in restic duplicity python3 bc; do
    command -v $c >/dev/null || { echo "$c is needed (apt-get install $c)" >&2; exit 1; }
done
PASS=${SIGN_PASS:-}
source "$(dirname "$0")/lib.sh"
bench_setup sbbig "$PASS"
if [ -n "${GPG_COMPRESS_LEVEL:-}" ]; then echo "compress-level $GPG_COMPRESS_LEVEL" >"$GNUPGHOME/gpg.conf"; fi
export RESTIC_PASSWORD=bench

# small:N:DIR -> DIR, made if missing
make_small() {
    local n=$1 dir=$2
    [ -f "$dir/.complete-$n" ] && return 0
    rm -rf "$dir"
    mkdir -p "$dir"
    python3 - "$dir" "$n" <<'EOF'
import os, random, sys
root, n = sys.argv[1], int(sys.argv[2])
r = random.Random(16)
words = [''.join(r.choice('abcdefghijklmnopqrstuvwxyz') for _ in range(r.randint(2, 9)))
         for _ in range(4096)]
for i in range(n):
    d = os.path.join(root, 'd%02d' % (i // 10000), 's%03d' % (i // 100 % 100))
    if i % 100 == 0:
        os.makedirs(d, exist_ok=True)
    size = 60 + (r.getrandbits(20) % 1000)
    out, ln = [], 0
    while ln < size:
        w = words[r.getrandbits(12)]
        out.append(w)
        ln += len(w) + 1
    with open(os.path.join(d, 'f%06d.txt' % i), 'w') as f:
        f.write(' '.join(out)[:size] + '\n')
EOF
    touch "$dir/.complete-$n"
}

# the summed RSS (KiB) of PID's descendants and of this keyring's gpg-agent,
# sampled until PID ends; the peak into FILE
cat >"$W/rss-sampler.py" <<'EOF'
import os, sys, time
root, home, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
peak = 0
def procs():
    kids, rss, agent = {}, {}, []
    for p in os.listdir('/proc'):
        if not p.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % p) as f:
                st = f.read()
            ppid = int(st[st.rindex(')') + 2:].split()[1])
            with open('/proc/%s/statm' % p) as f:
                rss[int(p)] = int(f.read().split()[1]) * 4
            if '(gpg-agent)' in st:
                with open('/proc/%s/cmdline' % p, 'rb') as f:
                    if home.encode() in f.read():
                        agent.append(int(p))
            kids.setdefault(ppid, []).append(int(p))
        except (OSError, ValueError, IndexError):
            pass
    return kids, rss, agent
while os.path.exists('/proc/%d' % root):
    kids, rss, agent = procs()
    todo, tot, seen = [root] + agent, 0, set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        tot += rss.get(p, 0)
        todo += kids.get(p, [])
    peak = max(peak, tot)
    time.sleep(0.05)
with open(out, 'w') as f:
    f.write('%d\n' % peak)
EOF

busy() { awk '/^cpu /{print $2+$3+$4+$7+$8}' /proc/stat; }
hz=$(getconf CLK_TCK)
# settle: wait (at most 60 s) until the whole machine is idle for half a
# second - under 5% of one core's time busy - so that a step does not pay
# for the one before (the kernel's writeback and freeing after a large rm)
settle() {
    local i a b
    for i in $(seq 120); do
        a=$(busy)
        sleep 0.5
        b=$(busy)
        [ $((b - a)) -le $((hz / 40)) ] && return 0
    done
    echo "# the machine did not settle in 60 s" >&2
}
# warm DIR: every file of DIR read once. The first tool to read a tree that
# other work had pushed out of the kernel's cache (on a VM here the page
# cache stays under 1.7 GB with 22 GB free) paid for that alone: the 50k
# full took 10.7 s in such a run, restic after it 6.7 s; alone, after
# drop_caches 10.1 s, warm 6.7 s.
warm() { find "$1" -type f -print0 | xargs -0 -r cat >/dev/null; }
# measure LABEL TARGET CMD...: one row
measure() {
    local label=$1 target=$2 b0 b1 t0 t1 pid rc=0
    shift 2
    sync
    settle
    b0=$(busy)
    t0=$(date +%s.%N)
    /usr/bin/time -f %M -o "$W/rss" "$@" >"$W/out" 2>"$W/err" &
    pid=$!
    python3 "$W/rss-sampler.py" "$pid" "$GNUPGHOME" "$W/rsssum" &
    wait "$pid" || rc=$?
    t1=$(date +%s.%N)
    b1=$(busy)
    wait
    if [ "$rc" != 0 ]; then
        tail -5 "$W/err" >&2
        echo "FAILED ($rc): $*" >&2
        exit 1
    fi
    LAST_WALL=$(echo "$t1 - $t0" | bc)
    printf '%-36s %8.2f %8.2f %8d %8d %13d\n' "$label" "$LAST_WALL" \
        "$(echo "($b1 - $b0) / $hz" | bc -l)" "$(($(tail -1 "$W/rss") / 1024))" \
        "$(($(cat "$W/rsssum") / 1024))" "$(du -sb "$target" | cut -f1)"
}
skip() {
    local w
    for w in ${SKIP:-}; do
        case "$1" in *"$w"*) return 0 ;; esac
    done
    return 1
}

# sb_cmd DIR SRC: sbc, the sealbox backup of SRC into DIR (target, archive
# dir and cache there); restic_new DIR SRC: a repository made in DIR, rsc
# the restic backup of SRC into it
sb_cmd() {
    sbc=(env XDG_CACHE_HOME="$1/cache" "$sb" backup --target "$1/t-sb" --archive-dir "$1/a-sb"
        --encrypt-key "$ENC" --sign-key "$SIGN" ${vol:+--volsize "$vol"}
        ${SB_COMPRESS_LEVEL:+--compress-level "$SB_COMPRESS_LEVEL"} "$2")
}
restic_new() {
    restic init -q -r "$1/t-restic" --cache-dir "$1/rc" >/dev/null
    rsc=(restic backup -q -r "$1/t-restic" --cache-dir "$1/rc" "$2")
}
# pairs NAME SRC DIR: PAIRS fulls of sealbox and restic in turn (A B A B
# ...), each into a new target or repository; a row each, then the medians
# and the median of the pairs' ratios: the machine's speed drifts, and a
# ratio taken pair by pair is steadier than two single runs.
pairs() {
    local name=$1 src=$2 d=$3/pairs i sbw=() rw=()
    mkdir -p "$d"
    warm "$src"
    for i in $(seq "$PAIRS"); do
        rm -rf "$d/t-sb" "$d/a-sb" "$d/cache" "$d/t-restic" "$d/rc"
        sb_cmd "$d" "$src"
        measure "pair $i sealbox full $name" "$d/t-sb" "${sbc[@]}"
        sbw+=("$LAST_WALL")
        restic_new "$d" "$src"
        measure "pair $i restic full $name" "$d/t-restic" "${rsc[@]}"
        rw+=("$LAST_WALL")
    done
    python3 - "$name" "${sbw[*]}" "${rw[*]}" <<'PY'
import statistics, sys
name, a, b = sys.argv[1], [float(x) for x in sys.argv[2].split()], [float(x) for x in sys.argv[3].split()]
r = [x / y for x, y in zip(a, b)]
print('# pairs %s (%d): sealbox median %.2f s, restic median %.2f s, sealbox/restic median %.3f (%.3f-%.3f)'
      % (name, len(r), statistics.median(a), statistics.median(b), statistics.median(r), min(r), max(r)))
PY
    rm -rf "$d"
}

echo "sealbox ${SEALBOX:-$(git -C "$top" describe --always --dirty 2>/dev/null)}, restic $(restic version | cut -d' ' -f2)," \
    "duplicity $(duplicity --version 2>/dev/null | cut -d' ' -f2), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)," \
    "volsize ${vol:-each tool default}, signing key $([ -n "$PASS" ] && echo with || echo without) a passphrase," \
    "gpg.conf compress-level ${GPG_COMPRESS_LEVEL:-none (gpg: 6)}, sealbox --compress-level ${SB_COMPRESS_LEVEL:-3 (default)}"
printf '%-36s %8s %8s %8s %8s %13s\n' step wall_s cpu_s rss_MiB sumrss target_bytes
for spec in "$@"; do
    case "$spec" in
    small:*)
        n=${spec#small:}
        dir=${n#*:}
        n=${n%%:*}
        make_small "$n" "$dir"
        src=$(realpath "$dir")
        ;;
    *) src=$(realpath "$spec") ;;
    esac
    name=$(basename "$src")
    echo "# $name: $src, $(find "$src" -type f | wc -l) files, $(du -s --apparent-size -BM "$src" | cut -f1)"
    t=$W/$name
    mkdir -p "$t"
    # sealbox
    if ! skip "sealbox:$name"; then
        sb_cmd "$t" "$src"
        warm "$src"
        measure "sealbox full $name" "$t/t-sb" "${sbc[@]}"
        sleep 1
        measure "sealbox unchanged $name" "$t/t-sb" "${sbc[@]}"
    fi
    if ! skip "restic:$name"; then
        restic_new "$t" "$src"
        warm "$src"
        measure "restic full $name" "$t/t-restic" "${rsc[@]}"
        sleep 1
        measure "restic unchanged $name" "$t/t-restic" "${rsc[@]}"
    fi
    if ! skip "duplicity:$name"; then
        db=(duplicity --encrypt-key "$ENC" --sign-key "$SIGN" ${vol:+--volsize "$vol"}
            --archive-dir "$t/a-dup" --name b "$src" "file://$t/t-dup")
        warm "$src"
        measure "duplicity full $name" "$t/t-dup" "${db[0]}" full "${db[@]:1}"
        sleep 1
        measure "duplicity unchanged $name" "$t/t-dup" "${db[0]}" incremental "${db[@]:1}"
    fi
    if [ "${PAIRS:-0}" -gt 0 ] && ! skip "sealbox:$name" && ! skip "restic:$name"; then
        pairs "$name" "$src" "$t"
    fi
    rm -rf "$t"
done
