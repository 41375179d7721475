"""The Linked-Data proof suites communs signs and verifies, and what tells them apart.

All of them canonicalize with RDFC-1.0 / URDNA2015 and sign hash(canon(proof options)) ||
hash(canon(document)); they differ in where the signature goes and which keys they take:

- `Ed25519Signature2020`: Ed25519, `proofValue` multibase base58btc (VC 1.1 wallets);
- `Ed25519Signature2018`: Ed25519, a detached unencoded-payload JWS (RFC 7797) in `jws`
  (didkit's default, much of the ecosystem);
- `JsonWebSignature2020`: Ed25519 or P-256, a detached JWS (EDC, Gaia-X);
- `DataIntegrityProof` with cryptosuite `eddsa-rdfc-2022` (Ed25519) or `ecdsa-rdfc-2019`
  (P-256 with SHA-256, P-384 with SHA-384; r||s), `proofValue` multibase base58btc: the W3C
  Data Integrity suites of VC 2.0.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import base58

from connector import strictjson
from connector.identity.base64url import decode as b64u_decode
from connector.identity.base64url import encode as b64u_encode
from connector.identity.did import ED25519_2020, JWS_2020
from connector.identity.keys import Key, jwk_alg, verify_signature

DATA_INTEGRITY = "https://w3id.org/security/data-integrity/v2"
VC_V1 = "https://www.w3.org/2018/credentials/v1"
VC_V2 = "https://www.w3.org/ns/credentials/v2"


@dataclass(frozen=True)
class Suite:
    name: str  # what callers ask for: a proof type, or a Data Integrity cryptosuite
    proof_type: str
    cryptosuite: str | None
    curves: tuple[str, ...]  # the key curves the suite takes
    jws: bool  # the signature is a detached JWS in `jws`, else multibase in `proofValue`
    context: str | None  # the context that defines the proof's terms, when the VC's does not

    def needs_context(self, contexts: list[Any]) -> str | None:
        """The context to append so that the proof's terms are defined (None: defined)."""
        if self.proof_type == "DataIntegrityProof":
            return None if VC_V2 in contexts or DATA_INTEGRITY in contexts else DATA_INTEGRITY
        if self.context is None or self.context in contexts:
            return None
        return self.context


SUITES = {suite.name: suite for suite in (
    Suite("Ed25519Signature2020", "Ed25519Signature2020", None, ("Ed25519",), False, ED25519_2020),
    Suite("Ed25519Signature2018", "Ed25519Signature2018", None, ("Ed25519",), True, None),
    Suite("JsonWebSignature2020", "JsonWebSignature2020", None, ("Ed25519", "P-256"), True, JWS_2020),
    Suite("eddsa-rdfc-2022", "DataIntegrityProof", "eddsa-rdfc-2022", ("Ed25519",), False, None),
    Suite("ecdsa-rdfc-2019", "DataIntegrityProof", "ecdsa-rdfc-2019", ("P-256", "P-384"), False, None),
)}
NAMES = ", ".join(SUITES)


def suite_of(proof: dict[str, Any]) -> Suite | None:
    kind, cryptosuite = proof.get("type"), proof.get("cryptosuite")
    if kind == "DataIntegrityProof":
        found = SUITES.get(cryptosuite) if isinstance(cryptosuite, str) else None
        return found if found and found.cryptosuite else None
    found = SUITES.get(kind) if isinstance(kind, str) else None
    return found if found and found.cryptosuite is None else None


def digest(curve: str | None) -> str:
    """The hash the suite uses with a key of that curve (ecdsa-rdfc-2019: SHA-384 for P-384)."""
    return "sha384" if curve == "P-384" else "sha256"


def hash_data(options_nquads: str, document_nquads: str, curve: str | None) -> bytes:
    name = digest(curve)
    return (hashlib.new(name, options_nquads.encode()).digest()
            + hashlib.new(name, document_nquads.encode()).digest())


def _jws_header(alg: str) -> str:
    header = {"alg": alg, "b64": False, "crit": ["b64"]}
    return b64u_encode(json.dumps(header, separators=(",", ":")).encode())


def sign(suite: Suite, key: Key, data: bytes) -> dict[str, str]:
    """The proof members that carry the signature of DATA."""
    if suite.jws:
        header = _jws_header(key.alg)
        return {"jws": f"{header}..{b64u_encode(key.sign(header.encode() + b'.' + data))}"}
    return {"proofValue": "z" + base58.b58encode(key.sign(data)).decode()}


def signature_problem(suite: Suite, proof: dict[str, Any], key: dict[str, Any], data: bytes) -> str | None:
    """None if the proof's signature over DATA is valid for KEY, else the problem."""
    alg = jwk_alg(key)
    if alg is None or key.get("crv") not in suite.curves:
        return f"the key is not one that {suite.name} takes ({', '.join(suite.curves)})"
    mismatch = "the proof does not match the document (it was altered, or signed by another key)"
    if not suite.jws:
        value = proof.get("proofValue")
        if not isinstance(value, str) or not value.startswith("z"):
            return "the proof has no base58btc proofValue"
        try:
            signature = base58.b58decode(value[1:])
        except ValueError:
            return "the proofValue is not valid base58btc"
        return None if verify_signature(key, alg, data, signature) else mismatch
    jws = proof.get("jws")
    if not isinstance(jws, str) or jws.count(".") != 2 or jws.split(".")[1] != "":
        return "the proof has no detached JWS"
    header_b64, _, signature_b64 = jws.split(".")
    try:
        header = strictjson.loads(b64u_decode(header_b64))
        signature = b64u_decode(signature_b64)
    except ValueError:
        return "the proof's JWS is not valid base64url JSON"
    if not isinstance(header, dict) or header.get("b64") is not False or header.get("crit") != ["b64"]:
        return "the proof's JWS header must be unencoded-payload ({b64: false, crit: [b64]})"
    if header.get("alg") != alg:
        return f"the JWS algorithm {header.get('alg')!r} does not fit the key"
    ok = verify_signature(key, alg, header_b64.encode() + b"." + data, signature)
    return None if ok else mismatch
