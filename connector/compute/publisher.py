"""Algorithm publishers: a DID vouches for an algorithm by signing its hash.

The signature is a compact JWS by a key of the publisher's DID (its `assertionMethod`) over
`{"iss": DID, "algorithm": "sha256:<hex>"}`. A provider's policy can then allow every
algorithm of a publisher (`communs:algorithmPublisher isAnyOf (DIDs)`) instead of listing
hashes.
"""

from __future__ import annotations

from typing import Any

from connector.errors import ConnectorError
from connector.identity.did import Signer
from connector.identity.jose import ALGS, decode_parts, sign_jwt
from connector.identity.keys import jwk_alg, verify_signature
from connector.identity.verification import did_of

TYP = "communs-algorithm+jws"


def sign_algorithm(digest: str, signer: Signer) -> str:
    return sign_jwt({"typ": TYP}, {"iss": signer.did, "algorithm": digest}, signer)


async def verify_publisher(jws: str, digest: str, resolver: Any) -> str | None:
    """The publisher's DID if JWS is its valid signature over DIGEST, else None."""
    try:
        header, payload, signing_input, signature = decode_parts(jws)
        kid, issuer = header.get("kid"), payload.get("iss")
        if header.get("typ") != TYP or header.get("alg") not in ALGS or payload.get("algorithm") != digest:
            return None
        if not isinstance(kid, str) or not isinstance(issuer, str) or did_of(kid) != issuer:
            return None
        key = await resolver.verification_key(kid, "assertionMethod")
        if jwk_alg(key) != header["alg"]:
            return None
        ok = verify_signature(key, header["alg"], signing_input.encode(), signature)
    except (ValueError, KeyError, UnicodeDecodeError, ConnectorError):
        return None
    return issuer if ok else None
