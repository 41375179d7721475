"""What people type for the module commands, read into what messages carry: rates (10%,
0.1, 100000ppm), consensus public keys, self-description hashes, and a proposal's messages
from readable JSON (addresses as com1..., amounts as integers of ucom or 5com)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from pathlib import Path
from typing import Any

from ..app import address
from ..app.wire import gov_account
from ..errors import LedgerError, Reason
from .amounts import parse_account, parse_amount

PPM = 1_000_000
_RATE = re.compile(r"(\d+)(?:\.(\d{1,6}))?\s*(%|ppm)?")

# Fields of a message's wire form that hold an address, bytes written in hex, or an amount.
ADDRESS_FIELDS = ("from", "to", "authority", "recipient", "account", "operator", "delegator",
                  "validator", "src", "dst", "withdraw_address", "proposer", "voter",
                  "depositor")
HEX_FIELDS = ("sd_hash", "pub_key")
AMOUNT_FIELDS = ("amount",)
# Messages made by governance: their authority is the gov module account unless given.
GOV_TYPES = ("gov/community_pool_spend", "gov/software_upgrade", "gov/cancel_upgrade",
             "gov/update_params", "registry/register_member", "registry/set_member_status",
             "registry/add_trust_anchor", "registry/remove_trust_anchor", "market/slash")


def bad(message: str) -> LedgerError:
    return LedgerError(message, Reason.BAD_INPUT)


def parse_rate(text: str, what: str = "rate") -> int:
    """Parts per million from `10%`, `0.1`, `100000ppm` (at most 100%)."""
    m = _RATE.fullmatch(text.strip().lower())
    if m is None or (m.group(3) == "ppm" and m.group(2)):
        raise bad(f"invalid {what} {text[:40]!r}: write it as 10%, 0.1 or 100000ppm")
    whole, frac, unit = int(m.group(1)), (m.group(2) or "").ljust(6, "0"), m.group(3)
    if unit == "ppm":
        ppm = whole
    elif unit == "%":
        ppm = whole * 10_000 + int(frac) // 100
    else:
        ppm = whole * PPM + int(frac)
    if ppm > PPM:
        raise bad(f"invalid {what} {text[:40]!r}: it is at most 100%")
    return ppm


def percent(ppm: int) -> str:
    whole, frac = divmod(ppm * 100, PPM)
    return f"{whole}" + (f".{frac:06d}".rstrip("0") if frac else "") + "%"


def parse_pub_key(text: str) -> bytes:
    """A 32-byte Ed25519 public key: 64 hex digits, base64, or a priv_validator_key.json."""
    t = text.strip()
    if re.fullmatch(r"[0-9a-fA-F]{64}", t):
        return bytes.fromhex(t)
    path = Path(t)
    if path.is_file():
        try:
            return base64.b64decode(json.loads(path.read_text())["pub_key"], validate=True)
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise bad(f"{path} is not a validator key file (priv_validator_key.json)") from None
    try:
        raw = base64.b64decode(t, validate=True)
    except (ValueError, binascii.Error):
        raw = b""
    if len(raw) != 32:
        raise bad(f"invalid consensus key {t[:48]!r}: give 64 hex digits, its base64, or a "
                  f"priv_validator_key.json")
    return raw


def parse_sd_hash(text: str) -> bytes:
    """A self-description's SHA-256: 64 hex digits, or a file whose SHA-256 it is."""
    t = text.strip()
    if re.fullmatch(r"[0-9a-fA-F]{64}", t):
        return bytes.fromhex(t)
    path = Path(t)
    if path.is_file():
        return hashlib.sha256(path.read_bytes()).digest()
    raise bad(f"invalid self-description hash {t[:48]!r}: give 64 hex digits (its SHA-256) "
              f"or the self-description's file")


def wire_message(obj: Any, where: str) -> dict[str, Any]:
    """A message's wire form from its readable JSON form."""
    if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
        raise bad(f"{where} must be an object with a type")
    d = dict(obj)
    if d["type"] in GOV_TYPES and "authority" not in d:
        d["authority"] = address.to_text(gov_account())
    for k, v in d.items():
        if k in ADDRESS_FIELDS and isinstance(v, str):
            try:
                d[k] = address.parse(parse_account(v))
            except LedgerError as e:
                raise bad(f"{where}, {k}: {e}") from None
        elif k in HEX_FIELDS and isinstance(v, str):
            try:
                d[k] = bytes.fromhex(v)
            except ValueError:
                raise bad(f"{where}, {k}: write it as hex digits") from None
        elif k in AMOUNT_FIELDS and isinstance(v, str):
            d[k] = parse_amount(v)
    return d


def messages_file(path: Path) -> list[dict[str, Any]]:
    """A proposal's messages from a JSON file holding a list of readable messages."""
    try:
        doc = json.loads(path.read_text())
    except OSError as e:
        raise bad(f"cannot read {path}: {e.strerror}") from None
    except ValueError as e:
        raise bad(f"{path} is not JSON: {e}") from None
    if isinstance(doc, dict) and "messages" in doc:
        doc = doc["messages"]
    if not isinstance(doc, list):
        raise bad(f"{path} must hold a list of messages")
    return [wire_message(m, f"{path} message {i}") for i, m in enumerate(doc, 1)]


def param_value(text: str) -> Any:
    """A parameter's value: JSON when it reads as JSON (60, true, {"a": 1}), else the text."""
    try:
        return json.loads(text)
    except ValueError:
        return text
