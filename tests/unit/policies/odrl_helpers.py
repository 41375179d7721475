"""Small builders shared by the policies unit tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from policies.compile import CompiledPolicy, compile_policy
from policies.evaluate import Decision, Request, evaluate
from policies.operands import Context
from policies.parse import parse_policy

ODRL = "http://www.w3.org/ns/odrl/2/"
C = "https://w3id.org/communs/odrl/"
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
ALICE = "did:web:alice.example"
DATA = "urn:dataset:1"
CONTEXT = ["http://www.w3.org/ns/odrl.jsonld", {"communs": C}]


def policy(
    permissions: list[dict] | None = None,
    prohibitions: list[dict] | None = None,
    **extra: Any,
) -> CompiledPolicy:
    doc: dict[str, Any] = {"@context": CONTEXT, "@type": "Set", "uid": "urn:policy:test", **extra}
    if permissions is not None:
        doc["permission"] = permissions
    if prohibitions is not None:
        doc["prohibition"] = prohibitions
    return compile_policy(parse_policy(doc))


def c(left: str, operator: str, right: Any, **extra: Any) -> dict[str, Any]:
    return {"leftOperand": left, "operator": operator, "rightOperand": right, **extra}


def ctx(**kw: Any) -> Context:
    kw.setdefault("now", NOW)
    kw.setdefault("requester", ALICE)
    return Context(**kw)


def decide(
    cp: CompiledPolicy, action: str = "use", target: str | None = DATA, **kw: Any
) -> Decision:
    return evaluate(cp, Request(ODRL + action if ":" not in action else action, target), ctx(**kw))
