"""Credential verification throughput, against didkit measured in the same run.

    .venv/bin/python bench/bench_credentials.py [--quick]

Prints verifications per second for LD-proof credentials (Ed25519Signature2020 and
JsonWebSignature2020) and VC-JOSE vc+jwt, all with did:key issuers (no network), and each
one's ratio to didkit 0.3.3 verifying the same Ed25519Signature2020 credential (the baseline:
machines here are noisy, so the ratio is what to compare between runs). One process, one
event loop, sequential calls.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from connector.identity.did import Signer  # noqa: E402
from connector.identity.jose import issue_vc_jwt, verify_jwt  # noqa: E402
from connector.identity.keys import generate_key  # noqa: E402
from connector.identity.ldp import issue_ldp, verify_ldp  # noqa: E402
from connector.identity.resolver import DidResolver  # noqa: E402


def credential(issuer: str, version: int = 1) -> dict:
    """A typical membership credential: a handful of claims, VC 1.1 or 2.0."""
    subject = {"id": "did:example:member-42", "memberOf": "did:web:federation.example",
               "role": "provider", "level": 2, "since": "2024-01-01"}
    if version == 2:
        return {"@context": ["https://www.w3.org/ns/credentials/v2"],
                "id": "urn:uuid:0b0c3f4e-7d25-4d8c-9a6b-0e9c55a3c0f1",
                "type": ["VerifiableCredential", "MembershipCredential"], "issuer": issuer,
                "validFrom": "2024-01-01T00:00:00Z", "credentialSubject": subject}
    return {"@context": ["https://www.w3.org/2018/credentials/v1",
                         {"@vocab": "https://www.w3.org/ns/credentials/issuer-dependent#"}],
            "id": "urn:uuid:0b0c3f4e-7d25-4d8c-9a6b-0e9c55a3c0f1",
            "type": ["VerifiableCredential", "MembershipCredential"], "issuer": issuer,
            "issuanceDate": "2024-01-01T00:00:00Z", "credentialSubject": subject}


async def rate(check: Callable[[], Awaitable[bool]], seconds: float) -> float:
    """Verifications per second over about `seconds` (after a short warm-up)."""
    for _ in range(3):
        assert await check(), "a benchmark credential did not verify"
    count, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        for _ in range(5):
            await check()
        count += 5
    return count / elapsed


async def main(quick: bool) -> int:
    seconds = 1.5 if quick else 5.0
    ed = Signer.for_did_key(generate_key("Ed25519"))
    p256 = Signer.for_did_key(generate_key("P-256"))
    resolver = DidResolver(None)
    ld_ed = issue_ldp(credential(ed.did), ed)
    ld_jws = issue_ldp(credential(ed.did), ed, suite="JsonWebSignature2020")
    ld_es256 = issue_ldp(credential(p256.did), p256, suite="JsonWebSignature2020")
    jwt_ed = issue_vc_jwt(credential(ed.did, 2), ed)
    jwt_es = issue_vc_jwt(credential(p256.did, 2), p256)

    async def ldp(doc: dict) -> bool:
        return (await verify_ldp(doc, resolver)).ok

    async def jwt(token: str) -> bool:
        return (await verify_jwt(token, resolver)).ok

    cases: list[tuple[str, Callable[[], Awaitable[bool]]]] = [
        ("LD Ed25519Signature2020 (Ed25519)", lambda: ldp(ld_ed)),
        ("LD JsonWebSignature2020 (Ed25519)", lambda: ldp(ld_jws)),
        ("LD JsonWebSignature2020 (P-256)", lambda: ldp(ld_es256)),
        ("vc+jwt EdDSA", lambda: jwt(jwt_ed)),
        ("vc+jwt ES256", lambda: jwt(jwt_es)),
    ]
    try:
        import didkit
    except ImportError:
        print("didkit is not installed (pip install didkit): no baseline", file=sys.stderr)
        return 1
    ld_ed_text, options = json.dumps(ld_ed), json.dumps({"proofPurpose": "assertionMethod"})

    async def didkit_check() -> bool:
        return json.loads(await didkit.verify_credential(ld_ed_text, options))["errors"] == []

    baseline = await rate(didkit_check, seconds)
    print(f"credential verification, {seconds:g} s per case, did:key issuers "
          f"(pyld {_version('PyLD')}, didkit {didkit.get_version()})")
    print(f"{'case':44} {'verif/s':>10} {'vs didkit':>10}")
    print(f"{'didkit: LD Ed25519Signature2020 (baseline)':44} {baseline:10.1f} {1.0:9.2f}x")
    for name, check in cases:
        measured = await rate(check, seconds)
        print(f"{'communs: ' + name:44} {measured:10.1f} {measured / baseline:9.2f}x")
    return 0


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "?"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1.5 s per case instead of 5 s")
    sys.exit(asyncio.run(main(parser.parse_args().quick)))
