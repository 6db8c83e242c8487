"""A stand-in for Colab's DriveFS daemon: a real FUSE file system, in pure Python.

Run as a program (by the fake ``google.colab.drive.mount``, like Colab runs
``/opt/google/drive/drive``), it names itself ``drive`` (so ``pkill -x drive`` finds it),
mounts a ``fuse.drive`` file system at ``--mount_point_path`` with mount(2) and serves it
itself, speaking the kernel's FUSE protocol on ``/dev/fuse`` (no libfuse). The mount shows
``MyDrive`` and ``Shareddrives``, passed through to the folders of the same names under
``<root>/drivefs``; ``My Drive`` resolves too (the old alias) but is not listed. It prints
``google.colab.drive MOUNTED`` once the kernel has initialised the mount, and exits when the
mount goes away (read(2) on /dev/fuse gives ENODEV). Killed, it leaves a dead mount: every
access gives ENOTCONN until ``umount -f``.

Imported as a module (tests, and the fake drive.py), it gives the helpers that read the mount
table and find, kill and clean up after the daemons. Only the standard library is used, and
the daemon runs as ``python -I -S``: it starts in a few tens of milliseconds.
"""

# ruff: noqa: ARG002 - every request handler takes (nodeid, body, uid, gid), used or not

import contextlib
import errno
import os
import stat
import struct
import sys
import time

#: What a live daemon prints once its mount answers (Colab's drive.py waits for this text).
READY = "google.colab.drive MOUNTED"
#: The daemon's process name (comm), as Colab's DriveFS binary has it.
NAME = "drive"
#: What Colab's DriveFS logs when listing the root of My Drive timed out.
QUERY_TIMEOUT = "QueryManager timed out"
PROBLEM = "Drive File Stream encountered a problem and has stopped"
DOMAIN = "The domain policy has disabled Drive File Stream"
#: The ways the daemon can be told to fail (--fail=...).
FAILURES = ("failed", "timeout", "domain", "hang")
#: What the file system can be told to lack (--quirks=a,b), as other FUSE file systems and the
#: disks of Drive for desktop on macOS and Windows do: ``no-rename2`` answers RENAME2 with
#: ENOSYS (the kernel then gives renameat2 with flags EINVAL, as where RENAME_NOREPLACE is
#: missing), ``no-chmod`` refuses to change a file's mode (EPERM; times still change),
#: ``fold-case`` looks names up case-insensitively (``A.py`` opens ``a.py``), and ``no-mydrive``
#: shows ``Shareddrives`` alone at the top (a live mount without the user's files).
QUIRKS = frozenset({"no-rename2", "no-chmod", "fold-case", "no-mydrive"})

# -- The kernel's FUSE protocol (include/uapi/linux/fuse.h), version 7.31 at most ------------

KERNEL_MAJOR = 7
MAX_MINOR = 31
MAX_WRITE = 128 * 1024
READ_BUFFER = MAX_WRITE + 4096  # the kernel refuses reads into less than max_write + headers

LOOKUP, FORGET, GETATTR, SETATTR, READLINK, SYMLINK = 1, 2, 3, 4, 5, 6
MKNOD, MKDIR, UNLINK, RMDIR, RENAME, LINK, OPEN, READ, WRITE = 8, 9, 10, 11, 12, 13, 14, 15, 16
STATFS, RELEASE, FSYNC, FLUSH, INIT, OPENDIR, READDIR, RELEASEDIR = 17, 18, 20, 25, 26, 27, 28, 29
ACCESS, CREATE, INTERRUPT, DESTROY, NOTIFY_REPLY, BATCH_FORGET = 34, 35, 36, 38, 41, 42
RENAME2 = 45
#: Requests the kernel expects no answer to.
NO_REPLY = frozenset({FORGET, BATCH_FORGET, INTERRUPT, NOTIFY_REPLY})

# INIT flags asked for: concurrent reads, O_TRUNC passed to open, writes over 4 KiB, and page
# cache dropped when the size or mtime seen changes (the backing folder is written directly).
FUSE_ASYNC_READ = 1 << 0
FUSE_ATOMIC_O_TRUNC = 1 << 3
FUSE_BIG_WRITES = 1 << 5
FUSE_AUTO_INVAL_DATA = 1 << 12
WANTED = FUSE_ASYNC_READ | FUSE_ATOMIC_O_TRUNC | FUSE_BIG_WRITES | FUSE_AUTO_INVAL_DATA

FATTR_MODE, FATTR_UID, FATTR_GID, FATTR_SIZE = 1, 2, 4, 8
FATTR_ATIME, FATTR_MTIME, FATTR_FH, FATTR_ATIME_NOW, FATTR_MTIME_NOW = 16, 32, 64, 128, 256
FUSE_GETATTR_FH = 1
FUSE_FSYNC_FDATASYNC = 1

IN_HEADER = struct.Struct("<IIQQIII4x")  # len, opcode, unique, nodeid, uid, gid, pid
OUT_HEADER = struct.Struct("<IiQ")  # len, error, unique
ATTR = struct.Struct("<QQQqqqIIIIIIIIII")  # ino size blocks a/m/ctime, nsecs, mode ... flags
ENTRY_OUT = struct.Struct("<QQQQII")  # nodeid generation entry_valid attr_valid, nsecs
ATTR_OUT = struct.Struct("<QII")  # attr_valid attr_valid_nsec dummy
OPEN_OUT = struct.Struct("<QII")  # fh open_flags padding
WRITE_OUT = struct.Struct("<II")
STATFS_OUT = struct.Struct("<QQQQQIIII24x")
INIT_IN = struct.Struct("<IIII")
INIT_OUT = struct.Struct("<IIIIHHIIHHII24x")  # 64 bytes
GETATTR_IN = struct.Struct("<IIQ")
SETATTR_IN = struct.Struct("<IIQQQQQQIIIIIIII")
MKNOD_IN = struct.Struct("<IIII")
MKDIR_IN = struct.Struct("<II")
RENAME_IN = struct.Struct("<Q")
RENAME2_IN = struct.Struct("<QII")
LINK_IN = struct.Struct("<Q")
OPEN_IN = struct.Struct("<II")
RW_IN = struct.Struct("<QQIIQII")  # fh offset size flags lock_owner flags padding (read, write)
RELEASE_IN = struct.Struct("<QIIQ")
FSYNC_IN = struct.Struct("<QII")
CREATE_IN = struct.Struct("<IIII")
FORGET_IN = struct.Struct("<Q")
BATCH_FORGET_IN = struct.Struct("<II")
FORGET_ONE = struct.Struct("<QQ")
DIRENT = struct.Struct("<QQII")

DT_UNKNOWN, DT_DIR, DT_REG, DT_LNK = 0, 4, 8, 10

ROOT_ID = 1
#: The top of the mount: its names, their node ids, the backing folder and the node's view.
#: "My Drive" is MyDrive seen again, under other node ids (a kernel directory has one name).
TOP = {b"MyDrive": 2, b"My Drive": 3, b"Shareddrives": 4}
LISTED = (b"MyDrive", b"Shareddrives")
FIXED = 4  # node ids up to this never go away


class Node:
    """A file the kernel knows by node id: where it is in the backing folder, and which one."""

    __slots__ = ("key", "lookups", "path", "view")

    def __init__(self, path, view, key=None):
        self.path = path
        self.view = view
        self.key = key  # (view, st_dev, st_ino, file type): the same file keeps its node id
        self.lookups = 0


def _name(body):
    data = bytes(body)
    return data[: data.index(b"\0")]


def _attr(st):
    a_s, a_ns = divmod(st.st_atime_ns, 10**9)
    m_s, m_ns = divmod(st.st_mtime_ns, 10**9)
    c_s, c_ns = divmod(st.st_ctime_ns, 10**9)
    return ATTR.pack(
        st.st_ino,
        st.st_size,
        st.st_blocks,
        a_s,
        m_s,
        c_s,
        a_ns,
        m_ns,
        c_ns,
        st.st_mode,
        min(st.st_nlink, 0xFFFFFFFF),
        st.st_uid,
        st.st_gid,
        st.st_rdev & 0xFFFFFFFF,
        st.st_blksize,
        0,
    )


def _time(valid, flags, given, current):
    """A SETATTR time in nanoseconds: now, the one ``given`` (s, ns), or ``current`` kept."""
    now_flag, set_flag = flags
    if valid & now_flag:
        return time.time_ns()
    if valid & set_flag:
        return given[0] * 10**9 + given[1]
    return current


def _dtype(entry):
    try:
        if entry.is_symlink():
            return DT_LNK
        if entry.is_dir(follow_symlinks=False):
            return DT_DIR
        if entry.is_file(follow_symlinks=False):
            return DT_REG
    except OSError:
        pass
    return DT_UNKNOWN  # FIFOs and the like: the reader asks with lstat


class DriveFS:
    """The file system: node ids to backing paths, open files, and one handler per request."""

    def __init__(self, fuse_fd, top, log=None, quirks=frozenset()):
        self.quirks = quirks  # a subset of QUIRKS
        hidden = (b"MyDrive", b"My Drive") if "no-mydrive" in quirks else ()
        self.top_names = {name: nodeid for name, nodeid in TOP.items() if name not in hidden}
        self.listed = tuple(name for name in LISTED if name not in hidden)
        self.fd = fuse_fd
        self.top = top  # the backing folder holding MyDrive and Shareddrives (bytes)
        mydrive = top + b"/MyDrive"
        self.nodes = {
            ROOT_ID: Node(top, "top"),
            2: Node(mydrive, "MyDrive"),
            3: Node(mydrive, "My Drive"),
            4: Node(top + b"/Shareddrives", "Shareddrives"),
        }
        self.keys = {}
        self.next_node = FIXED + 1
        self.files = {}  # fh -> os fd
        self.dirs = {}  # fh -> [nodeid, path, entries listed at offset 0]
        self.next_fh = 1
        self.log = log or (lambda _text: None)
        self.ready = None  # called once INIT is answered
        self.uid = os.geteuid()
        self.gid = os.getegid()
        self.handlers = {
            INIT: self.init,
            LOOKUP: self.lookup,
            GETATTR: self.getattr,
            SETATTR: self.setattr,
            READLINK: self.readlink,
            SYMLINK: self.symlink,
            MKNOD: self.mknod,
            MKDIR: self.mkdir,
            UNLINK: self.unlink,
            RMDIR: self.rmdir,
            RENAME: self.rename,
            RENAME2: self.rename2,
            LINK: self.link,
            OPEN: self.open,
            READ: self.read,
            WRITE: self.write,
            STATFS: self.statfs,
            RELEASE: self.release,
            FSYNC: self.fsync,
            FLUSH: self.flush,
            OPENDIR: self.opendir,
            READDIR: self.readdir,
            RELEASEDIR: self.releasedir,
            ACCESS: self.access,
            CREATE: self.create,
        }
        self.buffer = bytearray(READ_BUFFER)
        self.data = bytearray(MAX_WRITE)

    # -- the loop --------------------------------------------------------------------------

    def serve(self):
        """Answer requests until the mount goes away (ENODEV); return the exit status."""
        view = memoryview(self.buffer)
        while True:
            try:
                size = os.readv(self.fd, [self.buffer])
            except OSError as exc:
                if exc.errno == errno.ENODEV:  # unmounted (or aborted): done
                    return 0
                if exc.errno in (errno.EINTR, errno.EAGAIN, errno.ENOENT):
                    continue
                raise
            _, opcode, unique, nodeid, uid, gid, _ = IN_HEADER.unpack_from(self.buffer)
            body = view[IN_HEADER.size : size]
            if opcode in NO_REPLY:
                self.forgets(opcode, nodeid, body)
            elif opcode == DESTROY:
                self.reply(unique, 0, ())
                return 0
            else:
                self.answer(opcode, unique, (nodeid, body, uid, gid))

    def forgets(self, opcode, nodeid, body):
        """FORGET and BATCH_FORGET (INTERRUPT and NOTIFY_REPLY need nothing: one request at a
        time is answered, in order)."""
        if opcode == FORGET:
            self.forget(nodeid, FORGET_IN.unpack_from(body)[0])
        elif opcode == BATCH_FORGET:
            count = BATCH_FORGET_IN.unpack_from(body)[0]
            for index in range(count):
                self.forget(*FORGET_ONE.unpack_from(body, 8 + index * FORGET_ONE.size))

    def answer(self, opcode, unique, request):
        handler = self.handlers.get(opcode)
        if handler is None:  # xattrs, locks, ioctl, lseek, fallocate...
            self.reply(unique, errno.ENOSYS, ())
            return
        try:
            parts = handler(*request)
        except OSError as exc:
            self.reply(unique, exc.errno or errno.EIO, ())
        except Exception as exc:  # noqa: BLE001 - a bug here must not take the mount down
            self.log(f"drive: internal error on opcode {opcode}: {exc!r}")
            self.reply(unique, errno.EIO, ())
        else:
            self.reply(unique, 0, parts)
            if opcode == INIT and self.ready is not None:
                self.ready()
                self.ready = None

    def reply(self, unique, error, parts):
        length = OUT_HEADER.size + sum(len(part) for part in parts)
        try:
            os.writev(self.fd, [OUT_HEADER.pack(length, -error, unique), *parts])
        except OSError as exc:
            if exc.errno not in (errno.ENOENT, errno.ENODEV):  # interrupted, or unmounted
                raise

    # -- nodes -----------------------------------------------------------------------------

    def node(self, nodeid):
        try:
            return self.nodes[nodeid]
        except KeyError:
            raise OSError(errno.ESTALE, "unknown node") from None

    def remember(self, view, path, st):
        """The node id of the file at ``path`` (stat ``st``), counted as looked up once more."""
        key = (view, st.st_dev, st.st_ino, stat.S_IFMT(st.st_mode))
        nodeid = self.keys.get(key)
        if nodeid is None:
            nodeid = self.next_node
            self.next_node += 1
            node = self.nodes[nodeid] = Node(path, view, key)
            self.keys[key] = nodeid
        else:
            node = self.nodes[nodeid]
            node.path = path
        node.lookups += 1
        return nodeid

    def forget(self, nodeid, count):
        node = self.nodes.get(nodeid)
        if node is None or nodeid <= FIXED:
            return
        node.lookups -= count
        if node.lookups <= 0:
            del self.nodes[nodeid]
            if self.keys.get(node.key) == nodeid:
                del self.keys[node.key]

    def stat_node(self, nodeid):
        """lstat of the node's file; ENOENT when another file took its place meanwhile."""
        node = self.node(nodeid)
        st = os.lstat(node.path)
        key = node.key
        if key is not None and (
            key[1] != st.st_dev or key[2] != st.st_ino or key[3] != stat.S_IFMT(st.st_mode)
        ):
            raise OSError(errno.ENOENT, "moved away in the backing folder")
        return node, st

    def child(self, parent_id, body):
        """The backing path of a new entry ``name`` in ``parent_id``, and the parent node."""
        if parent_id == ROOT_ID:
            raise OSError(errno.EPERM, "the top of Drive is fixed")
        parent = self.node(parent_id)
        return parent, self.named(parent.path, bytes(_name(body)))

    def named(self, folder, name):
        """The backing path of ``name`` in ``folder``: with ``fold-case``, the entry whose name
        matches it case-insensitively when there is no exact one."""
        path = folder + b"/" + name
        if "fold-case" in self.quirks and not os.path.lexists(path):
            wanted = os.fsdecode(name).casefold()
            with contextlib.suppress(OSError):
                for other in os.listdir(folder):
                    if os.fsdecode(other).casefold() == wanted:
                        return folder + b"/" + other
        return path

    def entry(self, nodeid, st):
        return (ENTRY_OUT.pack(nodeid, 0, 0, 0, 0, 0), _attr(st))

    def new_entry(self, parent, path, uid, gid):
        if uid != self.uid or gid != self.gid:
            os.lchown(path, uid, gid)
        st = os.lstat(path)
        return self.entry(self.remember(parent.view, path, st), st)

    # -- requests --------------------------------------------------------------------------

    def init(self, nodeid, body, uid, gid):
        major, minor, readahead, flags = INIT_IN.unpack_from(body)
        if major != KERNEL_MAJOR:
            raise OSError(errno.EPROTO, f"FUSE protocol {major} is not supported")
        return (
            INIT_OUT.pack(
                KERNEL_MAJOR,
                min(minor, MAX_MINOR),
                min(readahead, MAX_WRITE),
                flags & WANTED,
                16,  # max_background
                12,  # congestion_threshold
                MAX_WRITE,
                1,  # time_gran: nanoseconds
                0,
                0,
                0,
                0,
            ),
        )

    def lookup(self, nodeid, body, uid, gid):
        name = bytes(_name(body))
        if nodeid == ROOT_ID:
            top_id = self.top_names.get(name)
            if top_id is None:
                raise OSError(errno.ENOENT, "not in the top of Drive")
            return self.entry(top_id, os.lstat(self.nodes[top_id].path))
        parent = self.node(nodeid)
        path = self.named(parent.path, name)
        st = os.lstat(path)
        return self.entry(self.remember(parent.view, path, st), st)

    def getattr(self, nodeid, body, uid, gid):
        flags, _, fh = GETATTR_IN.unpack_from(body)
        fd = self.files.get(fh) if flags & FUSE_GETATTR_FH else None
        st = os.fstat(fd) if fd is not None else self.stat_node(nodeid)[1]
        return (ATTR_OUT.pack(0, 0, 0), _attr(st))

    def setattr(self, nodeid, body, uid, gid):
        valid, _, fh, size, _, atime, mtime, _, atime_ns, mtime_ns, _, mode, _, uid, gid, _ = (
            SETATTR_IN.unpack_from(body)
        )
        if nodeid <= FIXED:
            raise OSError(errno.EPERM, "the top of Drive is fixed")
        fd = self.files.get(fh) if valid & FATTR_FH else None
        if fd is None:
            node, st = self.stat_node(nodeid)
            target = node.path
        else:
            st = os.fstat(fd)
            target = fd
        if valid & FATTR_MODE:
            if "no-chmod" in self.quirks:
                raise OSError(errno.EPERM, "modes cannot be changed here")
            os.chmod(target, stat.S_IMODE(mode))
        if valid & (FATTR_UID | FATTR_GID):
            owner = uid if valid & FATTR_UID else -1
            group = gid if valid & FATTR_GID else -1
            os.chown(target, owner, group, **({} if fd is not None else {"follow_symlinks": False}))
        if valid & FATTR_SIZE:
            os.truncate(target, size)
        if valid & (FATTR_ATIME | FATTR_MTIME | FATTR_ATIME_NOW | FATTR_MTIME_NOW):
            times = (
                _time(valid, (FATTR_ATIME_NOW, FATTR_ATIME), (atime, atime_ns), st.st_atime_ns),
                _time(valid, (FATTR_MTIME_NOW, FATTR_MTIME), (mtime, mtime_ns), st.st_mtime_ns),
            )
            os.utime(target, ns=times, **({} if fd is not None else {"follow_symlinks": False}))
        st = os.lstat(target) if fd is None else os.fstat(fd)
        return (ATTR_OUT.pack(0, 0, 0), _attr(st))

    def readlink(self, nodeid, body, uid, gid):
        node, _ = self.stat_node(nodeid)
        return (os.readlink(node.path),)

    def symlink(self, nodeid, body, uid, gid):
        name, target = bytes(body).split(b"\0")[:2]
        parent, path = self.child(nodeid, name + b"\0")
        os.symlink(target, path)
        return self.new_entry(parent, path, uid, gid)

    def mknod(self, nodeid, body, uid, gid):
        mode, rdev, _, _ = MKNOD_IN.unpack_from(body)
        parent, path = self.child(nodeid, body[MKNOD_IN.size :])
        os.mknod(path, mode, rdev)
        return self.new_entry(parent, path, uid, gid)

    def mkdir(self, nodeid, body, uid, gid):
        mode, _ = MKDIR_IN.unpack_from(body)
        parent, path = self.child(nodeid, body[MKDIR_IN.size :])
        os.mkdir(path, stat.S_IMODE(mode))
        return self.new_entry(parent, path, uid, gid)

    def unlink(self, nodeid, body, uid, gid):
        _, path = self.child(nodeid, body)
        os.unlink(path)
        return ()

    def rmdir(self, nodeid, body, uid, gid):
        _, path = self.child(nodeid, body)
        os.rmdir(path)
        return ()

    def _rename(self, nodeid, newdir, names, flags):
        old_name, new_name = bytes(names).split(b"\0")[:2]
        _, old = self.child(nodeid, old_name + b"\0")
        _, new = self.child(newdir, new_name + b"\0")
        if flags:
            _renameat2(old, new, flags)
        else:
            os.rename(old, new)
        exchange = flags & 2  # RENAME_EXCHANGE
        for node in self.nodes.values():  # what was under the old name is under the new one
            path = node.path
            if path == old or path.startswith(old + b"/"):
                node.path = new + path[len(old) :]
            elif exchange and (path == new or path.startswith(new + b"/")):
                node.path = old + path[len(new) :]
        return ()

    def rename(self, nodeid, body, uid, gid):
        (newdir,) = RENAME_IN.unpack_from(body)
        return self._rename(nodeid, newdir, body[RENAME_IN.size :], 0)

    def rename2(self, nodeid, body, uid, gid):
        if "no-rename2" in self.quirks:
            raise OSError(errno.ENOSYS, "no rename with flags")
        newdir, flags, _ = RENAME2_IN.unpack_from(body)
        return self._rename(nodeid, newdir, body[RENAME2_IN.size :], flags)

    def link(self, nodeid, body, uid, gid):
        (old_id,) = LINK_IN.unpack_from(body)
        old, _ = self.stat_node(old_id)
        parent, path = self.child(nodeid, body[LINK_IN.size :])
        os.link(old.path, path, follow_symlinks=False)
        st = os.lstat(path)
        return self.entry(self.remember(parent.view, path, st), st)

    def _handle(self, table, value):
        fh = self.next_fh
        self.next_fh += 1
        table[fh] = value
        return fh

    def open(self, nodeid, body, uid, gid):
        flags, _ = OPEN_IN.unpack_from(body)
        node, _ = self.stat_node(nodeid)
        # O_APPEND stays: pwrite(2) then writes at the true end, which the kernel's idea of
        # the size misses when the backing file grew behind its back.
        flags &= ~(os.O_CREAT | os.O_EXCL | os.O_NOCTTY)
        fd = os.open(node.path, flags | os.O_CLOEXEC)
        st = os.fstat(fd)
        if node.key is not None and (st.st_dev, st.st_ino) != node.key[1:3]:
            os.close(fd)
            raise OSError(errno.ESTALE, "moved away in the backing folder")
        return (OPEN_OUT.pack(self._handle(self.files, fd), 0, 0),)

    def create(self, nodeid, body, uid, gid):
        flags, mode, _, _ = CREATE_IN.unpack_from(body)
        parent, path = self.child(nodeid, body[CREATE_IN.size :])
        flags &= ~os.O_NOCTTY
        fd = os.open(path, flags | os.O_CREAT | os.O_CLOEXEC, stat.S_IMODE(mode))
        try:
            entry = self.new_entry(parent, path, uid, gid)
        except OSError:
            os.close(fd)
            raise
        return (*entry, OPEN_OUT.pack(self._handle(self.files, fd), 0, 0))

    def read(self, nodeid, body, uid, gid):
        fh, offset, size, _, _, _, _ = RW_IN.unpack_from(body)
        fd = self.files[fh]
        if size > len(self.data):
            self.data = bytearray(size)
        count = os.preadv(fd, [memoryview(self.data)[:size]], offset)
        return (memoryview(self.data)[:count],)

    def write(self, nodeid, body, uid, gid):
        fh, offset, size, _, _, _, _ = RW_IN.unpack_from(body)
        written = os.pwrite(self.files[fh], body[RW_IN.size : RW_IN.size + size], offset)
        return (WRITE_OUT.pack(written, 0),)

    def statfs(self, nodeid, body, uid, gid):
        sv = os.statvfs(self.top)
        return (
            STATFS_OUT.pack(
                sv.f_blocks,
                sv.f_bfree,
                sv.f_bavail,
                sv.f_files,
                sv.f_ffree,
                sv.f_bsize,
                sv.f_namemax,
                sv.f_frsize,
                0,
            ),
        )

    def release(self, nodeid, body, uid, gid):
        fd = self.files.pop(RELEASE_IN.unpack_from(body)[0], None)
        if fd is not None:
            os.close(fd)
        return ()

    def fsync(self, nodeid, body, uid, gid):
        fh, flags, _ = FSYNC_IN.unpack_from(body)
        (os.fdatasync if flags & FUSE_FSYNC_FDATASYNC else os.fsync)(self.files[fh])
        return ()

    def flush(self, nodeid, body, uid, gid):
        return ()

    def opendir(self, nodeid, body, uid, gid):
        node, st = self.stat_node(nodeid)
        if not stat.S_ISDIR(st.st_mode):
            raise OSError(errno.ENOTDIR, "not a folder")
        return (OPEN_OUT.pack(self._handle(self.dirs, [nodeid, node.path, None]), 0, 0),)

    def _list(self, nodeid, path):
        own = os.lstat(path).st_ino
        entries = [(b".", own, DT_DIR), (b"..", own, DT_DIR)]
        if nodeid == ROOT_ID:
            entries.extend(
                (name, os.lstat(self.nodes[TOP[name]].path).st_ino, DT_DIR) for name in self.listed
            )
            return entries
        with os.scandir(path) as found:
            entries.extend((entry.name, entry.inode(), _dtype(entry)) for entry in found)
        return entries

    def readdir(self, nodeid, body, uid, gid):
        fh, offset, size, _, _, _, _ = RW_IN.unpack_from(body)
        handle = self.dirs[fh]
        if offset == 0 or handle[2] is None:  # a fresh listing at each (re)start
            handle[2] = self._list(handle[0], handle[1])
        entries = handle[2]
        out = []
        used = 0
        for index in range(offset, len(entries)):
            name, ino, kind = entries[index]
            length = DIRENT.size + len(name)
            padded = (length + 7) & ~7
            if used + padded > size:
                break
            out.append(DIRENT.pack(ino, index + 1, len(name), kind) + name + bytes(padded - length))
            used += padded
        return (b"".join(out),)

    def releasedir(self, nodeid, body, uid, gid):
        self.dirs.pop(RELEASE_IN.unpack_from(body)[0], None)
        return ()

    def access(self, nodeid, body, uid, gid):
        self.stat_node(nodeid)  # the kernel checks the modes itself (default_permissions)
        return ()


def _libc():
    import ctypes  # only the daemon and the namespace set-up need it

    return ctypes, ctypes.CDLL(None, use_errno=True)


def _renameat2(old, new, flags):
    ctypes, libc = _libc()
    function = getattr(libc, "renameat2", None)
    if function is None:
        raise OSError(errno.EINVAL, "renameat2 is not available")
    at_fdcwd = -100
    if function(at_fdcwd, old, at_fdcwd, new, ctypes.c_uint(flags)) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))


def set_process_name(name):
    """Name this process (comm) so ``pkill -x`` and ``pgrep -x`` find it."""
    _, libc = _libc()
    libc.prctl(15, name.encode(), 0, 0, 0)  # PR_SET_NAME


MS_RDONLY, MS_NOSUID, MS_NODEV = 1, 2, 4
MS_REC, MS_PRIVATE = 0x4000, 1 << 18
CLONE_NEWNS = 0x00020000
MNT_DETACH = 2


def fuse_mount(point, fuse_fd, readonly=False):
    """mount(2) a ``fuse.drive`` file system served through ``fuse_fd`` at ``point``."""
    ctypes, libc = _libc()
    options = (
        f"fd={fuse_fd},rootmode=40000,user_id={os.geteuid()},group_id={os.getegid()},"
        "default_permissions,allow_other"
    )
    flags = MS_NOSUID | MS_NODEV | (MS_RDONLY if readonly else 0)
    libc.mount.argtypes = [
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_ulong,
        ctypes.c_char_p,
    ]
    if libc.mount(b"drive", os.fsencode(point), b"fuse.drive", flags, options.encode()) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code), point)


def detach(point):
    """Lazily unmount ``point`` (umount2 MNT_DETACH); False when that failed."""
    _, libc = _libc()
    return libc.umount2(os.fsencode(point), MNT_DETACH) == 0


# -- the daemon ----------------------------------------------------------------------------------


def _options(argv):
    """``--name=value`` arguments (the real binary's style); anything else is ignored."""
    options = {}
    for arg in argv:
        if arg.startswith("--") and "=" in arg:
            name, value = arg[2:].split("=", 1)
            options[name] = value
    return options


def log_path(root):
    """The fake DriveFS log (Colab's is ~/.config/Google/DriveFS/Logs/drive_fs.txt)."""
    return os.path.join(root, "home", ".config", "Google", "DriveFS", "Logs", "drive_fs.txt")


def _fail(how, log):
    """Fail as told: exit, or stay up without ever mounting (whoever started it gives up)."""
    if how == "timeout":
        log(f"{QUERY_TIMEOUT} while listing the root of My Drive")
        log("drive: exiting")
        return 1
    if how == "failed":
        log(PROBLEM)
        print(PROBLEM, flush=True)
        return 1
    if how == "domain":
        log(DOMAIN)
        print(DOMAIN, flush=True)
    while True:
        time.sleep(3600)


def main(argv):
    """Run the daemon: ``--root=<fake Colab root> --mount_point_path=<point>`` [more]."""
    set_process_name(NAME)
    options = _options(argv)
    root = options["root"]
    point = options["mount_point_path"]
    fail = options.get("fail", "")
    quirks = frozenset(filter(None, options.get("quirks", "").split(",")))
    if quirks - QUIRKS:  # before anything is mounted
        print(f"drive: unknown quirks: {sorted(quirks - QUIRKS)}", flush=True)
        return 2
    os.umask(0)  # the kernel applied the caller's umask already
    os.chdir("/")
    path = log_path(root)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    log_file = open(path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115 - open till exit

    def log(text):
        log_file.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} pid={os.getpid()} {text}\n")

    log(f"drive: starting for {point}")
    top = os.path.join(root, "drivefs")
    for folder in ("MyDrive", "Shareddrives"):
        os.makedirs(os.path.join(top, folder), exist_ok=True)
    if fail:
        return _fail(fail, log)
    try:
        with contextlib.suppress(FileExistsError):  # made when missing (its parent exists)
            os.mkdir(point, 0o755)
        fuse_fd = os.open("/dev/fuse", os.O_RDWR | os.O_CLOEXEC)
        fuse_mount(point, fuse_fd, readonly=options.get("read_only_mode") == "true")
    except OSError as exc:
        log(f"drive: cannot mount: {exc}")
        print(f"drive: cannot mount: {exc}", flush=True)
        return 1
    log(f"drive: mounted at {point}")

    def ready():
        with contextlib.suppress(OSError):  # OSError: nobody is listening any more
            print(READY, flush=True)

    server = DriveFS(fuse_fd, os.fsencode(top), log, quirks)
    server.ready = ready
    status = server.serve()
    log(f"drive: {point} was unmounted; exiting")
    return status


# -- helpers for the tests and the fake drive.py -------------------------------------------------


def unescape(field):
    """A mount table field: the kernel writes space, tab, newline and backslash as octal."""
    out = bytearray()
    index = 0
    while index < len(field):
        octal = field[index + 1 : index + 4]
        if field[index : index + 1] == b"\\" and len(octal) == 3 and octal.isdigit():
            out.append(int(octal, 8))
            index += 4
        else:
            out.append(field[index])
            index += 1
    return os.fsdecode(bytes(out))


def mounts(fstype="fuse.drive"):
    """(mountpoint, source) of each ``fstype`` mount in this process's mount table."""
    with open("/proc/self/mounts", "rb") as table:
        lines = table.read().splitlines()
    found = []
    for line in lines:
        fields = line.split(b" ")
        if len(fields) >= 3 and fields[2] == fstype.encode():
            found.append((unescape(fields[1]), unescape(fields[0])))
    return found


def private_mount_namespace():
    """Move this process into a mount namespace of its own; '' when done, else why not.

    Call it while the process has one thread (unshare refuses a process whose threads share
    its file-system context). Sets $FAKE_COLAB_MNT_NS, which the fake drive.mount checks
    before it mounts anything or kills any process.
    """
    if not sys.platform.startswith("linux"):
        return "real FUSE mounts need Linux"
    if os.geteuid() != 0:
        return "real FUSE mounts (and a private mount namespace) need root"
    if not os.path.exists("/dev/fuse"):
        return "there is no /dev/fuse"
    ctypes, libc = _libc()
    if libc.unshare(CLONE_NEWNS) != 0:
        return f"unshare(CLONE_NEWNS) failed: {os.strerror(ctypes.get_errno())}"
    if libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        return f"making / a private mount failed: {os.strerror(ctypes.get_errno())}"
    os.environ["FAKE_COLAB_MNT_NS"] = namespace()
    return ""


def in_private_namespace():
    """Whether this process is in the namespace private_mount_namespace() made (here or in a
    parent process)."""
    expected = os.environ.get("FAKE_COLAB_MNT_NS", "")
    return bool(expected) and namespace() == expected


def namespace(pid="self"):
    """This (or ``pid``'s) mount namespace, e.g. ``mnt:[4026532321]``; '' when unknown."""
    try:
        return os.readlink(f"/proc/{pid}/ns/mnt")
    except OSError:
        return ""


class Process:
    """One line of the process table: pid, name (comm), state, parent and session."""

    __slots__ = ("comm", "pid", "ppid", "session", "state")

    def __init__(self, pid, comm, state, ppid, session):
        self.pid = pid
        self.comm = comm
        self.state = state
        self.ppid = ppid
        self.session = session

    def cmdline(self):
        try:
            with open(f"/proc/{self.pid}/cmdline", "rb") as handle:
                return [os.fsdecode(arg) for arg in handle.read().split(b"\0") if arg]
        except OSError:
            return []


def process(pid):
    """The Process ``pid``, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            line = handle.read()
    except OSError:
        return None
    close = line.rindex(b")")
    fields = line[close + 2 :].split()
    comm = line[line.index(b"(") + 1 : close].decode("utf-8", "replace")
    return Process(int(pid), comm, fields[0].decode(), int(fields[1]), int(fields[3]))


def processes():
    """Every process (zombies included) visible in /proc."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            entry = process(name)
            if entry is not None:
                found.append(entry)
    return found


def alive(pid):
    entry = process(pid)
    return entry is not None and entry.state not in ("Z", "X")


def daemons(root=None):
    """Live fake DriveFS daemons of this mount namespace (of the fake Colab at ``root``)."""
    own = namespace()
    found = []
    for entry in processes():
        if entry.comm != NAME or entry.state in ("Z", "X") or namespace(entry.pid) != own:
            continue
        if root is None or f"--root={root}" in entry.cmdline():
            found.append(entry.pid)
    return found


def _reaped(pid):
    """Gone from the process table, or a zombie of init (which reaps slowly on some machines)
    or of this process (a Popen that will be waited for)."""
    entry = process(pid)
    return entry is None or (entry.state in ("Z", "X") and entry.ppid in (1, os.getpid()))


def wait(pids, seconds):
    """Wait until ``pids`` are reaped (at most ``seconds``); the ones still there."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        left = [pid for pid in pids if not _reaped(pid)]
        if not left:
            return []
        time.sleep(0.002)
    return [pid for pid in pids if not _reaped(pid)]


def kill(pids, signal_number=9, reaped=False):
    """Send ``signal_number`` to each pid that still exists; wait (≤ 5 s) until they are dead.

    ``reaped``: wait until they are reaped too. A daemon's parent (the subshell that started
    it) reaps it at once, so no zombie named ``drive`` is left for ``pgrep -x drive`` to see.
    """
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal_number)
    deadline = time.monotonic() + 5
    done = _reaped if reaped else (lambda pid: not alive(pid))
    while not all(done(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.002)


def sessions_file(root):
    return os.path.join(root, "drivefs", "sessions")


def session_members(root):
    """Pids in the sessions that drive.mount started for the fake Colab at ``root``."""
    try:
        with open(sessions_file(root), encoding="utf-8") as handle:
            sessions = {int(line) for line in handle if line.strip()}
    except OSError:
        return []
    return [entry.pid for entry in processes() if entry.session in sessions]


#: pexpect spawns started by drive.mount in this process, by fake Colab root: they are kept
#: here until their processes are gone, then closed (else their pipes and Popen objects warn).
SPAWNS = {}


def keep(root, spawn):
    SPAWNS.setdefault(root, []).append(spawn)
    os.makedirs(os.path.dirname(sessions_file(root)), exist_ok=True)
    with open(sessions_file(root), "a", encoding="utf-8") as handle:
        handle.write(f"{spawn.proc.pid}\n")


def close(spawn):
    """Reap and close a pexpect PopenSpawn whose processes are gone (or about to be)."""
    proc = spawn.proc
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    thread = getattr(spawn, "_read_thread", None)
    if thread is not None:
        thread.join(5)
    for pipe in (proc.stdin, proc.stdout):
        if pipe is not None:
            pipe.close()


def stop(roots=(), under=None, everything=False):
    """Kill the daemons and mount sessions of the fake Colabs at ``roots``; detach mounts.

    Drive mounts under ``under`` are lazily unmounted (every one when ``under`` is None).
    ``everything``: also every daemon of this mount namespace and every spawn kept. Returns the
    mountpoints detached.
    """
    roots = list(roots)
    if everything:
        roots += [root for root in SPAWNS if root not in roots]
    serving = set(daemons()) if everything else set()
    for root in roots:
        serving.update(daemons(root))
    kill(sorted(serving), reaped=True)  # first, so that their parents, alive, reap them
    others = set()
    for root in roots:
        others.update(session_members(root))
    others.discard(os.getpid())
    kill(sorted(others))
    for root in roots:
        for spawn in SPAWNS.pop(root, []):
            close(spawn)
    prefix = None if under is None else os.path.join(os.fspath(under), "")
    points = sorted((point for point, _ in mounts()), key=len, reverse=True)  # inner ones first
    return [
        point for point in points if (prefix is None or point.startswith(prefix)) and detach(point)
    ]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
