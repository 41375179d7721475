"""JSON-RPC 2.0 as CometBFT serves it: error objects, and the typed parameters of a method
read either from a JSON request (named or positional) or from a URI query string, where
CometBFT writes strings "quoted", bytes as 0x-hex (or a "quoted" string) and ints bare."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND = -32700, -32600, -32601
INVALID_PARAMS, INTERNAL_ERROR, SERVER_BUSY = -32602, -32603, -32000
MESSAGES = {PARSE_ERROR: "Parse error", INVALID_REQUEST: "Invalid Request",
            METHOD_NOT_FOUND: "Method not found", INVALID_PARAMS: "Invalid params",
            INTERNAL_ERROR: "Internal error", SERVER_BUSY: "Server busy"}
MAX_INT64 = 2**63 - 1


class RpcFault(Exception):
    """A JSON-RPC error: `data` is the one-sentence explanation; `retry_after` (seconds) marks
    a refusal for load, which plain HTTP answers with 429 and Retry-After."""

    def __init__(self, code: int, data: str = "", retry_after: int | None = None,
                 http_status: int | None = None) -> None:
        super().__init__(data or MESSAGES.get(code, "error"))
        self.code, self.data, self.retry_after = code, data, retry_after
        self.http_status = http_status

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": MESSAGES.get(self.code, "Server error"),
                "data": self.data}


def bad_params(message: str) -> RpcFault:
    return RpcFault(INVALID_PARAMS, message)


def response(id_: Any, result: Any = None, fault: RpcFault | None = None) -> dict[str, Any]:
    if fault is not None:
        return {"jsonrpc": "2.0", "id": id_, "error": fault.to_json()}
    return {"jsonrpc": "2.0", "id": id_, "result": result}


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # int, str, bool, bytes (base64 in JSON), hex (hex in JSON), hash (a tx hash)
    required: bool = False
    minimum: int = 1


def _int(p: Param, v: Any) -> int:
    if isinstance(v, str) and v.lstrip("-").isdigit() and len(v) <= 20:
        v = int(v)
    if not isinstance(v, int) or isinstance(v, bool) or not p.minimum <= v <= MAX_INT64:
        raise bad_params(f"{p.name} must be an integer of at least {p.minimum}")
    return v


def _hash(p: Param, v: Any, uri: bool) -> bytes:
    """CometBFT's base64 (JSON) or 0x-hex (URI); plain hex too, as people write hashes."""
    if isinstance(v, str) and re.fullmatch(r"(0x|0X)?[0-9A-Fa-f]{64}", v.strip('"')):
        return bytes.fromhex(v.strip('"')[-64:])
    h = _from_uri(replace(p, kind="bytes"), v) if uri else _from_json(replace(p, kind="bytes"), v)
    if len(h) != 32:
        raise bad_params(f"{p.name} must be the 32-byte SHA-256 of the transaction")
    return h  # type: ignore[no-any-return]


def _from_json(p: Param, v: Any) -> Any:
    if p.kind == "int":
        return _int(p, v)
    if p.kind == "hash":
        return _hash(p, v, uri=False)
    if p.kind == "bool":
        if not isinstance(v, bool):
            raise bad_params(f"{p.name} must be true or false")
        return v
    if not isinstance(v, str):
        raise bad_params(f"{p.name} must be a string")
    if p.kind == "str":
        return v
    if p.kind == "hex":
        try:
            return bytes.fromhex(v[2:] if v[:2].lower() == "0x" else v)
        except ValueError:
            raise bad_params(f"{p.name} must be hex") from None
    try:
        return base64.b64decode(v, validate=True)
    except (binascii.Error, ValueError):
        raise bad_params(f"{p.name} must be base64") from None


def _from_uri(p: Param, raw: str) -> Any:
    quoted = len(raw) >= 2 and raw[0] == raw[-1] == '"'
    if p.kind == "int":
        return _int(p, raw[1:-1] if quoted else raw)
    if p.kind == "hash":
        return _hash(p, raw, uri=True)
    if p.kind == "bool":
        if raw not in ("true", "false"):
            raise bad_params(f"{p.name} must be true or false")
        return raw == "true"
    if p.kind == "str":
        return raw[1:-1] if quoted else raw
    if raw[:2].lower() == "0x":
        try:
            return bytes.fromhex(raw[2:])
        except ValueError:
            raise bad_params(f"{p.name} must be 0x followed by hex") from None
    if quoted:
        return raw[1:-1].encode()
    raise bad_params(f'{p.name} must be 0x-prefixed hex or a "quoted" string')


def read_params(spec: Sequence[Param], raw: Any, uri: Mapping[str, str] | None = None
                ) -> dict[str, Any]:
    """Typed keyword arguments from JSON params (object, array or absent) or a URI query."""
    if uri is not None:
        given: dict[str, Any] = {k: v for k, v in uri.items() if v != ""}
    elif raw is None:
        given = {}
    elif isinstance(raw, dict):
        given = {k: v for k, v in raw.items() if v is not None}
    elif isinstance(raw, list):
        if len(raw) > len(spec):
            raise bad_params(f"expected at most {len(spec)} parameters, got {len(raw)}")
        given = {p.name: v for p, v in zip(spec, raw, strict=False) if v is not None}
    else:
        raise RpcFault(INVALID_REQUEST, "params must be an object or an array")
    # Unknown names are ignored, as CometBFT does (clients may send more than we read).
    out: dict[str, Any] = {}
    for p in spec:
        if p.name in given:
            v = given[p.name]
            out[p.name] = _from_uri(p, v) if uri is not None else _from_json(p, v)
        elif p.required:
            raise bad_params(f"parameter {p.name!r} is required")
        else:
            out[p.name] = None
    return out
