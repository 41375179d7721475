"""Every ODRL policy in the Dataspace Protocol 2025-1 examples parses and evaluates.

The DSP context defines no ODRL left-operand terms, so its examples' `"leftOperand":
"dateTime"` expands to a relative IRI: the parser reads ODRL core names as ODRL's. Its
offers carry no assigner (ODRL 2.2 wants one): accepted. Its untyped "2023-12-31T06:00Z"
(no seconds) is read as ISO 8601, since it does not claim to be an xsd:dateTime.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from odrl_suites import SPECS

from policies.evaluate import ReasonCode, Request, evaluate, explain
from policies.model import Constraint
from policies.operands import Context, Scope
from policies.parse import parse_policies

DSP = SPECS.parent / "dsp" / "2025-1"
EXAMPLES = sorted(p for p in DSP.glob("*/example/*.json") if '"permission"' in p.read_text())
ODRL = "http://www.w3.org/ns/odrl/2/"


def test_examples_found() -> None:
    assert len(EXAMPLES) == 8


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_parses_and_evaluates(path: Path) -> None:
    (policy,) = parse_policies(json.loads(path.read_text()))
    first = policy.permissions[0].constraints
    assert not first or (isinstance(first[0], Constraint) and first[0].left.startswith(ODRL))
    ctx = Context(
        datetime(2023, 6, 1, tzinfo=UTC),
        requester="urn:consumer",
        spatial="http://example.org/EU",
        scope=Scope.NEGOTIATION,
    )
    decision = evaluate(policy, Request(ODRL + "use"), ctx)
    assert decision.reasons


def test_agreement_time_window() -> None:
    (path,) = [p for p in EXAMPLES if p.name == "contract-agreement-message.json"]
    (policy,) = parse_policies(json.loads(path.read_text()))
    who = policy.assignees[0]
    before = Context(datetime(2023, 12, 31, 6, tzinfo=UTC), requester=who)
    after = Context(datetime(2023, 12, 31, 6, 0, 1, tzinfo=UTC), requester=who)
    assert evaluate(policy, Request(ODRL + "use"), before).allowed
    late = evaluate(policy, Request(ODRL + "use"), after)
    assert not late.allowed and late.codes == (ReasonCode.CONSTRAINT_UNSATISFIED,)


def test_full_agreement_with_profile_specific_operands() -> None:
    """ "partner" is no ODRL term: unknown (unevaluable) unless the connector supplies it."""
    (path,) = [p for p in EXAMPLES if p.name == "contract-agreement-message-full.json"]
    (policy,) = parse_policies(json.loads(path.read_text()))
    assert len(policy.permissions) == 7
    who = policy.assignees[0]
    now = datetime(2023, 6, 1, tzinfo=UTC)
    use = Request(ODRL + "use")
    silver = [
        r.active for r in explain(policy, use, Context(now, who, values={"partner": "silver"}))
    ]
    # dateTime, and(gold, silver), or(gold, silver), gold, andSequence, xone, or(and(...), silver)
    assert silver == [True, False, True, False, False, True, True]
    unknown = explain(policy, use, Context(now, who))
    assert [r.active for r in unknown] == [True] + [False] * 6
    assert all(ReasonCode.UNEVALUABLE in {x.code for x in r.reasons} for r in unknown[1:])
