"""Checks and copies what a job leaves in its output folder: regular files and folders only.

Used twice: inside the sandbox (from the job's tmpfs to the host, after every job process is
dead) and by the node (verifying again before anything leaves). Stdlib only: the sandbox
launcher imports it without site-packages. Every step goes through directory descriptors and
O_NOFOLLOW, so a symlink or a swapped folder can never make us read outside the tree.
"""

from __future__ import annotations

import os
import stat

MAX_ENTRIES = 10_000
MAX_DEPTH = 32
_CHUNK = 1 << 20


class OutputRefused(Exception):
    """The output breaks a rule. The message names the rule and nothing the job chose (the
    consumer reads it in the job's reason); `path`, the entry at fault, is for the provider."""

    def __init__(self, message: str, path: str | None = None, *, over_cap: bool = False) -> None:
        super().__init__(message)
        self.path = path  # a name the job chose: it may carry data, it stays in the log
        self.over_cap = over_cap  # the rule broken is the size cap, a limit like the others


_KINDS = {
    stat.S_IFLNK: "a symbolic link",
    stat.S_IFIFO: "a named pipe",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a device",
    stat.S_IFBLK: "a device",
}


def collect(src: str | int, dst: str | int | None, cap: int) -> int:
    """Check the tree under src (and copy it to dst, an empty folder, if given); return its size.

    Raises OutputRefused on anything but regular files and folders, on hard-linked files, on
    more than MAX_ENTRIES entries or MAX_DEPTH levels, and when the total exceeds cap bytes.
    """
    state = [0, 0]  # bytes, entries
    sfd = _open_dir(src)
    dfd = _open_dir(dst) if dst is not None else None
    try:
        _walk(sfd, dfd, "", 0, cap, state)
    finally:
        os.close(sfd)
        if dfd is not None:
            os.close(dfd)
    return state[0]


def _open_dir(where: str | int, name: str | None = None) -> int:
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
    if name is not None:
        return os.open(name, flags, dir_fd=where)  # type: ignore[arg-type]
    if isinstance(where, int):
        return os.dup(where)
    return os.open(where, flags)


def _walk(sfd: int, dfd: int | None, rel: str, depth: int, cap: int, state: list[int]) -> None:
    if depth > MAX_DEPTH:
        raise OutputRefused(f"the output is nested deeper than {MAX_DEPTH} folders", rel)
    for name in sorted(os.listdir(sfd)):
        path = rel + name
        state[1] += 1
        if state[1] > MAX_ENTRIES:
            raise OutputRefused(f"the output holds more than {MAX_ENTRIES} files and folders", path)
        st = os.stat(name, dir_fd=sfd, follow_symlinks=False)
        kind = stat.S_IFMT(st.st_mode)
        if kind == stat.S_IFDIR:
            child = _open_dir(sfd, name)
            try:
                _same(child, st, path)
                sub = None
                if dfd is not None:
                    os.mkdir(name, 0o755, dir_fd=dfd)
                    sub = _open_dir(dfd, name)
                try:
                    _walk(child, sub, path + "/", depth + 1, cap, state)
                finally:
                    if sub is not None:
                        os.close(sub)
            finally:
                os.close(child)
        elif kind == stat.S_IFREG:
            if st.st_nlink > 1:
                raise OutputRefused("the output holds a hard link, which is not allowed", path)
            _copy_file(sfd, dfd, name, st, path, cap, state)
        else:
            what = _KINDS.get(kind, "a special file")
            raise OutputRefused(f"the output holds {what}, which is not allowed", path)


def _same(fd: int, st: os.stat_result, path: str) -> None:
    now = os.fstat(fd)
    if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
        raise OutputRefused("an output entry changed while it was checked", path)


def _copy_file(
    sfd: int, dfd: int | None, name: str, st: os.stat_result, path: str, cap: int, state: list[int]
) -> None:
    if state[0] + st.st_size > cap:
        raise OutputRefused(f"the output is larger than its cap of {cap} bytes", path, over_cap=True)
    if dfd is None:
        state[0] += st.st_size
        return
    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=sfd)
    try:
        _same(fd, st, path)
        out = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644, dir_fd=dfd)
        try:
            while chunk := os.read(fd, _CHUNK):
                state[0] += len(chunk)
                if state[0] > cap:
                    raise OutputRefused(
                        f"the output is larger than its cap of {cap} bytes", path, over_cap=True
                    )
                view = memoryview(chunk)
                while view:
                    view = view[os.write(out, view) :]
        finally:
            os.close(out)
    finally:
        os.close(fd)
