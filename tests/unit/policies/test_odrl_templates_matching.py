"""Policy templates (what they allow) and offer matching (negotiation)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from odrl_helpers import ALICE, DATA, NOW, ODRL, C, ctx

from policies.compile import compile_policy
from policies.evaluate import ReasonCode, Request, evaluate
from policies.matching import agreement_from, equivalent, implies, matches
from policies.model import Constraint, Literal, PolicyType
from policies.operands import Payment, Scope
from policies.templates import (
    EURO,
    compute_offer,
    count_limited_offer,
    from_template,
    members_offer,
    open_offer,
    pay_per_use_offer,
    purpose_offer,
    time_limited_offer,
)

PROVIDER = "did:web:provider.example"
ISSUER = "did:web:registry.example"


def allowed(policy, action: str = "use", **kw) -> bool:
    return evaluate(
        compile_policy(policy),
        Request(ODRL + action if ":" not in action else action, DATA),
        ctx(**kw),
    ).allowed


def test_open() -> None:
    p = open_offer("urn:o", PROVIDER, DATA)
    assert p.type is PolicyType.OFFER and p.assigner == PROVIDER
    assert allowed(p) and allowed(p, requester=None)
    assert not allowed(p, "sell")


def test_members() -> None:
    p = members_offer("urn:o", PROVIDER, [ISSUER])
    assert allowed(p, claims={"membership": frozenset({ISSUER})})
    assert not allowed(p, claims={"membership": frozenset({"did:web:rogue"})})
    assert not allowed(p)
    assert allowed(p, scope=Scope.CATALOG, claims={"membership": frozenset({ISSUER})})
    assert not allowed(p, scope=Scope.CATALOG)  # the catalog hides it from non-members
    with pytest.raises(ValueError):
        members_offer("urn:o", PROVIDER, [])


def test_time_limited() -> None:
    p = time_limited_offer(
        "urn:o",
        PROVIDER,
        not_before=NOW - timedelta(days=1),
        not_after=NOW + timedelta(days=1),
        for_duration="P7D",
    )
    assert allowed(p, agreement_time=NOW - timedelta(days=2))
    assert not allowed(p, agreement_time=NOW - timedelta(days=8))
    assert not allowed(p, now=NOW + timedelta(days=2), agreement_time=NOW)
    with pytest.raises(ValueError):
        time_limited_offer("urn:o", PROVIDER)


def test_purpose_and_count() -> None:
    research = "https://w3id.org/dpv#ResearchAndDevelopment"
    assert allowed(purpose_offer("urn:o", PROVIDER, [research]), purpose=research)
    assert not allowed(
        purpose_offer("urn:o", PROVIDER, [research]), purpose="https://w3id.org/dpv#Marketing"
    )
    assert allowed(count_limited_offer("urn:o", PROVIDER, 2), count=1)
    assert not allowed(count_limited_offer("urn:o", PROVIDER, 2), count=2)


def test_pay_per_use() -> None:
    p = pay_per_use_offer("urn:o", PROVIDER, Decimal("2.50"))
    unpaid = evaluate(compile_policy(p), Request(ODRL + "use", DATA), ctx())
    assert not unpaid.allowed and ReasonCode.DUTY_NOT_FULFILLED in unpaid.codes
    assert allowed(p, payment=Payment(Decimal("2.50"), EURO))
    assert allowed(p, scope=Scope.NEGOTIATION)  # agreeing to pay is enough to negotiate


def test_compute() -> None:
    p = compute_offer("urn:o", PROVIDER, algorithms=["sha256:aa"], max_output_bytes=100, max_runs=3)
    values = {C + "algorithm": "sha256:aa", C + "outputSize": 50}
    assert allowed(p, C + "compute", values=values)
    assert not allowed(p, C + "compute", values=values, count=3)
    assert not allowed(p, C + "compute", values={**values, C + "algorithm": "sha256:zz"})
    assert not allowed(p, "read", values=values)
    # In the catalog (any action) and in negotiation, refinements wait for usage time.
    visible = evaluate(compile_policy(p), Request(None, DATA), ctx(scope=Scope.CATALOG))
    assert visible.allowed and ReasonCode.DEFERRED in visible.codes
    assert allowed(p, C + "compute", scope=Scope.NEGOTIATION)


def test_unknown_template() -> None:
    with pytest.raises(ValueError, match="unknown policy template"):
        from_template("everything", "urn:o", PROVIDER)


# --- matching ---------------------------------------------------------------------------


def _count(n: int, op: str = "lteq") -> Constraint:
    return Constraint(ODRL + "count", ODRL + op, (Literal(str(n)),))


def test_implies() -> None:
    assert implies(_count(5), _count(10))
    assert implies(_count(10), _count(10))
    assert not implies(_count(11), _count(10))
    assert implies(_count(10, "lt"), _count(10, "lteq"))
    assert not implies(_count(10, "lteq"), _count(10, "lt"))
    later = Constraint(ODRL + "dateTime", ODRL + "gt", (Literal("2025-01-01T00:00:00Z"),))
    earlier = Constraint(ODRL + "dateTime", ODRL + "gt", (Literal("2024-01-01T00:00:00Z"),))
    assert implies(later, earlier) and not implies(earlier, later)
    narrow = Constraint(ODRL + "purpose", ODRL + "isAnyOf", (Literal("a"),))
    wide = Constraint(ODRL + "purpose", ODRL + "isAnyOf", (Literal("a"), Literal("b")))
    assert implies(narrow, wide) and not implies(wide, narrow)
    assert implies(Constraint(ODRL + "purpose", ODRL + "eq", (Literal("b"),)), wide)
    assert not implies(_count(5), Constraint(ODRL + "spatial", ODRL + "lteq", (Literal("5"),)))


def test_equal_offer_matches() -> None:
    offer = members_offer("urn:o", PROVIDER, [ISSUER], DATA)
    copy = replace(offer, uid="urn:request")
    assert matches(copy, offer).ok and equivalent(copy, offer)


def test_narrower_request_matches_wider_does_not() -> None:
    offer = count_limited_offer("urn:o", PROVIDER, 10, DATA)
    rule = offer.permissions[0]
    narrower = replace(offer, permissions=(replace(rule, constraints=(_count(5),)),))
    assert matches(narrower, offer).ok
    wider = replace(offer, permissions=(replace(rule, constraints=(_count(20),)),))
    result = matches(wider, offer)
    assert not result.ok and "count" in result.reasons[0]
    dropped = replace(offer, permissions=(replace(rule, constraints=()),))
    assert not matches(dropped, offer).ok


def test_actions_duties_prohibitions_must_stay() -> None:
    offer = pay_per_use_offer("urn:o", PROVIDER, Decimal(1))
    rule = offer.permissions[0]
    no_duty = replace(offer, permissions=(replace(rule, duties=()),))
    assert not matches(no_duty, offer).ok
    read_only = replace(
        offer, permissions=(replace(rule, actions=(replace(rule.actions[0], iri=ODRL + "read"),)),)
    )
    assert matches(read_only, offer).ok
    sell = replace(
        offer, permissions=(replace(rule, actions=(replace(rule.actions[0], iri=ODRL + "sell"),)),)
    )
    assert not matches(sell, offer).ok
    with_prohibition = replace(
        offer, prohibitions=(replace(rule, kind=rule.kind.PROHIBITION, duties=()),)
    )
    assert not matches(offer, with_prohibition).ok
    assert not matches(replace(offer, assigner="did:web:other"), offer).ok
    assert not matches(
        replace(offer, targets=("urn:elsewhere",)), replace(offer, targets=(DATA,))
    ).ok


def test_agreement_from_offer() -> None:
    offer = open_offer("urn:o", PROVIDER, DATA)
    agreement = agreement_from(offer, "urn:agreement:1", ALICE)
    assert agreement.type is PolicyType.AGREEMENT and agreement.assignees == (ALICE,)
    assert allowed(agreement) and not allowed(agreement, requester="did:web:mallory")
    with pytest.raises(ValueError):
        agreement_from(replace(offer, assigner=None), "urn:a", ALICE)
