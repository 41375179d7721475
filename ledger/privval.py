"""File-based validator signer with double-sign protection.

A validator must never sign two different messages for the same (height, round, step), nor go
back to an earlier one: either is slashable equivocation. ``FilePV`` guards this across crashes
by persisting a *last-sign-state* file atomically (write temp, fsync, rename, fsync dir) BEFORE
a signature is returned to the caller, so that no signature ever leaves the process without the
disk already knowing about it.

Integration points (core):

* ``sign(height, round, step, sign_bytes)`` takes the canonical sign bytes that core builds for a
  proposal (``Step.PROPOSE``) or a vote (``Step.PREVOTE`` / ``Step.PRECOMMIT``); it is generic
  over bytes and knows nothing of their layout.
* CometBFT lets a restarted validator re-sign a vote that differs only by its timestamp by
  handing back the old signature. Pass ``equivalent=fn(old_bytes, new_bytes) -> bool`` to get
  that behaviour; the returned signature then covers ``last_state.sign_bytes`` (the old bytes),
  which the caller must use instead of its new ones.
* ``load_or_generate_key`` / ``write_file_atomic`` are reused by ``ledger.p2p`` for node keys.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ledger import errors


class PrivValError(errors.LedgerError):
    """A key or state file is unusable, or a request is malformed."""

    reason = errors.Reason.CONFIG


class DoubleSignError(errors.DoubleSignError):
    """A request would equivocate. ``kind`` is ``"regression"`` or ``"conflict"``."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class Step(IntEnum):
    PROPOSE = 1
    PREVOTE = 2
    PRECOMMIT = 3


def write_file_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data`` so that a crash leaves either the old or the new file."""
    directory = path.parent
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    # The rename itself is only durable once the directory entry is on disk.
    dfd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def public_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def load_or_generate_key(path: Path) -> Ed25519PrivateKey:
    """Load an Ed25519 key file, creating it (mode 0600) when absent.

    Format: ``{"type": "ed25519", "priv_key": b64(seed), "pub_key": b64(pub)}``.
    """
    if path.exists():
        try:
            doc = json.loads(path.read_bytes())
            seed = base64.b64decode(doc["priv_key"], validate=True)
            key = Ed25519PrivateKey.from_private_bytes(seed)
        except (ValueError, KeyError, TypeError) as exc:
            raise PrivValError(f"key file {path} is not a valid ed25519 key file") from exc
        if doc.get("pub_key") and base64.b64decode(doc["pub_key"]) != public_bytes(key):
            raise PrivValError(f"key file {path}: pub_key does not match priv_key")
        return key
    key = Ed25519PrivateKey.generate()
    seed = key.private_bytes_raw()
    doc = {
        "type": "ed25519",
        "priv_key": base64.b64encode(seed).decode(),
        "pub_key": base64.b64encode(public_bytes(key)).decode(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    write_file_atomic(path, json.dumps(doc, indent=2).encode())
    return key


@dataclass(frozen=True)
class SignState:
    height: int = 0
    round: int = 0
    step: int = 0
    sign_bytes_hash: bytes = b""
    signature: bytes = b""
    sign_bytes: bytes = b""

    def hrs(self) -> tuple[int, int, int]:
        return (self.height, self.round, self.step)

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "height": self.height,
                "round": self.round,
                "step": self.step,
                "signbytes_hash": self.sign_bytes_hash.hex(),
                "signature": base64.b64encode(self.signature).decode(),
                "signbytes": self.sign_bytes.hex(),
            },
            indent=2,
        ).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> SignState:
        doc = json.loads(raw)
        state = cls(
            height=int(doc["height"]),
            round=int(doc["round"]),
            step=int(doc["step"]),
            sign_bytes_hash=bytes.fromhex(doc["signbytes_hash"]),
            signature=base64.b64decode(doc["signature"], validate=True),
            sign_bytes=bytes.fromhex(doc.get("signbytes", "")),
        )
        if min(state.hrs()) < 0:
            raise ValueError("negative height/round/step")
        return state


class FilePV:
    """An Ed25519 signer whose last signed (height, round, step) is persisted before use."""

    def __init__(
        self,
        key_path: str | os.PathLike[str],
        state_path: str | os.PathLike[str],
        *,
        equivalent: Callable[[bytes, bytes], bool] | None = None,
    ) -> None:
        self.key_path = Path(key_path)
        self.state_path = Path(state_path)
        self._key = load_or_generate_key(self.key_path)
        self.public_key = public_bytes(self._key)
        self._equivalent = equivalent
        if self.state_path.exists():
            try:
                self._state = SignState.from_json(self.state_path.read_bytes())
            except (ValueError, KeyError, TypeError) as exc:
                # Never silently reset: a fresh state would allow double signing.
                raise PrivValError(f"sign state file {self.state_path} is corrupt") from exc
        else:
            self._state = SignState()
            self.state_path.parent.mkdir(parents=True, exist_ok=True)
            write_file_atomic(self.state_path, self._state.to_json())

    @property
    def last_state(self) -> SignState:
        return self._state

    def sign(self, height: int, round: int, step: int, sign_bytes: bytes) -> bytes:
        """Sign ``sign_bytes`` for (height, round, step), refusing any equivocation."""
        if height < 1 or round < 0 or step not in (Step.PROPOSE, Step.PREVOTE, Step.PRECOMMIT):
            raise PrivValError(f"invalid height/round/step {height}/{round}/{step}")
        hrs = (height, round, int(step))
        last = self._state
        digest = hashlib.sha256(sign_bytes).digest()
        if hrs < last.hrs():
            raise DoubleSignError(
                "regression", f"height/round/step regression: {hrs} after {last.hrs()}"
            )
        if hrs == last.hrs():
            if digest == last.sign_bytes_hash:
                return last.signature  # idempotent: a retry after a crash gets the same answer
            if self._equivalent is not None and self._equivalent(last.sign_bytes, sign_bytes):
                return last.signature
            raise DoubleSignError("conflict", f"conflicting sign bytes at {hrs}")
        signature = self._key.sign(sign_bytes)
        new = SignState(hrs[0], hrs[1], hrs[2], digest, signature, bytes(sign_bytes))
        write_file_atomic(self.state_path, new.to_json())
        self._state = new
        return signature
