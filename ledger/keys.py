"""Account key files: a node's `account_key.json` (the format of priv_validator_key.json) or
an Ed25519 private JWK (RFC 8037: kty OKP, crv Ed25519, d, x), which is how a connector
node's did:web key becomes its ledger account: a DID and its account are the same key."""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path
from typing import Any

from . import privval
from .crypto import PrivateKey
from .errors import LedgerError, Reason

ACCOUNT_KEY = "account_key.json"


def account_key_path(home: Path) -> Path:
    return home / ACCOUNT_KEY


def create_account_key(home: Path) -> PrivateKey:
    """This node's account key, created (mode 0600) when absent."""
    return PrivateKey(privval.load_or_generate_key(account_key_path(home)).private_bytes_raw())


def save_account_key(home: Path, key: PrivateKey) -> None:
    """Make KEY this node's account key (mode 0600, in the format of priv_validator_key.json)."""
    doc = {"type": "ed25519", "priv_key": base64.b64encode(key.seed).decode(),
           "pub_key": base64.b64encode(key.pub_key).decode()}
    privval.write_file_atomic(account_key_path(home), json.dumps(doc).encode())


def _b64url(text: Any, what: str, path: Path) -> bytes:
    if not isinstance(text, str):
        raise _bad(path, f"its {what} is missing")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise _bad(path, f"its {what} is not base64url") from None


def _bad(path: Path, why: str) -> LedgerError:
    return LedgerError(f"{path} is not a usable account key: {why}", Reason.CONFIG)


def _from_jwk(doc: dict[str, Any], path: Path) -> PrivateKey:
    if doc.get("kty") != "OKP" or doc.get("crv") != "Ed25519":
        raise _bad(path, "only Ed25519 keys (kty OKP, crv Ed25519) can hold a ledger account")
    if "d" not in doc:
        raise _bad(path, "it is a public JWK (no \"d\"); the private key is needed to sign")
    seed = _b64url(doc["d"], "\"d\"", path)
    if len(seed) != 32:
        raise _bad(path, "its \"d\" is not a 32-byte Ed25519 private key")
    key = PrivateKey(seed)
    if "x" in doc and _b64url(doc["x"], "\"x\"", path) != key.pub_key:
        raise _bad(path, "its \"x\" is not the public key of its \"d\"")
    return key


def load_account_key(path: Path) -> PrivateKey:
    """A key from our key file format or from a private Ed25519 JWK."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise LedgerError(f"no key file at {path}", Reason.NOT_FOUND) from None
    except (OSError, UnicodeDecodeError) as e:
        raise _bad(path, str(e)) from None
    if text.lstrip().startswith("ey"):  # a compact JWE: the connector's passphrase-sealed keys
        raise _bad(path, "it is encrypted (a JWE); export the plain private JWK first")
    try:
        doc = json.loads(text)
    except ValueError:
        raise _bad(path, "it is not JSON") from None
    if not isinstance(doc, dict):
        raise _bad(path, "it is not a JSON object")
    if "kty" in doc:
        return _from_jwk(doc, path)
    if "priv_key" in doc:
        return PrivateKey(privval.load_or_generate_key(path).private_bytes_raw())
    raise _bad(path, "expected {\"type\": \"ed25519\", \"priv_key\": ...} or an Ed25519 JWK")


def address_text(key: PrivateKey) -> str:
    """The account's com1... address (bech32 of the key's 20-byte address)."""
    from .app import address

    return address.to_text(key.address)
