"""Parsing: JSON-LD (W3C ODRL and DSP 2025-1 contexts), RDF, IDS-IM, errors, round trips."""

from __future__ import annotations

import json

import pytest
from odrl_helpers import CONTEXT, ODRL

from policies.errors import PolicyError, PolicyReason
from policies.model import Constraint, Literal, LogicalConstraint, PolicyType, Ref, RuleKind
from policies.parse import parse_policies, parse_policy, parse_policy_rdf, to_jsonld
from policies.templates import TEMPLATES, from_template

DSP = "https://w3id.org/dspace/2025/1/context.jsonld"


def doc(**kw: object) -> dict:
    return {
        "@context": CONTEXT,
        "@type": "Set",
        "uid": "urn:p",
        "permission": [{"action": "use"}],
        **kw,
    }


def reason(document: object, **kw: object) -> PolicyReason:
    with pytest.raises(PolicyError) as err:
        parse_policy(document, **kw)  # type: ignore[arg-type]
    assert str(err.value)  # one clear sentence
    return err.value.reason


def test_minimal_set() -> None:
    p = parse_policy(doc())
    assert p.type is PolicyType.SET and p.uid == "urn:p"
    (rule,) = p.permissions
    assert rule.kind is RuleKind.PERMISSION and rule.actions[0].iri == ODRL + "use"


def test_malformed_policies_are_clear_errors() -> None:
    R = PolicyReason
    assert reason("{not json") is R.NOT_JSON
    assert reason("42") is R.NOT_JSON
    assert (
        reason({"@context": "https://example.com/ctx.jsonld", "@type": "Set"}) is R.INVALID_JSONLD
    )
    assert reason({"@context": CONTEXT, "@type": "Set", "uid": 5}) is R.INVALID_JSONLD
    assert reason({"@context": CONTEXT, "@id": "urn:x", "dct:title": "no policy"}) is R.NO_POLICY
    assert reason([doc(), doc(uid="urn:q")]) is R.AMBIGUOUS_POLICY
    assert reason({k: v for k, v in doc().items() if k != "uid"}) is R.MISSING_PROPERTY
    assert reason(doc(permission=[{"target": "urn:d"}])) is R.MISSING_PROPERTY
    assert (
        reason(
            doc(
                permission=[
                    {"action": "use", "constraint": [{"operator": "eq", "rightOperand": 1}]}
                ]
            )
        )
        is R.MISSING_PROPERTY
    )
    assert (
        reason(
            doc(
                permission=[
                    {"action": "use", "constraint": [{"leftOperand": "count", "rightOperand": 1}]}
                ]
            )
        )
        is R.MISSING_PROPERTY
    )
    assert (
        reason(
            doc(
                permission=[
                    {"action": "use", "constraint": [{"leftOperand": "count", "operator": "eq"}]}
                ]
            )
        )
        is R.MISSING_PROPERTY
    )
    assert (
        reason(doc(permission=[{"action": "use", "constraint": [{"and": []}]}]))
        is R.MISSING_PROPERTY
    )
    assert (
        reason(doc(permission=[{"action": "use", "constraint": ["count"]}])) is R.MISSING_PROPERTY
    )
    assert (
        reason(doc(permission=[{"action": "use", "constraint": [{"@value": "x"}]}]))
        is R.INVALID_VALUE
    )
    assert reason(doc(permission=[{"action": {"@id": "fly"}}])) is R.INVALID_VALUE
    assert reason(doc(conflict="maybe")) is R.UNKNOWN_CONFLICT_STRATEGY
    assert (
        reason(doc(**{"@type": "Agreement"}, assigner="urn:a")) is R.MISSING_PROPERTY
    )  # no assignee
    assert reason(doc(**{"@type": "Request"})) is R.INVALID_POLICY_TYPE
    assert reason(doc(assigner=["urn:a", "urn:b"])) is R.INVALID_VALUE


def test_offer_without_assigner_is_accepted() -> None:
    """ODRL 2.2 wants an assigner on an Offer; DSP 2025-1 catalogs and messages omit it."""
    assert parse_policy(doc(**{"@type": "Offer"})).assigner is None


def test_action_less_rules_only_when_asked() -> None:
    lenient = parse_policy(doc(permission=[{"target": "urn:d"}]), require_action=False)
    assert lenient.permissions[0].actions == ()


def test_w3c_context_neg_typo_reads_as_neq() -> None:
    p = parse_policy(
        doc(
            permission=[
                {
                    "action": "use",
                    "constraint": [
                        {"leftOperand": "purpose", "operator": "neq", "rightOperand": "x"}
                    ],
                }
            ]
        )
    )
    (constraint,) = p.permissions[0].constraints
    assert isinstance(constraint, Constraint) and constraint.operator == ODRL + "neq"


def test_dsp_contract_request_message() -> None:
    message = {
        "@context": DSP,
        "@type": "ContractRequestMessage",
        "providerPid": "urn:uuid:p",
        "consumerPid": "urn:uuid:c",
        "callbackAddress": "https://consumer.example/callback",
        "offer": {
            "@id": "urn:uuid:offer-1",
            "@type": "Offer",
            "assigner": "did:web:provider.example",
            "target": "urn:uuid:dataset",
            "permission": [
                {
                    "action": "use",
                    "constraint": [
                        {
                            "leftOperand": "odrl:purpose",
                            "operator": "eq",
                            "rightOperand": "research",
                        },
                        {
                            "or": [
                                {
                                    "leftOperand": "odrl:count",
                                    "operator": "lteq",
                                    "rightOperand": "3",
                                },
                                {
                                    "leftOperand": "odrl:spatial",
                                    "operator": "neq",
                                    "rightOperand": "XX",
                                },
                            ]
                        },
                    ],
                }
            ],
        },
    }
    p = parse_policy(message)
    assert p.type is PolicyType.OFFER and p.assigner == "did:web:provider.example"
    purpose, either = p.permissions[0].constraints
    assert purpose == Constraint(ODRL + "purpose", ODRL + "eq", (Literal("research"),))
    assert isinstance(either, LogicalConstraint) and either.operator == ODRL + "or"
    assert either.operands[1].operator == ODRL + "neq"  # type: ignore[union-attr]


def test_dsp_message_does_not_poison_the_profile_context() -> None:
    """pyld's @import processing mutates the imported context in its shared cache; after a
    DSP message, a document using the profile context directly used to crash pyld."""
    test_dsp_contract_request_message()
    profile = {
        "@context": "https://w3id.org/dspace/2025/1/odrl-profile.jsonld",
        "@id": "urn:o",
        "@type": "Offer",
        "assigner": "urn:a",
        "permission": [{"action": "use"}],
    }
    assert parse_policy(profile).uid == "urn:o"


def test_dataset_with_several_offers() -> None:
    dataset = {
        "@context": DSP,
        "@id": "urn:d",
        "@type": "Dataset",
        "hasPolicy": [
            {
                "@id": "urn:o1",
                "@type": "Offer",
                "assigner": "urn:a",
                "permission": [{"action": "use"}],
            },
            {
                "@id": "urn:o2",
                "@type": "Offer",
                "assigner": "urn:a",
                "permission": [{"action": "read"}],
            },
        ],
    }
    assert sorted(p.uid for p in parse_policies(dataset)) == ["urn:o1", "urn:o2"]
    with pytest.raises(PolicyError):
        parse_policy(dataset)


ROUND_TRIP = doc(
    permission=[
        {
            "@id": "urn:rule:1",
            "action": [
                {
                    "rdf:value": {"@id": "odrl:print"},
                    "refinement": [
                        {
                            "leftOperand": "resolution",
                            "operator": "lteq",
                            "rightOperand": {"@value": "1200", "@type": "xsd:integer"},
                        }
                    ],
                }
            ],
            "target": ["urn:d1", "urn:d2"],
            "assignee": "urn:team",
            "constraint": [
                {
                    "xone": [
                        {
                            "@id": "urn:c:1",
                            "leftOperand": "spatial",
                            "operator": "eq",
                            "rightOperand": {"@id": "urn:DE"},
                        },
                        {
                            "leftOperand": "payAmount",
                            "operator": "gteq",
                            "rightOperand": {"@value": "5.00", "@type": "xsd:decimal"},
                            "unit": "urn:EUR",
                        },
                    ]
                }
            ],
            "duty": [
                {"@id": "urn:duty:1", "action": "delete", "consequence": [{"action": "compensate"}]}
            ],
            "informedParty": "urn:auditor",
        }
    ],
    prohibition=[{"action": "sell", "remedy": [{"action": "anonymize"}]}],
    obligation=[{"action": "inform", "assigner": "urn:a", "assignee": "urn:b"}],
    conflict="prohibit",
    profile="https://w3id.org/communs/odrl/profile",
    assigner="urn:a",
)


def test_round_trip_through_dsp_compact_form() -> None:
    original = parse_policy(ROUND_TRIP)
    compact = to_jsonld(original)
    assert compact["@context"][0] == "https://w3id.org/dspace/2025/1/odrl-profile.jsonld"
    assert compact["permission"][0]["target"] == ["urn:d1", "urn:d2"]
    again = parse_policy(json.loads(json.dumps(compact)))
    assert again == original


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_templates_round_trip(name: str) -> None:
    params = {
        "members": {"trusted_issuers": ["did:web:issuer"]},
        "purpose": {"purposes": ["https://w3id.org/dpv#ResearchAndDevelopment"]},
        "count-limited": {"max_uses": 3},
        "pay-per-use": {"amount": "2.50"},
        "time-limited": {"for_duration": "P30D"},
        "compute": {"algorithms": ["sha256:ab"], "max_output_bytes": 10, "max_runs": 2},
    }.get(name, {})
    policy = from_template(name, "urn:offer:" + name, "did:web:provider", target="urn:d", **params)
    assert parse_policy(to_jsonld(policy)) == policy


TURTLE = """
@prefix odrl: <http://www.w3.org/ns/odrl/2/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<urn:p> a odrl:Set ; odrl:permission [ odrl:action odrl:read ;
    odrl:constraint [ odrl:andSequence ( [ odrl:leftOperand odrl:count ; odrl:operator odrl:lt ; odrl:rightOperand 3 ]
                                         [ odrl:leftOperand odrl:spatial ; odrl:operator odrl:eq ; odrl:rightOperand <urn:DE> ] ) ] ] .
"""


def test_rdf_with_ordered_list() -> None:
    p = parse_policy_rdf(TURTLE)
    (seq,) = p.permissions[0].constraints
    assert isinstance(seq, LogicalConstraint) and seq.operator == ODRL + "andSequence"
    assert [x.left for x in seq.operands] == [ODRL + "count", ODRL + "spatial"]  # type: ignore[union-attr]
    assert seq.operands[0].right == (Literal("3", "http://www.w3.org/2001/XMLSchema#integer"),)  # type: ignore[union-attr]
    assert seq.operands[1].right == (Ref("urn:DE"),)  # type: ignore[union-attr]


def test_rdf_errors() -> None:
    with pytest.raises(PolicyError) as err:
        parse_policy_rdf("<urn:p> a <broken")
    assert err.value.reason is PolicyReason.INVALID_RDF
    cyclic = """@prefix odrl: <http://www.w3.org/ns/odrl/2/> .
    <urn:p> a odrl:Set ; odrl:permission [ odrl:action odrl:use ; odrl:constraint <urn:c> ] .
    <urn:c> odrl:and <urn:c> ."""
    with pytest.raises(PolicyError) as err:
        parse_policy_rdf(cyclic)
    assert err.value.reason is PolicyReason.CYCLE


def test_oversized_documents_are_refused() -> None:
    many = doc(
        permission=[
            {
                "action": "use",
                "constraint": [{"leftOperand": "count", "operator": "lt", "rightOperand": i}],
            }
            for i in range(11_000)
        ]
    )
    with pytest.raises(PolicyError) as err:
        parse_policy(many)
    assert err.value.reason is PolicyReason.TOO_LARGE


def test_deeply_nested_documents_are_refused() -> None:
    nested: dict = {"leftOperand": "count", "operator": "lt", "rightOperand": 1}
    for _ in range(40):
        nested = {"and": [nested]}
    with pytest.raises(PolicyError) as err:
        parse_policy(doc(permission=[{"action": "use", "constraint": [nested]}]))
    assert err.value.reason is PolicyReason.TOO_LARGE
    for _ in range(3000):
        nested = {"and": [nested]}
    with pytest.raises(PolicyError) as err:
        parse_policy(doc(permission=[{"action": "use", "constraint": [nested]}]))
    assert err.value.reason is PolicyReason.TOO_LARGE
    with pytest.raises(PolicyError) as err:
        parse_policy("[" * 100_000 + "]" * 100_000)
    assert err.value.reason is PolicyReason.TOO_LARGE


def test_ids_information_model() -> None:
    ids = {
        "@context": {"ids": "https://w3id.org/idsa/core/", "idsc": "https://w3id.org/idsa/code/"},
        "@type": "ids:ContractAgreement",
        "@id": "urn:ids:1",
        "ids:provider": "urn:prov",
        "ids:consumer": "urn:cons",
        "ids:permission": [
            {
                "ids:action": [{"@id": "idsc:USE"}],
                "ids:constraint": [
                    {
                        "ids:leftOperand": {"@id": "idsc:COUNT"},
                        "ids:operator": {"@id": "idsc:LTEQ"},
                        "ids:rightOperand": {"@value": "30", "@type": "xsd:decimal"},
                    }
                ],
                "ids:postDuty": [{"ids:action": [{"@id": "idsc:DELETE"}]}],
            }
        ],
    }
    p = parse_policy(ids)
    assert (
        p.type is PolicyType.AGREEMENT and p.assigner == "urn:prov" and p.assignees == ("urn:cons",)
    )
    (rule,) = p.permissions
    assert rule.actions[0].iri == ODRL + "use"
    assert rule.constraints == (
        Constraint(
            ODRL + "count",
            ODRL + "lteq",
            (Literal("30", "http://www.w3.org/2001/XMLSchema#decimal"),),
        ),
    )
    (duty,) = rule.duties
    assert duty.actions[0].iri == ODRL + "delete"
    assert duty.constraints[0].operator == ODRL + "gt"  # type: ignore[union-attr]  # postDuty: after use
