"""The result as one archive: a deterministic tar (what is hashed and signed), and its safe
extraction on the consumer's side (nothing but regular files, nowhere but under the target).
"""

from __future__ import annotations

import hashlib
import os
import stat
import tarfile
from pathlib import Path

from connector.errors import ConnectorError, Reason

CHUNK = 1 << 20


def pack(output_dir: Path, archive: Path) -> str:
    """Tar the regular files under OUTPUT_DIR (sorted, no owner, no time) into ARCHIVE; its hash."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(output_dir.rglob("*")):
            info = path.lstat()
            if not stat.S_ISREG(info.st_mode):
                continue  # the executor hands over regular files only; anything else stays
            entry = tarfile.TarInfo(path.relative_to(output_dir).as_posix())
            entry.size, entry.mode, entry.mtime = info.st_size, 0o644, 0
            with path.open("rb") as handle:
                tar.addfile(entry, handle)
    return file_hash(archive)


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return "sha256:" + digest.hexdigest()


def _bad(message: str) -> ConnectorError:
    return ConnectorError(Reason.BAD_INPUT, f"the result archive is refused: {message}")


def unpack(archive: Path, target: Path, max_bytes: int = 1 << 32, max_files: int = 10_000) -> list[str]:
    """Extract ARCHIVE's regular files under TARGET; refuses links, devices, absolute or
    escaping names and oversized content before writing anything. The names written."""
    try:
        with tarfile.open(archive, "r:") as tar:
            members = tar.getmembers()
            if len(members) > max_files:
                raise _bad(f"more than {max_files} files")
            total = 0
            for member in members:
                name = Path(member.name)
                if not member.isfile():
                    raise _bad(f"{member.name!r} is not a regular file")
                if name.is_absolute() or ".." in name.parts or not member.name or "\x00" in member.name:
                    raise _bad(f"{member.name!r} would land outside the output folder")
                total += member.size
            if total > max_bytes:
                raise _bad(f"it holds {total} bytes, more than {max_bytes}")
            target.mkdir(parents=True, exist_ok=True)
            root = target.resolve()
            written = []
            for member in members:
                destination = (root / member.name).resolve()
                if not destination.is_relative_to(root):  # e.g. a symlink already in TARGET
                    raise _bad(f"{member.name!r} would land outside the output folder")
                destination.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                assert source is not None  # a regular file
                fd = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
                with os.fdopen(fd, "wb") as handle:
                    while chunk := source.read(CHUNK):
                        handle.write(chunk)
                written.append(member.name)
            return written
    except tarfile.TarError as exc:
        raise _bad(str(exc)) from None
