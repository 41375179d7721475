"""What `publish` never takes, whoever asks and however the file is named.

A published file is served to consumers, so three fences stand between a node's secrets and
its catalog, each checked on the file's real path (symlinks resolved) or on its bytes:

- a node's folder (one holding `communs.toml`): only its `data/` may be published; keys, the
  management token, the database and the RDF store may not, whichever node they belong to;
- hard links: a file with several names is taken only when every name is found inside the
  folders the request may publish from (another name could be a key inside a node's folder);
- content: a private key (a JWK with `d`, a PEM private key) or the node's own secrets (its
  management token, its private key material), wherever they sit in the file.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from connector.config import CONFIG_FILE
from connector.errors import ConnectorError, Reason

NODE_DATA = "data"  # the one folder of a node that may be published from
MAX_WALK = 20_000  # files looked at when searching for a file's other names
JSON_HEAD = 1 << 20  # files up to this size that look like JSON are checked for private JWKs
_PEM_PRIVATE = re.compile(rb"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----")
_PEM_OVERLAP = 64  # bytes kept between chunks so that a marker cut in two is still found


def _refuse(message: str) -> ConnectorError:
    return ConnectorError(Reason.FORBIDDEN, message)


def node_folder_of(path: Path) -> Path | None:
    """The node folder holding PATH outside its data/ (PATH is real: symlinks resolved)."""
    for folder in path.parents:
        if (folder / CONFIG_FILE).is_file() and not path.is_relative_to(folder / NODE_DATA):
            return folder
    return None


def check_outside_nodes(path: Path) -> None:
    if (folder := node_folder_of(path)) is not None:
        raise _refuse(f"{path} is inside the node folder {folder}: only files under its {NODE_DATA}/ may be published")


def _names(info: os.stat_result, roots: Iterable[Path]) -> set[Path] | None:
    """Every name of INFO's file under ROOTS, or None when they hold too many files to look."""
    names: set[Path] = set()
    looked = 0
    for root in roots:
        for folder, _, entries in os.walk(root):
            looked += len(entries)
            if looked > MAX_WALK:
                return None
            for entry in entries:
                try:
                    found = os.lstat(os.path.join(folder, entry))
                except OSError:
                    continue
                if (found.st_dev, found.st_ino) == (info.st_dev, info.st_ino):
                    names.add(Path(folder, entry))
    return names


def check_links(path: Path, info: os.stat_result, roots: Sequence[Path]) -> None:
    """A file with several names (hard links) passes only when all of them are found under
    ROOTS, none of them inside a node's folder."""
    if info.st_nlink <= 1:
        return
    names = _names(info, roots)
    if names is None or len(names) < info.st_nlink or any(node_folder_of(n) for n in names):
        where = ", ".join(str(r) for r in roots)
        raise _refuse(
            f"{path} has {info.st_nlink} names (hard links) and not all of them are in the folders a "
            f"dataset may come from ({where}): publish a copy of it instead"
        )


def _private_jwk(document: Any) -> bool:
    """Whether a JSON value holds an object with both `kty` and `d` (a private JWK), at any depth."""
    pending = [document]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            if "kty" in value and "d" in value:
                return True
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


class ContentFence:
    """Fed the file chunk by chunk as it is stored; raises FORBIDDEN at the first secret."""

    def __init__(self, name: str, secrets: Sequence[bytes] = ()) -> None:
        self.name = name
        self._secrets = [s for s in secrets if s]
        self._overlap = max([_PEM_OVERLAP, *(len(s) for s in self._secrets)])
        self._tail = b""
        self._head = bytearray()

    def feed(self, chunk: bytes) -> None:
        window = self._tail + chunk
        if _PEM_PRIVATE.search(window):
            raise _refuse(f"{self.name} holds a PEM private key: keys are never published")
        if any(secret in window for secret in self._secrets):
            raise _refuse(f"{self.name} holds this node's management token or private key: it is never published")
        self._tail = window[-self._overlap :]
        if len(self._head) <= JSON_HEAD:
            self._head += chunk[: JSON_HEAD + 1 - len(self._head)]

    def finish(self) -> None:
        """After the last chunk: a small JSON file is parsed and refused if it holds a private JWK."""
        head = bytes(self._head).lstrip()
        if len(self._head) > JSON_HEAD or not head.startswith((b"{", b"[")):
            return
        try:
            document = json.loads(head)
        except (ValueError, RecursionError):  # not JSON, or nested too deep to be a key
            return
        if _private_jwk(document):
            raise _refuse(f"{self.name} is a private JSON Web Key (it has a 'd' member): keys are never published")
