"""Taking a file into the node's folder safely: `publish` copies or receives, it never links.

A local source is opened first and then checked where it really is (symlinks resolved, the
resolved name proved to be the opened file), so that what is checked is what is read. The
checks refuse what could leak or hang: a device, FIFO or folder, a file above the size cap, a
file outside the allowed folders (when the caller has an allow-list), and whatever the fences
of `fences.py` stop. A file is written under a temporary name and renamed once complete:
nothing is left behind on error.
"""

from __future__ import annotations

import asyncio
import hashlib
import mimetypes
import os
import stat
from collections.abc import AsyncIterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from connector.catalog import fences
from connector.errors import ConnectorError, Reason

CHUNK = 1 << 20


@dataclass(frozen=True)
class StoredFile:
    relative: str  # under <home>/data
    size: int
    sha256: str
    media_type: str | None


@dataclass(frozen=True)
class Source:
    """An opened local file, checked: `path` is its real name. The caller closes `fd`."""

    path: Path
    fd: int
    size: int


def _bad(message: str) -> ConnectorError:
    return ConnectorError(Reason.BAD_INPUT, message)


def _regular(info: os.stat_result, raw: str) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise _bad(f"{raw} is not a regular file (devices, FIFOs and folders are refused)")


def open_source(raw: str, roots: Sequence[Path] | None) -> Source:
    """Open RAW for publishing. ROOTS are the folders it must be under (the management API's
    allow-list); None is the operator's own shell, which may publish any file it can read.
    The fences hold either way."""
    if not raw or "\x00" in raw:
        raise _bad("the path is empty or holds a NUL byte")
    try:
        _regular(os.stat(raw), raw)  # before opening: opening a device may do something
        fd = os.open(raw, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise _bad(f"cannot open {raw}: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        _regular(info, raw)
        real = Path(os.path.realpath(raw))
        try:
            named = os.stat(real)
        except OSError:
            named = None
        if named is None or (named.st_dev, named.st_ino) != (info.st_dev, info.st_ino):
            raise _bad(f"{raw} changed while it was being checked")
        allowed = [Path(os.path.realpath(r)) for r in roots] if roots is not None else None
        if allowed is not None and not any(real.is_relative_to(root) for root in allowed):
            where = ", ".join(str(r) for r in allowed)
            raise _bad(f"{raw} is outside the folders a dataset may come from ({where})")
        fences.check_outside_nodes(real)
        # the other names of a hard-linked file are looked for where it may come from (the
        # operator's shell: around the file itself)
        fences.check_links(real, info, allowed if allowed is not None else [real.parent])
    except BaseException:
        os.close(fd)
        raise
    return Source(real, fd, info.st_size)


def check_upload_name(raw: str) -> str:
    """The file name an upload is stored under: its last path segment, visible and printable."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    if not name or name.startswith(".") or len(name) > 255 or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise _bad(f"{raw!r} is not a usable file name (a visible name of 1 to 255 printable characters)")
    return name


class _Receiver:
    """One file being written to DATA_DIR/DATASET_ID/NAME: size-capped, hashed and fenced."""

    def __init__(self, folder: Path, name: str, max_bytes: int, fence: fences.ContentFence) -> None:
        self.folder, self.name, self.max_bytes, self.fence = folder, name, max_bytes, fence
        self.tmp = folder / f".{name}.part"
        self.out = open(self.tmp, "xb")  # noqa: SIM115 - closed by commit or discard
        self.digest, self.size = hashlib.sha256(), 0

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise ConnectorError(Reason.TOO_LARGE, f"{self.fence.name} is above the {self.max_bytes} bytes limit")
        self.fence.feed(chunk)
        self.digest.update(chunk)
        self.out.write(chunk)

    def commit(self) -> StoredFile:
        self.fence.finish()
        self.out.close()
        os.replace(self.tmp, self.folder / self.name)
        media, _ = mimetypes.guess_type(self.name)
        return StoredFile(f"{self.folder.name}/{self.name}", self.size, self.digest.hexdigest(), media)


@contextmanager
def _receiving(data_dir: Path, dataset_id: str, name: str, max_bytes: int, fence: fences.ContentFence) -> Iterator[_Receiver]:
    folder = data_dir / dataset_id
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    receiver = None
    try:
        receiver = _Receiver(folder, name, max_bytes, fence)
        yield receiver
    except BaseException:
        if receiver is not None:
            receiver.out.close()
            receiver.tmp.unlink(missing_ok=True)
        if not any(folder.iterdir()):
            folder.rmdir()
        raise


def copy_into(source: Source, data_dir: Path, dataset_id: str, max_bytes: int, fence: fences.ContentFence) -> StoredFile:
    """Copy SOURCE (closing it) to DATA_DIR/DATASET_ID/<its name>."""
    with os.fdopen(source.fd, "rb") as src:
        if source.size > max_bytes:
            raise ConnectorError(Reason.TOO_LARGE, f"{source.path} is {source.size} bytes, above the {max_bytes} limit")
        with _receiving(data_dir, dataset_id, source.path.name, max_bytes, fence) as receiver:
            while chunk := src.read(CHUNK):  # a file that grows while read still meets the cap
                receiver.write(chunk)
            return receiver.commit()


async def receive(
    chunks: AsyncIterable[bytes], data_dir: Path, dataset_id: str, name: str, max_bytes: int, fence: fences.ContentFence
) -> StoredFile:
    """Store an upload under DATA_DIR/DATASET_ID/NAME as it arrives."""
    with _receiving(data_dir, dataset_id, name, max_bytes, fence) as receiver:
        async for chunk in chunks:
            await asyncio.to_thread(receiver.write, chunk)
        return await asyncio.to_thread(receiver.commit)


def remove_copy(data_dir: Path, relative: str) -> None:
    path = data_dir / relative
    if path.resolve().is_relative_to(data_dir.resolve()):
        path.unlink(missing_ok=True)
        try:
            path.parent.rmdir()
        except OSError:
            pass


def check_remote(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _bad(f"{url!r} is not an http(s) URL")
    if parts.username or parts.password:
        raise _bad("a remote source URL must not carry credentials")
    if any(c in url for c in '<>"{}|\\^` \n\r\t'):
        raise _bad(f"{url!r} holds characters that are not allowed in a URL")
    return url
