#!/usr/bin/env python3
"""treecmp.py - compare two file trees (or two single objects) exactly.

Usage: treecmp.py [options] EXPECTED ACTUAL

Compares, recursively and without following symlinks: the set of names,
object type, permission bits (including setuid/setgid/sticky), uid/gid,
mtime in whole seconds, size and SHA-256 of regular files, symlink targets,
device numbers, and (unless --ignore-hardlinks) which regular files are hard
links of each other.  Every difference is printed on its own line on stdout,
paths shown with non-printable bytes escaped.  Exit 0 if equal, 1 if any
difference, 2 on usage or I/O error.

Used by the end-to-end tests (tests/e2e/lib.sh).
"""

import argparse
import hashlib
import os
import stat
import sys

TYPES = [
    (stat.S_ISDIR, "dir"),
    (stat.S_ISREG, "file"),
    (stat.S_ISLNK, "symlink"),
    (stat.S_ISFIFO, "fifo"),
    (stat.S_ISSOCK, "socket"),
    (stat.S_ISCHR, "chardev"),
    (stat.S_ISBLK, "blockdev"),
]


def kind(st):
    for test, name in TYPES:
        if test(st.st_mode):
            return name
    return "unknown"


def show(rel):
    """Printable form of a relative path given as bytes."""
    if rel == b"":
        return "."
    out = []
    for b in rel:
        if b == 0x5C:
            out.append("\\\\")
        elif 0x20 <= b < 0x7F:
            out.append(chr(b))
        else:
            out.append("\\x%02x" % b)
    text = "".join(out)
    # Keep valid UTF-8 readable: re-decode the escaped form only if the
    # original was valid UTF-8 and printable.
    try:
        u = rel.decode("utf-8")
        if u.isprintable():
            return u.replace("\\", "\\\\")
    except UnicodeDecodeError:
        pass
    return text


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                break
            h.update(chunk)
    return h.hexdigest()


class Cmp:
    def __init__(self, args):
        self.args = args
        self.diffs = 0
        # inode key -> list of relative paths, per side
        self.links = ({}, {})

    def diff(self, rel, msg):
        self.diffs += 1
        print("%s: %s" % (show(rel), msg))

    def note_link(self, side, st, rel):
        if stat.S_ISREG(st.st_mode) and st.st_nlink > 1:
            self.links[side].setdefault((st.st_dev, st.st_ino), []).append(rel)

    def compare(self, a, b, rel, is_root):
        try:
            sa = os.lstat(a)
        except OSError as e:
            self.diff(rel, "cannot stat expected: %s" % e.strerror)
            return
        try:
            sb = os.lstat(b)
        except OSError as e:
            self.diff(rel, "missing in actual (%s)" % e.strerror)
            return
        ka, kb = kind(sa), kind(sb)
        if ka != kb:
            self.diff(rel, "type %s != %s" % (ka, kb))
            return
        if self.args.skip_sockets and ka == "socket":
            return
        self.note_link(0, sa, rel)
        self.note_link(1, sb, rel)
        meta = not (is_root and ka == "dir" and self.args.ignore_root) and not self.args.content_only
        if meta:
            if ka != "symlink":
                ma, mb = stat.S_IMODE(sa.st_mode), stat.S_IMODE(sb.st_mode)
                if ma != mb:
                    self.diff(rel, "mode %04o != %04o" % (ma, mb))
            if not self.args.ignore_owner:
                if sa.st_uid != sb.st_uid:
                    self.diff(rel, "uid %d != %d" % (sa.st_uid, sb.st_uid))
                if sa.st_gid != sb.st_gid:
                    self.diff(rel, "gid %d != %d" % (sa.st_gid, sb.st_gid))
            check_mtime = True
            if ka == "dir" and self.args.ignore_dir_mtime:
                check_mtime = False
            if ka == "symlink" and self.args.ignore_symlink_mtime:
                check_mtime = False
            if check_mtime and int(sa.st_mtime) != int(sb.st_mtime):
                self.diff(rel, "mtime %d != %d" % (int(sa.st_mtime), int(sb.st_mtime)))
        if ka == "file":
            if sa.st_size != sb.st_size:
                self.diff(rel, "size %d != %d" % (sa.st_size, sb.st_size))
            try:
                ha, hb = sha256(a), sha256(b)
            except OSError as e:
                self.diff(rel, "cannot read: %s" % e.strerror)
            else:
                if ha != hb:
                    self.diff(rel, "content sha256 %s != %s" % (ha[:16], hb[:16]))
        elif ka == "symlink":
            ta, tb = os.readlink(a), os.readlink(b)
            if ta != tb:
                self.diff(rel, "symlink target %s != %s" % (show(ta), show(tb)))
        elif ka in ("chardev", "blockdev"):
            if sa.st_rdev != sb.st_rdev:
                self.diff(rel, "device %d:%d != %d:%d" % (
                    os.major(sa.st_rdev), os.minor(sa.st_rdev),
                    os.major(sb.st_rdev), os.minor(sb.st_rdev)))
        elif ka == "dir":
            self.compare_dirs(a, b, rel)

    def compare_dirs(self, a, b, rel):
        try:
            na = set(os.listdir(a))
            nb = set(os.listdir(b))
        except OSError as e:
            self.diff(rel, "cannot list: %s" % e.strerror)
            return
        for name in sorted(na | nb):
            sub = os.path.join(rel, name) if rel else name
            if name not in nb:
                if self.args.subset:
                    continue
                if self.args.skip_sockets and stat.S_ISSOCK(os.lstat(os.path.join(a, name)).st_mode):
                    continue
                self.diff(sub, "missing in actual")
            elif name not in na:
                self.diff(sub, "unexpected in actual")
            else:
                self.compare(os.path.join(a, name), os.path.join(b, name), sub, False)

    def check_links(self):
        if self.args.ignore_hardlinks:
            return
        groups = ([sorted(g) for g in self.links[0].values()],
                  [sorted(g) for g in self.links[1].values()])
        ga = {tuple(g) for g in groups[0] if len(g) > 1}
        gb = {tuple(g) for g in groups[1] if len(g) > 1}
        for g in sorted(ga - gb):
            self.diff(g[0], "hard-link group not preserved: %s" % ", ".join(show(p) for p in g))
        for g in sorted(gb - ga):
            self.diff(g[0], "unexpected hard-link group: %s" % ", ".join(show(p) for p in g))


def main():
    p = argparse.ArgumentParser(description="compare two file trees")
    p.add_argument("expected")
    p.add_argument("actual")
    p.add_argument("--ignore-hardlinks", action="store_true",
                   help="do not compare hard-link structure (duplicity stores copies)")
    p.add_argument("--ignore-dir-mtime", action="store_true",
                   help="do not compare directory mtimes")
    p.add_argument("--ignore-symlink-mtime", action="store_true",
                   help="do not compare symlink mtimes")
    p.add_argument("--ignore-root", action="store_true",
                   help="do not compare the metadata of the top directories themselves")
    p.add_argument("--ignore-owner", action="store_true",
                   help="do not compare uid/gid")
    p.add_argument("--skip-sockets", action="store_true",
                   help="sockets in EXPECTED need not exist in ACTUAL")
    p.add_argument("--subset", action="store_true",
                   help="ACTUAL may lack entries (or not exist at all); what it has must match")
    p.add_argument("--content-only", action="store_true",
                   help="compare names, types, sizes, bytes and link targets, not metadata")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing")
    args = p.parse_args()
    a, b = os.fsencode(args.expected), os.fsencode(args.actual)
    if args.subset and not os.path.lexists(b):
        return 0
    for path in (a, b):
        if not os.path.lexists(path):
            print("treecmp: %s: no such file or directory" % show(path), file=sys.stderr)
            return 2
    if args.quiet:
        sys.stdout = open(os.devnull, "w")
    c = Cmp(args)
    c.compare(a, b, b"", True)
    c.check_links()
    return 1 if c.diffs else 0


if __name__ == "__main__":
    sys.exit(main())
