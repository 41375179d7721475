"""What of the host a job's root contains: the interpreter and the system libraries, read-only.

Nothing else: no /etc, no /home, no /proc, no node files. The base interpreter (not the venv)
runs jobs with -I -S, so its site-packages are hidden; a SPARQL job gets only pyoxigraph.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

PYOXIGRAPH_AT = "/opt/communs/pyoxigraph"  # the SPARQL runner puts /opt/communs on sys.path


@dataclass(frozen=True)
class Layout:
    python: str  # the interpreter, at the same path inside the job's root as on the host
    prefix: str  # where its standard library lives
    links: list[tuple[str, str]]  # symlinks to recreate, e.g. /lib -> usr/lib
    binds: list[tuple[str, str]]  # read-only bind mounts (host path, path inside)
    hide: list[str]  # folders inside a bind covered by an empty read-only tmpfs


@functools.cache
def host_layout(sparql: bool, python: str | None = None) -> Layout:
    """The root for jobs run by `python` (default: the node's own base interpreter)."""
    own = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
    python = os.path.realpath(python) if python else own
    prefix, libs = _own_paths() if python == own else _paths_of(python)
    links: list[tuple[str, str]] = []
    binds: list[tuple[str, str]] = [("/usr", "/usr")]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64"):
        if os.path.islink(top):
            links.append((top, os.readlink(top)))
        elif os.path.isdir(top):
            binds.append((top, top))
    hide: list[str] = []
    if not _under(prefix, [dst for _, dst in binds]):
        binds.append((prefix, prefix))
        for lib in libs:
            if _under(lib, [prefix]) and os.path.isdir(lib) and lib not in hide:
                hide.append(lib)
    if sparql:
        import pyoxigraph

        binds.append((str(Path(pyoxigraph.__file__).resolve().parent), PYOXIGRAPH_AT))
    return Layout(python=python, prefix=prefix, links=links, binds=binds, hide=hide)


def _own_paths() -> tuple[str, list[str]]:
    prefix = os.path.realpath(sys.base_prefix)
    paths = sysconfig.get_paths(vars={"base": prefix, "platbase": prefix})
    return prefix, [os.path.realpath(paths[k]) for k in ("purelib", "platlib")]


@functools.cache
def _paths_of(python: str) -> tuple[str, list[str]]:
    """Another interpreter's prefix and site-packages: it alone knows them."""
    code = (
        "import sys, sysconfig; p = sys.base_prefix;"
        "v = sysconfig.get_paths(vars={'base': p, 'platbase': p});"
        "print(p); print(v['purelib']); print(v['platlib'])"
    )
    done = subprocess.run(
        [python, "-I", "-S", "-c", code], capture_output=True, text=True, timeout=30
    )
    if done.returncode != 0:
        raise OSError(f"cannot run the jobs' interpreter {python}")
    prefix, *libs = [os.path.realpath(line) for line in done.stdout.split()]
    return prefix, libs


def _under(path: str, roots: list[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)
