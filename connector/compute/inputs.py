"""A dataset's files as a job's input: the folder the executor mounts read-only, and its hash.

The dataset's folder is private to the node (0700); each job sees a staged copy made of
hard links (a copy across file systems) in a folder it may read, removed after the run.
The dataset hash in a receipt is SHA-256 over the files' names and contents, in sorted name
order. Hashing a large file costs time on every job, so the hash is kept per file state
(inode, size, modification time): a file changed on disk is hashed again.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
from pathlib import Path
from typing import Any

CHUNK = 1 << 20


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class InputHashes:
    def __init__(self) -> None:
        self._known: dict[tuple[str, int, int, int], str] = {}

    @staticmethod
    def input_dir(data_dir: Path, dataset: Any) -> Path | None:
        """The folder holding the dataset's copied files (publish puts them in data/<id>/)."""
        folders = {Path(d.file).parts[0] for d in dataset.distributions if d.file}
        if len(folders) != 1:
            return None
        folder = data_dir / folders.pop()
        return folder if folder.is_dir() and not folder.is_symlink() else None

    def _hash(self, folder: Path) -> str:
        outer = hashlib.sha256()
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
            info = path.stat()
            key = (str(path), info.st_ino, info.st_size, info.st_mtime_ns)
            if key not in self._known:
                self._known[key] = _file_sha256(path)
            name = path.relative_to(folder).as_posix()
            outer.update(f"{name}\0{self._known[key]}\n".encode())
        return "sha256:" + outer.hexdigest()

    async def dataset_hash(self, folder: Path) -> str:
        return await asyncio.to_thread(self._hash, folder)



def stage(source: Path, target: Path) -> Path:
    """TARGET holding SOURCE's regular files, readable by a job: hard links to files others may
    read already (no copy of a large file), copies of the rest (never chmod the originals)."""
    target.mkdir(mode=0o755, parents=True)
    os.chmod(target, 0o755)  # whatever the umask
    for path in sorted(source.rglob("*")):
        destination = target / path.relative_to(source)
        if path.is_symlink():
            continue
        if path.is_dir():
            destination.mkdir(mode=0o755)
            os.chmod(destination, 0o755)
        elif path.is_file():
            try:
                if not path.stat().st_mode & 0o004:
                    raise PermissionError("not readable by others: copy it")
                os.link(path, destination)
            except OSError:
                shutil.copyfile(path, destination)
                os.chmod(destination, 0o644)
    return target
