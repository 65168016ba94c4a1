#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""ratemeter.py - measure the bytes a transfer moves over time, from outside
the program under test, for the bandwidth-limit test (tests/e2e/68-throttle.sh)
and benchmark (bench/throttle.sh).

  ratemeter.py sample OUT (--port PORT --dir up|down | --path DIR | --reads DIR)
                    [--interval S]
      Until SIGTERM, append "SECONDS BYTES" lines to OUT: the bytes moved so far.
      --port: TCP bytes on the wire of every connection to 127.0.0.1:PORT
      (ss's bytes_acked for up, bytes_received for down, per connection its
      highest count, so connections that close keep counting). --path: the sum
      of the sizes of the files below DIR (what arrived on a local target).
      --reads: the bytes read from the files in DIR by any process (the read
      offsets of the descriptors open on them, /proc/PID/fdinfo; per file the
      furthest a reader got, the whole file once closed: restore reads each
      volume once, to its end).
  ratemeter.py report OUT [--window S] [--trim F]
      One line of key=value: total bytes, the active time (from the first byte
      moved to the last), avg (B/s over the active time), mid (B/s between the
      moments F and 1-F of the bytes had moved: the start and end cut off),
      and the lowest and highest rate over any window of S seconds within the
      active time (wmin, wmax; 0 when it is shorter than S).
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import time

FIELD = {"up": re.compile(r"\bbytes_acked:(\d+)"), "down": re.compile(r"\bbytes_received:(\d+)")}


def wire_bytes(port, direction, seen):
    out = subprocess.run(["ss", "-tinH", "dport = :%d" % port], capture_output=True,
                         text=True).stdout
    key = None
    for line in out.splitlines():
        if not line.startswith(("\t", " ")):
            f = line.split()
            key = f[3] if len(f) >= 5 else None  # the local address:port
            continue
        m = FIELD[direction].search(line)
        if key and m:
            seen[key] = max(seen.get(key, 0), int(m.group(1)))
    return sum(seen.values())


def dir_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_size
            except OSError:
                pass  # renamed or removed meanwhile
    return total


def read_bytes(path, progress, open_now):
    """Bytes read so far from the files in path (see --reads): per file, the
    furthest any reader got, or its size once no reader holds it open."""
    now = set()
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            fds = os.listdir("/proc/%s/fd" % pid)
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink("/proc/%s/fd/%s" % (pid, fd))
                if os.path.dirname(target) != path:
                    continue
                with open("/proc/%s/fdinfo/%s" % (pid, fd)) as f:
                    info = dict(l.split(":", 1) for l in f.read().splitlines() if ":" in l)
                if int(info["flags"], 8) & 3 != os.O_RDONLY:
                    continue
                progress[target] = max(progress.get(target, 0), int(info["pos"]))
                now.add(target)
            except (OSError, KeyError, ValueError):
                continue
    for target in open_now - now:
        try:
            progress[target] = max(progress[target], os.stat(target).st_size)
        except OSError:
            pass
    open_now.clear()
    open_now.update(now)
    return sum(progress.values())


def sample(a):
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    seen = {}
    open_now = set()
    base = None
    with open(a.out, "w") as f:
        while not stop:
            t = time.monotonic()
            if a.port:
                b = wire_bytes(a.port, a.dir, seen)
            elif a.reads:
                b = read_bytes(a.reads, seen, open_now)
            else:
                b = dir_bytes(a.path)
            if base is None:
                base = b  # what was there before: not this transfer's
            f.write("%.4f %d\n" % (t, b - base))
            f.flush()
            time.sleep(max(0.0, a.interval - (time.monotonic() - t)))


def at(samples, i):
    return samples[i][0], samples[i][1]


def report(a):
    s = []
    with open(a.out) as f:
        for line in f:
            p = line.split()
            if len(p) == 2:
                s.append((float(p[0]), int(p[1])))
    total = s[-1][1] if s else 0
    if total <= 0:
        print("total=0 active=0 avg=0 mid=0 wmin=0 wmax=0")
        return
    first = next(i for i, (_, b) in enumerate(s) if b > 0)
    last = next(i for i, (_, b) in enumerate(s) if b >= total)
    # the active time starts at the last sample before any byte moved
    i0 = max(first - 1, 0)
    t0, b0 = at(s, i0)
    t1, b1 = at(s, last)
    active = t1 - t0
    avg = (b1 - b0) / active if active > 0 else 0
    lo = next(i for i, (_, b) in enumerate(s) if b >= total * a.trim)
    hi = next(i for i, (_, b) in enumerate(s) if b >= total * (1 - a.trim))
    mid = (s[hi][1] - s[lo][1]) / (s[hi][0] - s[lo][0]) if s[hi][0] > s[lo][0] else 0
    wmin = wmax = 0.0
    if active >= a.window:
        rates = []
        j = i0
        for i in range(i0, last + 1):
            # the window ending at sample i: from the last sample at least
            # a.window seconds before it
            while j + 1 <= i and s[i][0] - s[j + 1][0] >= a.window:
                j += 1
            if s[i][0] - s[j][0] >= a.window:
                rates.append((s[i][1] - s[j][1]) / (s[i][0] - s[j][0]))
        if rates:
            wmin, wmax = min(rates), max(rates)
    print("total=%d active=%.2f avg=%.0f mid=%.0f wmin=%.0f wmax=%.0f" %
          (total, active, avg, mid, wmin, wmax))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("sample")
    p.add_argument("out")
    p.add_argument("--port", type=int)
    p.add_argument("--dir", choices=["up", "down"], default="up")
    p.add_argument("--path")
    p.add_argument("--reads", type=os.path.realpath)
    p.add_argument("--interval", type=float, default=0.05)
    r = sub.add_parser("report")
    r.add_argument("out")
    r.add_argument("--window", type=float, default=10.0)
    r.add_argument("--trim", type=float, default=0.1)
    a = ap.parse_args()
    if a.cmd == "sample":
        if (a.port is not None) + (a.path is not None) + (a.reads is not None) != 1:
            ap.error("give one of --port, --path and --reads")
        sample(a)
    else:
        report(a)


if __name__ == "__main__":
    sys.exit(main())
