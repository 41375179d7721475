"""The evaluator: constraints, logical constraints, refinements, duties, conflicts, scopes."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from odrl_helpers import ALICE, DATA, NOW, ODRL, c, ctx, decide, policy

from policies.evaluate import ReasonCode, Request, explain
from policies.operands import DutyMode, DutyState, Payment, Scope

R = ReasonCode


def test_closed_world_and_action_hierarchy() -> None:
    cp = policy([{"action": "use", "target": DATA}])
    assert decide(cp, "read").allowed  # read is included in use
    assert decide(cp, "display").allowed  # display < play < use
    assert decide(cp, C_COMPUTE).allowed
    sell = decide(cp, "sell")  # sell is included in transfer, not use
    assert not sell.allowed and sell.codes == (R.NO_PERMISSION,)
    assert not decide(cp, "use", target="urn:dataset:2").allowed
    assert decide(cp, "use", target=None).allowed  # None: the policy's own asset


C_COMPUTE = "https://w3id.org/communs/odrl/compute"


def test_assignee_and_party_collections() -> None:
    cp = policy([{"action": "use", "assignee": "urn:team"}])
    assert not decide(cp).allowed
    assert decide(cp, part_of={ALICE: frozenset({"urn:team"})}).allowed
    assert not decide(cp, requester=None).allowed


def test_policy_level_properties_apply_to_every_rule() -> None:
    cp = policy([{"action": "use"}], assignee="urn:bob", target=DATA)
    assert not decide(cp).allowed
    assert decide(cp, requester="urn:bob").allowed
    assert not decide(cp, requester="urn:bob", target="urn:other").allowed


@pytest.mark.parametrize(
    ("operator", "right", "allowed"),
    [
        ("lt", "2026-06-01T12:00:01Z", True),
        ("lt", "2026-06-01T12:00:00Z", False),
        ("lteq", "2026-06-01T12:00:00Z", True),
        ("gt", "2026-06-01T11:59:59Z", True),
        ("gteq", "2026-06-01T12:00:01Z", False),
        ("eq", "2026-06-01T12:00:00Z", True),
        ("neq", "2026-06-01T12:00:00Z", False),
        ("lt", {"@value": "2026-06-02", "@type": "xsd:date"}, True),
        ("lt", {"@value": "2026-06-01", "@type": "xsd:date"}, False),
    ],
)
def test_date_time_constraints(operator: str, right: object, allowed: bool) -> None:
    cp = policy([{"action": "use", "constraint": [c("dateTime", operator, right)]}])
    decision = decide(cp)
    assert decision.allowed is allowed
    if not allowed:
        assert decision.codes == (R.CONSTRAINT_UNSATISFIED,)


def test_unknown_left_operand_denies_with_reason() -> None:
    cp = policy([{"action": "use", "constraint": [c("http://example.com/weather", "eq", "sunny")]}])
    decision = decide(cp)
    assert not decision.allowed
    assert decision.codes == (R.UNEVALUABLE,)
    assert "unknown left operand <http://example.com/weather>" in decision.reasons[0].message
    assert any("weather" in issue for issue in cp.issues)
    # ... unless the caller vouches for a value.
    assert decide(cp, values={"http://example.com/weather": "sunny"}).allowed


def test_unevaluable_constraints_deny() -> None:
    ill_typed = policy([{"action": "use", "constraint": [c("count", "lt", "many")]}])
    assert decide(ill_typed).codes == (R.UNEVALUABLE,)
    mismatched = policy(
        [
            {
                "action": "use",
                "constraint": [c("dateTime", "lt", {"@value": "5", "@type": "xsd:integer"})],
            }
        ]
    )
    assert decide(mismatched).codes == (R.UNEVALUABLE,)
    unordered = policy([{"action": "use", "constraint": [c("purpose", "lt", "research")]}])
    assert decide(unordered, purpose="education").codes == (R.UNEVALUABLE,)
    missing = policy([{"action": "use", "constraint": [c("purpose", "eq", "research")]}])
    assert decide(missing).codes == (R.UNEVALUABLE,)
    unknown_op = policy(
        [{"action": "use", "constraint": [c("purpose", "http://example.com/like", "x")]}]
    )
    assert decide(unknown_op, purpose="x").codes == (R.UNEVALUABLE,)
    reference = policy(
        [
            {
                "action": "use",
                "constraint": [
                    {
                        "leftOperand": "purpose",
                        "operator": "eq",
                        "rightOperandReference": "http://example.com/purposes",
                    }
                ],
            }
        ]
    )
    assert decide(reference, purpose="x").codes == (R.UNEVALUABLE,)


def test_unevaluable_prohibition_denies() -> None:
    cp = policy(
        [{"action": "use"}],
        [{"action": "use", "constraint": [c("http://example.com/risk", "gt", 3)]}],
        conflict="perm",
    )
    assert decide(cp).allowed  # perm: permissions override even an active prohibition
    cp = policy(
        [{"action": "use"}],
        [{"action": "use", "constraint": [c("http://example.com/risk", "gt", 3)]}],
        conflict="prohibit",
    )
    decision = decide(cp)
    assert not decision.allowed and decision.codes == (R.PROHIBITED, R.UNEVALUABLE)


def _logical(kind: str, *constraints: dict) -> object:
    return policy([{"action": "use", "constraint": [{kind: list(constraints)}]}])


YES = c("purpose", "eq", "research")
NO = c("purpose", "eq", "marketing")
ERR = c("http://example.com/unknown", "eq", "x")


@pytest.mark.parametrize(
    ("kind", "operands", "expected"),
    [
        ("or", (NO, YES), True),
        ("or", (NO, NO), R.CONSTRAINT_UNSATISFIED),
        ("or", (ERR, YES), True),  # one operand holds: the or holds whatever the other is
        ("or", (ERR, NO), R.UNEVALUABLE),
        ("xone", (YES, NO), True),
        ("xone", (YES, YES), R.CONSTRAINT_UNSATISFIED),
        ("xone", (YES, ERR), R.UNEVALUABLE),
        ("and", (YES, YES), True),
        ("and", (YES, NO), R.CONSTRAINT_UNSATISFIED),
        ("and", (ERR, NO), R.CONSTRAINT_UNSATISFIED),
        ("and", (ERR, YES), R.UNEVALUABLE),
        ("andSequence", (YES, YES), True),
        ("andSequence", (ERR, NO), R.UNEVALUABLE),  # stops at the first that does not hold
    ],
)
def test_logical_constraints(kind: str, operands: tuple, expected: object) -> None:
    decision = decide(_logical(kind, *operands), purpose="research")
    if expected is True:
        assert decision.allowed
    else:
        assert not decision.allowed and expected in decision.codes


def test_nested_logical_constraint() -> None:
    cp = _logical("or", {"and": [YES, c("count", "lteq", 2)]}, c("spatial", "eq", "DE"))
    assert decide(cp, purpose="research", count=1).allowed
    assert not decide(cp, purpose="research", count=2, spatial="FR").allowed
    assert decide(cp, purpose="marketing", spatial="DE").allowed


def test_refinements_narrow_the_action() -> None:
    cp = policy(
        [
            {
                "action": [
                    {
                        "rdf:value": {"@id": "odrl:print"},
                        "refinement": [c("resolution", "lteq", 1200)],
                    }
                ]
            }
        ]
    )
    res = ODRL + "resolution"
    assert decide(cp, "print", values={res: 1000}).allowed
    refused = decide(cp, "print", values={res: 1300})
    assert not refused.allowed and refused.codes == (R.CONSTRAINT_UNSATISFIED,)
    assert decide(cp, "print").codes == (R.UNEVALUABLE,)
    assert not decide(cp, "play", values={res: 1000}).allowed


def test_compute_refinements() -> None:
    cp = policy(
        [
            {
                "action": [
                    {
                        "rdf:value": {"@id": "communs:compute"},
                        "refinement": [
                            c("communs:algorithm", "isAnyOf", ["sha256:aa"]),
                            c("communs:outputSize", "lteq", 1000),
                        ],
                    }
                ]
            }
        ]
    )
    alg, size = (
        "https://w3id.org/communs/odrl/algorithm",
        "https://w3id.org/communs/odrl/outputSize",
    )
    assert decide(cp, C_COMPUTE, values={alg: "sha256:aa", size: 10}).allowed
    assert not decide(cp, C_COMPUTE, values={alg: "sha256:bb", size: 10}).allowed
    assert not decide(cp, C_COMPUTE, values={alg: "sha256:aa", size: 1001}).allowed
    assert not decide(cp, "read", values={alg: "sha256:aa", size: 10}).allowed  # compute only


def test_usage_operands() -> None:
    cp = policy(
        [
            {
                "action": "use",
                "constraint": [
                    c("count", "lteq", 3),
                    c("elapsedTime", "lteq", {"@value": "P7D", "@type": "xsd:duration"}),
                ],
            }
        ]
    )
    start = NOW - timedelta(days=6)
    assert decide(cp, count=2, agreement_time=start).allowed
    assert not decide(cp, count=3, agreement_time=start).allowed
    assert not decide(cp, count=0, agreement_time=NOW - timedelta(days=8)).allowed
    no_agreement = decide(cp, count=0)
    assert not no_agreement.allowed and no_agreement.codes == (R.UNEVALUABLE,)


def test_usage_operands_are_deferred_before_agreement() -> None:
    cp = policy(
        [
            {
                "action": "use",
                "constraint": [
                    c("count", "lteq", 3),
                    c("payAmount", "gteq", 5),
                    c("communs:membership", "eq", {"@id": "did:web:issuer"}),
                ],
            }
        ]
    )
    member = {"membership": frozenset({"did:web:issuer"})}
    for scope in (Scope.CATALOG, Scope.NEGOTIATION):
        decision = decide(cp, scope=scope, claims=member)
        assert decision.allowed
        assert decision.codes.count(R.DEFERRED) == 2
        assert not decide(cp, scope=scope).allowed  # access operands are never deferred
    assert not decide(cp, scope=Scope.TRANSFER, claims=member).allowed  # no payment


def test_credential_claims() -> None:
    cp = policy(
        [
            {
                "action": "use",
                "constraint": [
                    c("communs:role", "isAllOf", ["analyst", "employee"]),
                    c("communs:country", "isPartOf", ["EU"]),
                ],
            }
        ]
    )
    claims = {"role": frozenset({"analyst", "employee", "admin"}), "country": frozenset({"FR"})}
    eu = {"FR": frozenset({"EU"})}
    assert decide(cp, claims=claims, part_of=eu).allowed
    assert not decide(cp, claims=claims).allowed
    assert not decide(cp, claims={**claims, "role": frozenset({"analyst"})}, part_of=eu).allowed


def test_recipient_defaults_to_requester() -> None:
    cp = policy([{"action": "use", "constraint": [c("recipient", "eq", {"@id": ALICE})]}])
    assert decide(cp).allowed
    assert not decide(cp, recipient="did:web:mallory").allowed


# --- conflicts ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("conflict", "allowed", "code"),
    [
        ("perm", True, R.PERMITTED),
        ("prohibit", False, R.PROHIBITED),
        ("invalid", False, R.CONFLICT),
        (None, False, R.CONFLICT),
    ],
)
def test_conflict_strategies(conflict: str | None, allowed: bool, code: ReasonCode) -> None:
    extra = {"conflict": conflict} if conflict else {}
    cp = policy([{"action": "use"}], [{"action": "distribute"}], **extra)
    decision = decide(cp, "distribute")
    assert decision.allowed is allowed and decision.codes[0] is code
    assert decide(cp, "read").allowed  # no conflict on read


def test_inactive_prohibition_is_no_conflict() -> None:
    cp = policy([{"action": "use"}], [{"action": "use", "constraint": [c("spatial", "eq", "XX")]}])
    assert decide(cp, spatial="FR").allowed
    assert not decide(cp, spatial="XX").allowed


# --- duties --------------------------------------------------------------------------------

PAY = {
    "@id": "urn:duty:pay",
    "action": [
        {
            "rdf:value": {"@id": "odrl:compensate"},
            "refinement": [
                c(
                    "payAmount",
                    "eq",
                    {"@value": "5.00", "@type": "xsd:decimal"},
                    unit="http://dbpedia.org/resource/Euro",
                )
            ],
        }
    ],
}
EURO = "http://dbpedia.org/resource/Euro"


def test_duty_precondition_and_payment() -> None:
    cp = policy([{"action": "use", "duty": [PAY]}])
    unpaid = decide(cp)
    assert not unpaid.allowed and R.DUTY_NOT_FULFILLED in unpaid.codes
    (pay,) = unpaid.duties  # the denial says what would unlock the permission
    assert pay.name == "urn:duty:pay" and pay.before_use
    assert decide(cp, payment=Payment(Decimal("5"), EURO)).allowed
    assert not decide(
        cp, payment=Payment(Decimal("5"), "http://dbpedia.org/resource/Dollar")
    ).allowed
    assert not decide(cp, payment=Payment(Decimal("4.99"), EURO)).allowed
    assert not decide(cp, payment=Payment(Decimal("5"), EURO, duty="urn:duty:other")).allowed
    assert decide(cp, duty_states={"urn:duty:pay": DutyState.FULFILLED}).allowed


def test_duty_eventual_is_returned_as_due() -> None:
    cp = policy([{"action": "use", "duty": [{"@id": "urn:duty:log", "action": "inform"}]}])
    decision = decide(cp, duty_mode=DutyMode.EVENTUAL)
    assert decision.allowed
    (due,) = decision.duties
    assert due.name == "urn:duty:log" and due.state is DutyState.NOT_SET and not due.before_use
    assert not decide(cp).allowed  # precondition by default
    assert decide(cp, scope=Scope.NEGOTIATION).allowed  # duties are agreed, not yet done


def test_violated_duty_brings_its_consequences() -> None:
    duty = {
        "@id": "urn:duty:delete",
        "action": "delete",
        "consequence": [{"@id": "urn:duty:fine", "action": "compensate"}],
    }
    cp = policy([{"action": "use", "duty": [duty]}])
    decision = decide(
        cp, duty_mode=DutyMode.EVENTUAL, duty_states={"urn:duty:delete": DutyState.VIOLATED}
    )
    assert not decision.allowed and decision.codes == (R.DUTY_VIOLATED,)
    (fine,) = decision.duties  # what is now due to make up for it
    assert fine.name == "urn:duty:fine" and fine.origin == "consequence"


def test_duty_with_unsatisfied_constraint_does_not_apply() -> None:
    duty = {"action": "inform", "constraint": [c("spatial", "eq", "DE")]}
    cp = policy([{"action": "use", "duty": [duty]}])
    assert decide(cp, spatial="FR").allowed
    assert not decide(cp, spatial="DE").allowed


def test_event_timing_overrides_mode() -> None:
    after = {"action": "delete", "constraint": [c("event", "gt", {"@id": "odrl:policyUsage"})]}
    before = {"action": "inform", "constraint": [c("event", "lt", {"@id": "odrl:policyUsage"})]}
    assert decide(policy([{"action": "use", "duty": [after]}])).allowed
    assert not decide(
        policy([{"action": "use", "duty": [before]}]), duty_mode=DutyMode.EVENTUAL
    ).allowed


def test_the_permission_with_fewest_duties_is_chosen() -> None:
    cp = policy([{"action": "use", "duty": [{"action": "inform"}]}, {"action": "read"}])
    decision = decide(cp, "read", duty_mode=DutyMode.EVENTUAL)
    assert decision.allowed and decision.duties == ()


def test_obligations_are_reported() -> None:
    cp = policy(
        [{"action": "use"}],
        obligation=[
            {"@id": "urn:duty:report", "action": "inform", "assigner": "urn:a", "assignee": "urn:b"}
        ],
    )
    (due,) = decide(cp).duties
    assert due.origin == "obligation" and due.name == "urn:duty:report"


def test_explain_reports_every_rule() -> None:
    cp = policy(
        [
            {"action": "read", "assignee": ALICE},
            {"action": "use", "constraint": [c("purpose", "eq", "x")]},
        ],
        [{"action": "sell"}],
    )
    reports = explain(cp, Request(ODRL + "read", DATA), ctx(purpose="y"))
    assert [r.active for r in reports] == [True, False, False]
    assert (
        reports[0].party is True and reports[1].constraint is False and reports[2].action is False
    )


def test_explain_agrees_on_unevaluable_rules() -> None:
    unknown = c("http://example.com/risk", "gt", 3)
    cp = policy(
        [{"action": "use", "constraint": [unknown]}], [{"action": "use", "constraint": [unknown]}]
    )
    permission, prohibition = explain(cp, Request(ODRL + "use", DATA), ctx())
    assert not permission.active and permission.constraint is False
    assert prohibition.active and prohibition.constraint is True
    assert permission.reasons[0].code is R.UNEVALUABLE


def test_decision_is_a_value() -> None:
    cp = policy([{"action": "use"}])
    a, b = decide(cp), decide(cp)
    assert a == b and hash(a) == hash(b)
    with pytest.raises(AttributeError):
        a.allowed = False  # type: ignore[misc]
