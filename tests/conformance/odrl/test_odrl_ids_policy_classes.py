"""IDS-G usage-control policy classes: every example that is valid JSON parses and evaluates.

The examples come without requests or expected results, so besides "parses and evaluates to
a decision with reasons", a few classes get requests and expectations of our own.
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from odrl_suites import IDS_POLICIES, ids_examples

from policies.compile import compile_policy
from policies.errors import PolicyError, PolicyReason
from policies.evaluate import ReasonCode, Request, evaluate
from policies.literals import parse_datetime
from policies.operands import Context, DutyMode, Payment, Scope
from policies.parse import parse_policy

ODRL = "http://www.w3.org/ns/odrl/2/"
EXAMPLES = dict(ids_examples())
VALID = sorted(name for name, doc in EXAMPLES.items() if doc is not None)
INVALID_JSON = sorted(name for name, doc in EXAMPLES.items() if doc is None)
CONSUMER = "http://example.com/ids/party/456"
DATA = "http://example.com/ids/data/789"
NOW = parse_datetime("2022-07-01T12:00:00Z")

# Valid JSON, invalid JSON-LD: "@type": "anyURI" is not an absolute IRI (its context declares
# no such term), which JSON-LD 1.1 rejects (invalid typed value).
NOT_JSONLD = {"ids-complex-policy-example.json"}


def test_counts_match_sources() -> None:
    # SOURCES.md says "9 of the 56 copied JSON files"; the folder holds 55 (46 valid JSON).
    assert len(EXAMPLES) == 55 and len(INVALID_JSON) == 9 and len(VALID) == 46


@pytest.mark.parametrize("name", INVALID_JSON)
def test_invalid_json_is_a_clear_error(name: str) -> None:
    with pytest.raises(PolicyError) as err:
        parse_policy((IDS_POLICIES / name).read_text())
    assert err.value.reason is PolicyReason.NOT_JSON


@pytest.mark.parametrize("name", VALID)
def test_parses_and_evaluates(name: str) -> None:
    doc = EXAMPLES[name]
    if name in NOT_JSONLD:
        with pytest.raises(PolicyError) as err:
            parse_policy(doc)
        assert err.value.reason is PolicyReason.INVALID_JSONLD
        doc = json.loads(json.dumps(doc).replace('"@type": "anyURI"', '"@type": "xsd:anyURI"'))
    policy = parse_policy(doc)
    assert policy.rules
    compiled = compile_policy(policy)
    ctx = Context(now=NOW, requester=CONSUMER, purpose="Research")
    for rule in policy.rules:
        for action in rule.actions or ():
            decision = evaluate(compiled, Request(action.iri), ctx)
            assert decision.reasons
            assert all(r.message for r in decision.reasons)


def _policy(name: str):
    return compile_policy(parse_policy(EXAMPLES[name]))


def test_pc1_restrict_consumer_two_actions() -> None:
    policy = _policy("pc1-odrl-restrict-consumer-example.json")
    for action in ("use", "distribute", "read"):  # read is included in use
        assert evaluate(policy, Request(ODRL + action, DATA), Context(NOW, CONSUMER)).allowed
    assert not evaluate(policy, Request(ODRL + "sell", DATA), Context(NOW, CONSUMER)).allowed
    assert not evaluate(policy, Request(ODRL + "use", DATA), Context(NOW, "did:web:other")).allowed


@pytest.mark.parametrize(
    ("name", "purpose", "allowed"),
    [
        ("pc6-odrl-restrict-purpose-example.json", "Research", True),
        ("pc6-odrl-restrict-purpose-example.json", "Marketing", False),
        ("pc6-odrl-restrict-purpose-example2.json", "Risk Management", True),
        ("pc6-odrl-restrict-purpose-example2.json", "Research", False),
        ("pc6-odrl-restrict-purpose-example3.json", "Research", False),  # reference: never fetched
    ],
)
def test_pc6_purpose(name: str, purpose: str, allowed: bool) -> None:
    ctx = Context(NOW, CONSUMER, purpose=purpose)
    assert evaluate(_policy(name), Request(ODRL + "read", DATA), ctx).allowed is allowed


def test_pc9_time_interval() -> None:
    policy = _policy("pc9-odrl-restrict-time-interval-example.json")
    inside = Context(NOW, CONSUMER)
    outside = Context(parse_datetime("2022-10-01T08:00:01Z"), CONSUMER)
    assert evaluate(policy, Request(ODRL + "use", DATA), inside).allowed
    assert not evaluate(policy, Request(ODRL + "use", DATA), outside).allowed


def test_pc10_elapsed_time_eq_is_an_allowance() -> None:
    """ODRL vocabulary: `elapsedTime eq P3M` grants three months from the agreement."""
    policy = _policy("pc10-odrl-restrict-duration-offer-example.json")
    start = parse_datetime("2022-05-31T00:00:00Z")
    request = Request(ODRL + "use", DATA)
    in_time = Context(start + timedelta(days=91), CONSUMER, agreement_time=start)
    late = Context(start + timedelta(days=93), CONSUMER, agreement_time=start)
    assert evaluate(policy, request, in_time).allowed  # 2022-08-30 < 2022-08-31
    assert not evaluate(policy, request, late).allowed
    assert evaluate(policy, request, Context(NOW, CONSUMER, scope=Scope.NEGOTIATION)).allowed


def test_pc10_ids_flavour_shorter_eq() -> None:
    policy = _policy("pc10-ids-restrict-duration-offer-example.json")
    start = parse_datetime("2022-01-01T00:00:00Z")
    ok = Context(parse_datetime("2024-03-31T00:00:00Z"), CONSUMER, agreement_time=start)
    late = Context(parse_datetime("2024-04-02T00:00:00Z"), CONSUMER, agreement_time=start)
    assert evaluate(policy, Request(ODRL + "use"), ok).allowed
    assert not evaluate(policy, Request(ODRL + "use"), late).allowed


def test_pc11_count() -> None:
    policy = _policy("pc11-odrl-restrict-number-of-usage-example.json")
    request = Request(ODRL + "use", DATA)
    assert evaluate(policy, request, Context(NOW, CONSUMER, count=9)).allowed  # 10th use
    assert not evaluate(policy, request, Context(NOW, CONSUMER, count=10)).allowed


def test_pc12_delete_duty_is_returned_as_due() -> None:
    policy = _policy("pc12-odrl-delete-data-example.json")
    ctx = Context(NOW, CONSUMER, duty_mode=DutyMode.EVENTUAL)
    decision = evaluate(policy, Request(ODRL + "print", DATA), ctx)
    assert decision.allowed
    (due,) = decision.duties
    assert due.duty.actions[0].iri == ODRL + "delete" and not due.before_use


def test_pc19_payment_duty_before_use() -> None:
    policy = _policy("pc19-odrl-restrict-payment-sale-example.json")
    request = Request(ODRL + "read", DATA)
    unpaid = evaluate(policy, request, Context(NOW, CONSUMER, duty_mode=DutyMode.EVENTUAL))
    assert not unpaid.allowed  # `event lt policyUsage`: before use, whatever the mode
    assert ReasonCode.DUTY_NOT_FULFILLED in unpaid.codes
    euro = "http://dbpedia.org/resource/Euro"
    paid = Context(NOW, CONSUMER, payment=Payment(Decimal("500.00"), euro))
    assert evaluate(policy, request, paid).allowed
    short = Context(NOW, CONSUMER, payment=Payment(Decimal("499.99"), euro))
    assert not evaluate(policy, request, short).allowed


def test_pc5_spatial_and_unknown_ids_operands() -> None:
    spatial = _policy("pc5-odrl-restrict-location-of-usage-example.json")
    de = "http://ontologi.es/place/DE"
    assert evaluate(
        spatial, Request(ODRL + "use", DATA), Context(NOW, CONSUMER, spatial=de)
    ).allowed
    connector = _policy("pc2-odrl-restrict-connector-example.json")
    decision = evaluate(connector, Request(ODRL + "derive", DATA), Context(NOW, CONSUMER))
    assert not decision.allowed and decision.codes == (ReasonCode.UNEVALUABLE,)
    assert "CONNECTOR" in decision.reasons[0].message


def test_ill_typed_date_time_stamps_deny_with_reason() -> None:
    """odrl-complex uses "2022-06-01T08:00Z": XSD requires seconds, so the bound is unreadable."""
    policy = _policy("odrl-complex-policy-example.json")
    assert any("ill-typed" in issue for issue in policy.issues)
