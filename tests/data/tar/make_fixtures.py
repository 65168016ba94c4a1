#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Generate the tar fixtures used by tests/unit/test_tar.c.

Run from anywhere with Python 3.11 (what duplicity 0.8.22 runs on):
    python3 tests/data/tar/make_fixtures.py
The unit test only reads the generated files; Python is not needed then.

Files:
  pax_<case>.tar   one member as duplicity writes it (TarInfo.tobuf with
                   PAX_FORMAT, then data and zero padding; no end marker)
  pax_bigsize.hdr  header(s) only of a member with size >= 8 GiB
  pax_all.tar      every pax_<case> member through TarFile + close()
                   (end marker, padded to 10240)
  gnu.tar, gnu_bigsize.hdr, ustar_prefix.tar, v7.tar, pax_global.tar,
  pax_frac.tar     reader fixtures of the other dialects
  manifest.txt     what Python's reader sees in every *.tar file, one line
                   per member (see write_manifest)
"""
import io
import os
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
ENC = "utf-8"


def name(b):
    """bytes -> str the way duplicity hands names to tarfile."""
    return b.decode(ENC, "surrogateescape")


def info(nm, type=tarfile.REGTYPE, data=b"", mode=0o644, uid=1000, gid=1000,
         uname="user", gname="group", mtime=1700000000, linkname=b"",
         devmajor=0, devminor=0, size=None):
    ti = tarfile.TarInfo(name(nm))
    ti.type = type
    ti.mode = mode
    ti.uid = uid
    ti.gid = gid
    ti.uname = uname
    ti.gname = gname
    ti.mtime = mtime
    ti.linkname = name(linkname)
    ti.devmajor = devmajor
    ti.devminor = devminor
    ti.size = len(data) if size is None else size
    return ti, data


def pad(b):
    return b + b"\0" * (-len(b) % 512)


# The writer cases; test_tar.c rebuilds each one with sb_tar_write_* and
# compares bytes. Keep the two lists in sync.
PAX_CASES = [
    ("short", info(b"snapshot/a.txt", data=b"hello\n")),
    ("long", info(b"snapshot/" + b"d" * 150 + b"/" + b"f" * 140, data=b"x")),
    ("utf8", info("snapshot/ünïcødé-名前.txt".encode(), data=b"u")),
    ("latin1", info(b"snapshot/latin1-\xe9.txt", data=b"l")),
    ("mixed", info(b"snapshot/\xe2\x82x\xed\xa0\x80\xf0\x9f\x98\x80\xc3\xa9"
                   b"\xff.txt" + b"m" * 100, uname="\udce9user", data=b"")),
    ("symlink", info(b"snapshot/link", tarfile.SYMTYPE, mode=0o777,
                     linkname=b"../" + b"t" * 200)),
    ("hardlink", info(b"snapshot/hard", tarfile.LNKTYPE, linkname=b"snapshot/a.txt")),
    ("dir", info(b"snapshot/dir", tarfile.DIRTYPE, mode=0o2755)),
    ("root", info(b"snapshot/./", tarfile.DIRTYPE, mode=0o755, uid=0, gid=0,
                  uname="root", gname="root")),
    ("fifo", info(b"snapshot/fifo", tarfile.FIFOTYPE, mode=0o600)),
    ("chr", info(b"snapshot/null", tarfile.CHRTYPE, mode=0o666, devmajor=1, devminor=3)),
    ("blk", info(b"snapshot/sda", tarfile.BLKTYPE, mode=0o660, devmajor=8,
                 devminor=1048575)),
    ("newline", info(b"snapshot/new\nline.txt", data=b"n")),
    ("name100", info(b"snapshot/" + b"c" * 91, data=b"")),
    ("name101", info(b"snapshot/" + b"c" * 92, data=b"")),
    ("ids", info(b"snapshot/ids", uid=3000000, gid=2097151, uname="u" * 40,
                 gname="grüppe", mtime=-5, mode=0o4755)),
    ("future", info(b"snapshot/future", mtime=8 ** 11 + 5, uname="", gname="")),
    ("deleted", info(b"deleted/gone", mode=0, uid=0, gid=0, uname="", gname="",
                     mtime=0)),
]


def write_pax_cases():
    for case, (ti, data) in PAX_CASES:
        buf = ti.tobuf(tarfile.PAX_FORMAT, ENC, "surrogateescape") + pad(data)
        with open(os.path.join(HERE, "pax_%s.tar" % case), "wb") as f:
            f.write(buf)
    ti, _ = info(b"snapshot/huge", size=9000000000)
    with open(os.path.join(HERE, "pax_bigsize.hdr"), "wb") as f:
        f.write(ti.tobuf(tarfile.PAX_FORMAT, ENC, "surrogateescape"))
    with tarfile.open(os.path.join(HERE, "pax_all.tar"), "w",
                      format=tarfile.PAX_FORMAT, encoding=ENC) as tf:
        for case, (ti, data) in PAX_CASES:
            tf.addfile(ti, io.BytesIO(data))


def write_reader_fixtures():
    with tarfile.open(os.path.join(HERE, "gnu.tar"), "w",
                      format=tarfile.GNU_FORMAT, encoding=ENC) as tf:
        for ti, data in (
                info(b"gnu/" + b"n" * 200, data=b"long name\n"),
                info(b"gnu/link", tarfile.SYMTYPE, mode=0o777, linkname=b"k" * 150),
                info(b"gnu/" + b"both" * 30, tarfile.SYMTYPE, linkname=b"z" * 120),
                info(b"gnu/bigid", uid=10000000, gid=2 ** 40, mtime=-1000, data=b"b"),
                info(b"gnu/future", mtime=2 ** 40, data=b""),
                info(b"gnu/latin1-\xe9", data=b"raw"),
                info(b"gnu/dir", tarfile.DIRTYPE, mode=0o755)):
            tf.addfile(ti, io.BytesIO(data))
    ti, _ = info(b"gnu/huge", size=9000000000)
    with open(os.path.join(HERE, "gnu_bigsize.hdr"), "wb") as f:
        f.write(ti.tobuf(tarfile.GNU_FORMAT, ENC, "surrogateescape"))

    with tarfile.open(os.path.join(HERE, "ustar_prefix.tar"), "w",
                      format=tarfile.USTAR_FORMAT, encoding=ENC) as tf:
        for ti, data in (info(b"p" * 120 + b"/" + b"q" * 80, data=b"prefix"),
                         info(b"short", data=b"s")):
            tf.addfile(ti, io.BytesIO(data))

    # v7: no magic, no uname/gname, typeflag '\0'; a directory is a
    # '\0' member whose name ends in '/'.
    out = b""
    for ti, data in (info(b"v7/file", data=b"seven"), info(b"v7/dir/", mode=0o755)):
        hdr = bytearray(ti.tobuf(tarfile.USTAR_FORMAT, ENC, "surrogateescape"))
        hdr[156] = 0
        hdr[257:512] = b"\0" * 255
        hdr[148:156] = b"        "
        hdr[148:156] = b"%06o\0 " % sum(hdr)
        out += bytes(hdr) + pad(data)
    with open(os.path.join(HERE, "v7.tar"), "wb") as f:
        f.write(out + b"\0" * 1024)

    with tarfile.open(os.path.join(HERE, "pax_global.tar"), "w",
                      format=tarfile.PAX_FORMAT, encoding=ENC,
                      pax_headers={"uname": "guser", "comment": "hello"}) as tf:
        for ti, data in (info(b"g/plain", uname="", data=b"1"),
                         info(b"g/own", uname="ßelf", data=b"22")):
            tf.addfile(ti, io.BytesIO(data))

    with tarfile.open(os.path.join(HERE, "pax_frac.tar"), "w",
                      format=tarfile.PAX_FORMAT, encoding=ENC) as tf:
        for nm, mt in ((b"frac/pos", "1700000000.75"), (b"frac/neg", "-1.5")):
            ti, data = info(nm, data=b"f")
            ti.pax_headers = {"mtime": mt, "atime": "1.25"}
            tf.addfile(ti, io.BytesIO(data))


def hexs(b):
    return b.hex() if b else "-"


def write_manifest():
    """One line per member, as Python's reader sees it:
    file offset offset_data type mode uid gid mtime size devmajor devminor
    name linkname uname gname (byte strings in hex, '-' when empty).
    Directory names lose their trailing '/' (Python strips it)."""
    lines = []
    for fn in sorted(os.listdir(HERE)):
        if not fn.endswith(".tar"):
            continue
        with tarfile.open(os.path.join(HERE, fn), "r", encoding=ENC,
                          errors="surrogateescape") as tf:
            for m in tf:
                t = m.type
                if t in (tarfile.AREGTYPE, tarfile.CONTTYPE):
                    t = tarfile.REGTYPE
                fse = lambda s: s.encode(ENC, "surrogateescape")
                lines.append(" ".join(str(x) for x in (
                    fn, m.offset, m.offset_data, t.decode(), m.mode & 0o7777,
                    m.uid, m.gid, int(m.mtime), m.size, m.devmajor, m.devminor,
                    hexs(fse(m.name)), hexs(fse(m.linkname)), hexs(fse(m.uname)),
                    hexs(fse(m.gname)))))
    with open(os.path.join(HERE, "manifest.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    write_pax_cases()
    write_reader_fixtures()
    write_manifest()
