"""Usage enforcement: the agreement's ODRL policy, decided for one data access, and the
data-plane tokens that carry a consumer's right to it.

A decision runs when a transfer starts, on every data access and in the policy monitor. It
reads the agreement as signed at negotiation (its `timestamp` is the agreement time for
`elapsedTime`), the number of prior accesses under that agreement (`count`), the consumer's
declared purpose and the membership claims verified when it asked for the transfer.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from connector.identity.base64url import decode as b64u_decode
from connector.identity.base64url import encode as b64u_encode
from connector.negotiation.codec import SIGNATURE
from connector.transfer.model import TransferProcess
from connector.transfer.store import Token, TokenKind
from policies import terms as T
from policies.compile import CompiledPolicy, compile_policy
from policies.evaluate import Request, evaluate
from policies.operands import Context, Payment, Scope
from policies.parse import parse_policy
from policies.serialize import DEFAULT_CONTEXT

ACCESS_TTL = timedelta(minutes=10)  # short-lived: a leaked token is soon worthless
REFRESH_TTL = timedelta(hours=24)
READ = T.odrl("read")  # a download reads the data; `use` includes it, `communs:compute` does not


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def token_key(private_jwk: dict[str, Any]) -> bytes:
    """The node's key for deriving token secrets (HKDF over its private signing key): the
    secrets themselves never need to be stored, not even in the outbox."""
    material = b64u_decode(private_jwk["d"])
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"communs/transfer-tokens/v1").derive(material)


def secrets_for(key: bytes, seed: str) -> tuple[str, str]:
    """The (access, refresh) secrets of SEED (an outbox message id): the same on every retry."""
    def derive(label: str) -> str:
        mac = hmac.new(key, f"{seed}:{label}".encode(), hashlib.sha256).digest()
        return b64u_encode(mac)

    return derive("access"), derive("refresh")


def mint(p: TransferProcess, now: datetime, key: bytes | None = None,
         seed: str | None = None) -> tuple[str, str, list[Token]]:
    """An (access, refresh) secret pair for P and the hashed records to store: derived from
    KEY and SEED when given (a START sent later), else random (a refresh answered now)."""
    if key is not None and seed is not None:
        access, refresh = secrets_for(key, seed)
    else:
        access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    dataset = p.dataset_id or ""
    records = [
        Token(digest(access), TokenKind.ACCESS, p.id, p.agreement_id, dataset, now + ACCESS_TTL),
        Token(digest(refresh), TokenKind.REFRESH, p.id, p.agreement_id, dataset, now + REFRESH_TTL),
    ]
    return access, refresh, records


def _policy_json(agreement: dict[str, Any]) -> str:
    body = {k: v for k, v in agreement.items() if k not in (SIGNATURE, "@context")}
    return json.dumps(body, sort_keys=True)


@lru_cache(maxsize=256)
def _compiled(text: str) -> CompiledPolicy:
    return compile_policy(parse_policy({"@context": DEFAULT_CONTEXT, **json.loads(text)}))


def agreement_time(agreement: dict[str, Any]) -> datetime | None:
    stamp = agreement.get("timestamp")
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")) if isinstance(stamp, str) else None
    except ValueError:
        return None


def refusal(agreement: dict[str, Any], *, now: datetime, requester: str, uses: int,
            purpose: str | None, membership: Iterable[str] = (),
            payment: Payment | None = None) -> str | None:
    """Why the agreement does not allow one more access now (None: it does)."""
    try:
        policy = _compiled(_policy_json(agreement))
    except Exception as exc:  # noqa: BLE001 - the policy library's errors: an unusable agreement
        return f"the agreement is not a usable ODRL policy: {exc}"
    context = Context(now=now, requester=requester, scope=Scope.TRANSFER, count=uses,
                      agreement_time=agreement_time(agreement), purpose=purpose,
                      claims={"membership": frozenset(membership)}, payment=payment)
    decision = evaluate(policy, Request(READ), context)
    if decision.allowed:
        return None
    return "the agreement does not allow this access: " + "; ".join(r.message for r in decision.reasons)[:400]
