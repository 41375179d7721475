"""DIDs: did:web for organizations, did:key for tools and tests; DID documents and signers.

The node's did:web document lists its Ed25519 key as `Ed25519VerificationKey2020` with
`publicKeyMultibase`. Why not JsonWebKey2020: Ed25519Signature2020 verifiers (Digital
Bazaar's suite, which most LD wallets use) require that exact method type, while ssi/didkit,
EDC and our own resolver accept both; the P-256 key has no 2020 multibase type and is a
`JsonWebKey2020` (what EDC and the JsonWebSignature2020 suite expect).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit

import base58
from cryptography.hazmat.primitives.asymmetric import ec

from connector.errors import ConnectorError, Reason
from connector.identity.base64url import decode as b64u_decode
from connector.identity.base64url import encode as b64u_encode

if TYPE_CHECKING:
    from connector.identity.keys import Key, KeyStore

DID_V1 = "https://www.w3.org/ns/did/v1"
ED25519_2020 = "https://w3id.org/security/suites/ed25519-2020/v1"
JWS_2020 = "https://w3id.org/security/suites/jws-2020/v1"
_ED25519_CODEC = b"\xed\x01"  # multicodec ed25519-pub, varint
_P256_CODEC = b"\x80\x24"  # multicodec p256-pub (0x1200), varint
# the EC curves did:key carries: multicodec prefix (p256-pub 0x1200, p384-pub 0x1201), curve, size
_EC = {"P-256": (_P256_CODEC, ec.SECP256R1, 32), "P-384": (b"\x81\x24", ec.SECP384R1, 48)}
_HOST = re.compile(r"^[A-Za-z0-9.\-\[\]:]+$")


def _bad(message: str) -> ConnectorError:
    return ConnectorError(Reason.DID_RESOLUTION, message)


# --- did:web ------------------------------------------------------------------------------------


def did_web_from_url(url: str) -> str:
    """`http://127.0.0.1:8181` -> `did:web:127.0.0.1%3A8181`; path segments become `:` parts."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConnectorError(Reason.BAD_INPUT, f"{url!r} is not an http(s) URL")
    netloc = parts.netloc.rsplit("@", 1)[-1].lower()
    segments = [s for s in parts.path.split("/") if s]
    if segments[-2:] == [".well-known", "did.json"]:  # the document URL itself was given
        segments = segments[:-2]
    elif segments[-1:] == ["did.json"]:
        segments = segments[:-1]
    return ":".join(["did:web", quote(netloc, safe="[]")] + [quote(s, safe="") for s in segments])


def is_loopback_host(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_from_did_web(did: str) -> str:
    """The URL of the did.json (https; plain http only for loopback dev/test nodes)."""
    if not did.startswith("did:web:"):
        raise _bad(f"{did!r} is not a did:web")
    raw = did[len("did:web:") :].split("#", 1)[0]
    parts = raw.split(":")
    host = unquote(parts[0])
    if not host or not _HOST.match(host) or host.startswith(":"):
        raise _bad(f"{did!r} does not name a valid host")
    segments = [unquote(p) for p in parts[1:]]
    if any(s in ("", ".", "..") or "/" in s or "?" in s or "#" in s for s in segments):
        raise _bad(f"{did!r} has an invalid path segment")
    hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    scheme = "http" if is_loopback_host(hostname) else "https"
    path = "/".join(quote(s) for s in segments) + "/did.json" if segments else ".well-known/did.json"
    return f"{scheme}://{host}/{path}"


# --- did:key ------------------------------------------------------------------------------------


def _multikey(public: dict[str, Any]) -> str:
    if public.get("kty") == "OKP" and public.get("crv") == "Ed25519":
        return "z" + base58.b58encode(_ED25519_CODEC + b64u_decode(public["x"])).decode()
    if public.get("kty") == "EC" and public.get("crv") in _EC:
        x, y = b64u_decode(public["x"]), b64u_decode(public["y"])
        point = bytes([2 + (y[-1] & 1)]) + x
        return "z" + base58.b58encode(_EC[public["crv"]][0] + point).decode()
    raise ConnectorError(Reason.BAD_INPUT, "did:key supports Ed25519, P-256 and P-384 public keys only")


def _jwk_from_multikey(value: str) -> dict[str, Any]:
    if not value.startswith("z"):
        raise _bad("only base58btc ('z') multibase keys are supported")
    try:
        raw = base58.b58decode(value[1:])
    except ValueError:
        raise _bad(f"{value!r} is not valid base58btc") from None
    if raw[:2] == _ED25519_CODEC and len(raw) == 34:
        return {"kty": "OKP", "crv": "Ed25519", "x": b64u_encode(raw[2:])}
    for crv, (codec, curve, size) in _EC.items():
        if raw[:2] != codec or len(raw) != 3 + size:
            continue
        try:
            point = ec.EllipticCurvePublicKey.from_encoded_point(curve(), raw[2:])
        except ValueError:
            raise _bad(f"the multibase {crv} key is not a valid curve point") from None
        numbers = point.public_numbers()
        return {
            "kty": "EC",
            "crv": crv,
            "x": b64u_encode(numbers.x.to_bytes(size, "big")),
            "y": b64u_encode(numbers.y.to_bytes(size, "big")),
        }
    raise _bad("the multibase key is neither an Ed25519, a P-256 nor a P-384 public key")


def did_key_from_jwk(public: dict[str, Any]) -> str:
    return "did:key:" + _multikey(public)


def did_key_document(did: str) -> dict[str, Any]:
    """The did:key document (did:key v0.7 style), computed offline."""
    if not did.startswith("did:key:"):
        raise _bad(f"{did!r} is not a did:key")
    value = did[len("did:key:") :].split("#", 1)[0]
    public = _jwk_from_multikey(value)
    vm_id = f"{did.split('#', 1)[0]}#{value}"
    controller = did.split("#", 1)[0]
    method: dict[str, Any]
    if public["crv"] == "Ed25519":
        method = {"id": vm_id, "type": "Ed25519VerificationKey2020", "controller": controller,
                  "publicKeyMultibase": value}
        context = [DID_V1, ED25519_2020]
    else:
        method = {"id": vm_id, "type": "JsonWebKey2020", "controller": controller,
                  "publicKeyJwk": public}
        context = [DID_V1, JWS_2020]
    refs = [vm_id]
    return {
        "@context": context,
        "id": controller,
        "verificationMethod": [method],
        "authentication": refs,
        "assertionMethod": refs,
        "capabilityInvocation": refs,
        "capabilityDelegation": refs,
    }


@lru_cache(maxsize=1024)
def _multibase_jwk(value: str, legacy_ed25519: bool) -> dict[str, Any]:
    # cached (callers get a copy): a verifier decodes the same few keys on every request
    try:  # some early Ed25519VerificationKey2020 documents omit the multicodec prefix
        raw = base58.b58decode(value[1:]) if value.startswith("z") else b""
    except ValueError:
        raw = b""
    if len(raw) == 32 and legacy_ed25519:
        return {"kty": "OKP", "crv": "Ed25519", "x": b64u_encode(raw)}
    return _jwk_from_multikey(value)


def public_jwk_of_method(method: dict[str, Any]) -> dict[str, Any]:
    """The public JWK of a verification method, whatever way it is written."""
    if isinstance(method.get("publicKeyJwk"), dict):
        found = method["publicKeyJwk"]
        if "d" in found:
            raise _bad(f"the verification method {method.get('id')} publishes a private key")
        return {k: found[k] for k in ("kty", "crv", "x", "y", "n", "e") if k in found}
    if isinstance(method.get("publicKeyMultibase"), str):
        legacy = method.get("type") == "Ed25519VerificationKey2020"
        return dict(_multibase_jwk(method["publicKeyMultibase"], legacy))
    if isinstance(method.get("publicKeyBase58"), str) and "Ed25519" in str(method.get("type")):
        try:
            raw = base58.b58decode(method["publicKeyBase58"])
        except ValueError:
            raw = b""
        if len(raw) == 32:
            return {"kty": "OKP", "crv": "Ed25519", "x": b64u_encode(raw)}
    raise _bad(f"the verification method {method.get('id')} has no supported public key")


# --- the node's did:web document and signers ---------------------------------------------------


def dsp_service(did: str, base_url: str) -> dict[str, Any]:
    """DSP 2025-1 DataService entry: points at the version endpoint, not at a protocol path."""
    return {"id": f"{did}#dsp", "type": "DataService",
            "serviceEndpoint": base_url.rstrip("/") + "/.well-known/dspace-version"}


def credential_service(did: str, url: str) -> dict[str, Any]:
    """DCP 1.0 CredentialService entry (the holder's presentation API base URL)."""
    return {"id": f"{did}#credential-service", "type": "CredentialService", "serviceEndpoint": url}


def did_web_document(did: str, store: KeyStore, services: list[dict[str, Any]]) -> dict[str, Any]:
    if not did.startswith("did:web:"):
        raise ConnectorError(Reason.BAD_INPUT, f"{did!r} is not a did:web")
    for service in services:
        if not isinstance(service, dict) or not {"id", "type", "serviceEndpoint"} <= service.keys():
            raise ConnectorError(
                Reason.BAD_INPUT, "each service needs an id, a type and a serviceEndpoint"
            )
    ed, p256 = f"{did}#key-ed25519", f"{did}#key-p256"
    methods = [
        {"id": ed, "type": "Ed25519VerificationKey2020", "controller": did,
         "publicKeyMultibase": _multikey(store.ed25519.public_jwk())},
        {"id": p256, "type": "JsonWebKey2020", "controller": did,
         "publicKeyJwk": store.p256.public_jwk()},
    ]
    document: dict[str, Any] = {
        "@context": [DID_V1, ED25519_2020, JWS_2020],
        "id": did,
        "verificationMethod": methods,
        "authentication": [ed, p256],
        "assertionMethod": [ed, p256],
    }
    if services:
        document["service"] = list(services)
    return document


def node_did_document(did: str, store: KeyStore, public_url: str) -> dict[str, Any]:
    """A node's did:web document: its two keys, its DSP endpoint and its credential service."""
    base = public_url.rstrip("/")
    return did_web_document(did, store, [dsp_service(did, base), credential_service(did, f"{base}/credentials")])


@dataclass(frozen=True)
class Signer:
    """A key and the verification method (DID URL) under which others will find it."""

    key: Key
    verification_method: str

    @property
    def did(self) -> str:
        return self.verification_method.split("#", 1)[0]

    @classmethod
    def for_did_key(cls, key: Key) -> Signer:
        did = did_key_from_jwk(key.public_jwk())
        return cls(key, f"{did}#{did[len('did:key:'):]}")

    @classmethod
    def for_store(cls, store: KeyStore, did: str, crv: str = "Ed25519") -> Signer:
        """The node's signer: `#key-ed25519` or `#key-p256` of its did:web."""
        fragment = "key-ed25519" if crv == "Ed25519" else "key-p256"
        return cls(store.key(crv), f"{did}#{fragment}")
