"""Taking a file into the node's folder safely: `publish` copies, it never links.

The checks refuse what could leak or hang: a path outside the allowed folders, `..`, a symlink
anywhere on the path, a device, FIFO or directory, a file above the size cap. The source is
opened with O_NOFOLLOW|O_NONBLOCK and checked with fstat, so that what is checked is what is
read (no race between a check and the open).
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from connector.errors import ConnectorError, Reason

CHUNK = 1 << 20


@dataclass(frozen=True)
class StoredFile:
    relative: str  # under <home>/data
    size: int
    sha256: str
    media_type: str | None


def _bad(message: str) -> ConnectorError:
    return ConnectorError(Reason.BAD_INPUT, message)


def check_source_path(raw: str, allowed_roots: tuple[Path, ...]) -> Path:
    if not raw or "\x00" in raw:
        raise _bad("the path is empty or holds a NUL byte")
    given = Path(raw)
    if ".." in given.parts:
        raise _bad(f"{raw}: paths with '..' are refused")
    absolute = Path(os.path.abspath(given))
    resolved = absolute.resolve()
    if resolved != absolute:  # some component is a symlink
        raise _bad(f"{raw}: symbolic links are refused, give the real path")
    roots = [Path(os.path.abspath(r)).resolve() for r in allowed_roots]
    if not any(resolved.is_relative_to(root) for root in roots):
        where = ", ".join(str(r) for r in roots)
        raise _bad(f"{raw} is outside the folders a dataset may come from ({where})")
    return resolved


def copy_into(source: Path, data_dir: Path, dataset_id: str, max_bytes: int) -> StoredFile:
    """Copy SOURCE to DATA_DIR/DATASET_ID/<name>, hashing on the way; nothing is left on error."""
    try:
        fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        raise _bad(f"cannot open {source}: {exc.strerror}") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise _bad(f"{source} is not a regular file (devices, FIFOs and folders are refused)")
    with os.fdopen(fd, "rb") as src:
        if info.st_size > max_bytes:
            raise ConnectorError(Reason.TOO_LARGE, f"{source} is {info.st_size} bytes, above the {max_bytes} limit")
        folder = data_dir / dataset_id
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        target = folder / source.name
        digest, size = hashlib.sha256(), 0
        tmp = target.with_name(f".{target.name}.part")
        try:
            with open(tmp, "xb") as out:
                while chunk := src.read(CHUNK):
                    size += len(chunk)
                    if size > max_bytes:  # the file grew while we read it
                        raise ConnectorError(Reason.TOO_LARGE, f"{source} is above the {max_bytes} limit")
                    digest.update(chunk)
                    out.write(chunk)
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            if not any(folder.iterdir()):
                folder.rmdir()
            raise
    media, _ = mimetypes.guess_type(source.name)
    return StoredFile(f"{dataset_id}/{source.name}", size, digest.hexdigest(), media)


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
