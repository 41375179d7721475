"""Compiled shape indexes kept on disk, so that a warm node loads one in milliseconds.

The index is pickled in a cache folder keyed by the shape files' hash and the rdflib / pySHACL
/ pyoxigraph versions (measured against rdflib Turtle, a pickled rdflib Graph and N-Triples:
bench/bench_shacl.py). The folder belongs to the node's operator (like any cache, whoever can
write it can run code): a file that anyone else could have changed is not loaded.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import threading
from importlib import metadata
from pathlib import Path

from vocab.shacl.index import ShapeIndex, compile_index
from vocab.shacl.sets import ShapeSetSpec, parse, shape_file

_FORMAT = 4  # bump when the pickled index layout changes (4: the index moved to vocab.shacl.index)


def default_cache_dir() -> Path:
    env = os.environ.get("COMMUNS_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "communs"


def _fingerprint(spec: ShapeSetSpec) -> str:
    h = hashlib.sha256(f"format={_FORMAT};rewrites={spec.rewrites}".encode())
    for dist in ("rdflib", "pyshacl", "pyoxigraph"):
        h.update(f";{dist}={metadata.version(dist)}".encode())
    for name in spec.files:
        h.update(name.encode())
        h.update(shape_file(name))
    return h.hexdigest()[:24]


def _trusted(path: Path) -> bool:
    """A pickle runs code when loaded: only load one that we own and nobody else can change."""
    for item in (path, path.parent):
        info = item.stat()
        if info.st_uid != os.getuid() or info.st_mode & 0o022:
            return False
    return True


def load_index(cache_dir: Path, name: str, spec: ShapeSetSpec) -> ShapeIndex:
    """The compiled index of a set: from the cache folder, or compiled and stored there."""
    path = cache_dir / "shacl" / f"{name}-{_fingerprint(spec)}.pickle"
    try:
        if not _trusted(path):
            raise PermissionError(path)
        with path.open("rb") as f:
            index = pickle.load(f)
        if isinstance(index, ShapeIndex):
            return index
    except Exception:  # noqa: BLE001 - missing, truncated, foreign: any bad cache is rebuilt
        pass
    index = compile_index(parse(spec))
    try:  # write-then-rename so a concurrent reader never sees half a file
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        with tmp.open("wb") as f:
            pickle.dump(index, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home is no reason to fail: the next start parses again
    return index
