"""Any self-description file (VP, VC, vp+jwt, vc+jwt, bare JSON-LD) -> one normalized shape.

Enveloped `vc+jwt` credentials are decoded (not verified: that is compliance's job) so that
the presentation can be validated as one RDF graph, as gx-compliance does.
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass
from typing import Any

from connector import strictjson
from connector.identity.base64url import decode as b64u_decode
from connector.selfdescription import report as r

MAX_BYTES = 2 * 1024 * 1024
ENVELOPE_PREFIX = "data:application/vc+jwt,"


class ParseProblem(Exception):
    def __init__(self, check: str, message: str) -> None:
        super().__init__(message)
        self.check = check


@dataclass(frozen=True)
class Credential:
    position: int  # 1-based, in the presentation
    document: dict[str, Any]  # the JSON-LD credential (a JWT's payload when jwt is set)
    jwt: str | None = None
    header: dict[str, Any] | None = None

    @property
    def id(self) -> str:
        value = self.document.get("id") or self.document.get("@id")
        return value if isinstance(value, str) else f"credential {self.position}"


@dataclass(frozen=True)
class Parsed:
    document: dict[str, Any]  # JSON-LD to turn into the data graph (credentials embedded)
    credentials: tuple[Credential, ...]
    presentation: dict[str, Any] | None = None  # as received (LD proofs need it unchanged)
    jwt: str | None = None  # the whole input when it was a vp+jwt / vc+jwt
    header: dict[str, Any] | None = None


def decode_jwt(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise ParseProblem(r.INPUT, "the token is not a JWT (three dot-separated parts)")
    try:
        header, payload = strictjson.loads(b64u_decode(parts[0])), strictjson.loads(b64u_decode(parts[1]))
    except (ValueError, binascii.Error):
        raise ParseProblem(r.INPUT, "the JWT's header or payload is not base64url JSON") from None
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise ParseProblem(r.INPUT, "the JWT's header and payload must be JSON objects")
    return header, payload


def _types(doc: dict[str, Any]) -> list[str]:
    value = doc.get("type", doc.get("@type", []))
    return [t for t in (value if isinstance(value, list) else [value]) if isinstance(t, str)]


def _unwrapped(value: Any) -> Any:
    """The presentation inside what `selfdesc show --json` and the management API print
    ({framework, mediaType, issued, presentation, credentials}), so one feeds the other."""
    if isinstance(value, dict) and "@context" not in value and "presentation" in value:
        return value["presentation"]
    return value


def _load(source: str | bytes | dict[str, Any]) -> dict[str, Any] | str:
    value = _unwrapped(source if isinstance(source, dict) else _text_value(source))
    if isinstance(value, str) and value.count(".") == 2:
        return value  # a JWT (perhaps saved as a JSON string)
    if not isinstance(value, dict):
        raise ParseProblem(r.INPUT, "the document is not a JSON object")
    return value


def _text_value(source: str | bytes) -> Any:
    """A JWT as it is, or the JSON value of the text."""
    if isinstance(source, bytes):
        if len(source) > MAX_BYTES:
            raise ParseProblem(r.INPUT, f"the document is larger than {MAX_BYTES} bytes")
        try:
            source = source.decode("utf-8")
        except UnicodeDecodeError:
            raise ParseProblem(r.INPUT, "the document is not UTF-8 text") from None
    if not isinstance(source, str):
        raise ParseProblem(r.INPUT, "the document must be JSON text, a JWT or a JSON object")
    if len(source) > MAX_BYTES:
        raise ParseProblem(r.INPUT, f"the document is larger than {MAX_BYTES} bytes")
    text = source.strip()
    if text.count(".") == 2 and not text.startswith(("{", "[", '"')):
        return text
    try:
        return strictjson.loads(text)
    except ValueError as exc:  # nested too deeply, lone surrogates and NaN included
        raise ParseProblem(r.INPUT, f"the document is not valid JSON: {exc}") from None


def _credential(position: int, item: Any) -> Credential:
    token = item if isinstance(item, str) else None
    if isinstance(item, dict):
        ident = item.get("id") or item.get("@id")
        if isinstance(ident, str) and ident.startswith(ENVELOPE_PREFIX):
            token = ident[len(ENVELOPE_PREFIX) :]
    if token is not None:
        header, payload = decode_jwt(token)
        return Credential(position, payload, token, header)
    if not isinstance(item, dict):
        raise ParseProblem(r.INPUT, f"credential {position} is neither an object nor a JWT")
    return Credential(position, item)


def parse(source: str | bytes | dict[str, Any]) -> Parsed:
    """Raises ParseProblem with a check name and one sentence."""
    loaded = _load(source)
    if isinstance(loaded, str):
        header, payload = decode_jwt(loaded)
        inner = parse(payload)
        if "VerifiablePresentation" in _types(payload):
            return Parsed(inner.document, inner.credentials, payload, loaded, header)
        only = Credential(1, payload, loaded, header)
        return Parsed(payload, (only,), None, loaded, header)
    if "VerifiablePresentation" not in _types(loaded):
        if "VerifiableCredential" in _types(loaded):
            return Parsed(loaded, (Credential(1, loaded),))
        return Parsed(loaded, ())  # bare JSON-LD (or a legacy wrapper): SHACL only
    items = loaded.get("verifiableCredential", [])
    items = items if isinstance(items, list) else [items]
    credentials = tuple(_credential(i, item) for i, item in enumerate(items, 1))
    document = {**loaded, "verifiableCredential": [c.document for c in credentials]}
    document.pop("proof", None)  # the VP's own proof is not a claim to validate
    return Parsed(document, credentials, loaded)
