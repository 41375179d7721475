"""The job receipt: a JWS by the provider's DID key over what ran, on what, and what came out.

The consumer checks the signature against the provider's DID document (as it checks an
agreement) and that every claim is the one it expects: its agreement, its algorithm, the
job it submitted and the exact bytes of the result it downloaded. The ledger will anchor it.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from connector.compute.model import ComputeJob, JobState
from connector.errors import ConnectorError
from connector.identity.did import Signer
from connector.identity.jose import ALGS, decode_parts, sign_jwt
from connector.identity.keys import jwk_alg, verify_signature
from connector.identity.verification import did_of

TYP = "communs-compute-receipt+jws"


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def claims(job: ComputeJob, provider_did: str) -> dict[str, Any]:
    """What the provider signs for a finished JOB."""
    return {
        "iss": provider_did,
        "iat": int(time.time()),
        "jobId": job.id,
        "agreementId": job.agreement_id,
        "consumer": job.counterparty_did,
        "dataset": {"iri": job.dataset_iri, "hash": job.dataset_hash},
        "algorithm": {"kind": job.kind, "hash": job.algorithm_hash, "publisher": job.publisher},
        "result": {"hash": job.result_hash, "bytes": job.resources.output_bytes}
        if job.state.has_result else None,
        "status": job.state.value,
        "reason": job.reason,
        "resources": job.resources.to_json(),
        "startedAt": _time(job.started_at),
        "finishedAt": _time(job.finished_at),
    }


def sign(job: ComputeJob, signer: Signer) -> str:
    return sign_jwt({"typ": TYP}, claims(job, signer.did), signer)


async def verify(jws: str, resolver: Any, *, provider_did: str, expected: dict[str, Any],
                 result_hash: str | None = None) -> tuple[dict[str, Any], list[str]]:
    """(the claims, problems): empty problems means the provider signed exactly this.

    EXPECTED: top-level claims that must be equal (jobId, agreementId, consumer...) and
    "algorithmHash"; RESULT_HASH: the hash of the archive we downloaded, if any."""
    try:
        header, payload, signing_input, signature = decode_parts(jws)
    except (ValueError, UnicodeDecodeError) as exc:
        return {}, [f"the receipt is not a JWS: {exc}"]
    problems = []
    kid = header.get("kid")
    if header.get("typ") != TYP or header.get("alg") not in ALGS:
        problems.append("the receipt's header is not a communs receipt's")
    elif not isinstance(kid, str) or did_of(kid) != provider_did or payload.get("iss") != provider_did:
        problems.append("the receipt is not signed by the provider")
    else:
        try:
            key = await resolver.verification_key(kid, "assertionMethod")
            ok = jwk_alg(key) == header["alg"] and verify_signature(
                key, header["alg"], signing_input.encode(), signature)
        except (ConnectorError, ValueError, KeyError):
            ok = False
        if not ok:
            problems.append("the receipt's signature does not verify")
    for name, value in expected.items():
        found = (payload.get("algorithm") or {}).get("hash") if name == "algorithmHash" else payload.get(name)
        if found != value:
            problems.append(f"the receipt's {name} is {found!r}, not {value!r}")
    status = payload.get("status")
    if status not in {s.value for s in JobState if s.final}:
        problems.append(f"the receipt's status {status!r} is not a final state")
    signed_result = (payload.get("result") or {}).get("hash")
    if result_hash is not None and signed_result != result_hash:
        problems.append("the result does not match the hash in the receipt")
    return payload, problems
