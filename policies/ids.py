"""Read IDS Information Model usage policies (ids:ContractOffer / ids:ContractAgreement) as ODRL.

The IDS-G policy classes publish each class in an IDS-IM flavour (`ids:permission`,
`idsc:USE`, `idsc:EQUALS`...). This maps those terms onto ODRL in the node map, so the
ODRL builder reads them. IDS left operands without an ODRL counterpart (idsc:CONNECTOR,
idsc:SECURITY_LEVEL...) are kept as IRIs: they are unknown to communs and deny with a reason
unless the caller supplies a value. `ids:preDuty` is a duty before use, `ids:postDuty` one after
(expressed as ODRL `event lt/gt policyUsage`). Operator `idsc:DEFINES_AS` (a parameter of a duty
action, not a condition) reads as `eq`.
"""

from __future__ import annotations

from typing import Any

from policies import terms as T
from policies.graph import NodeMap

IDS = "https://w3id.org/idsa/core/"
IDSC = "https://w3id.org/idsa/code/"

_TYPES = {
    IDS + "ContractOffer": T.OFFER,
    IDS + "ContractAgreement": T.AGREEMENT,
    IDS + "ContractRequest": T.OFFER,
    IDS + "Permission": T.odrl("Permission"),
    IDS + "Prohibition": T.odrl("Prohibition"),
    IDS + "Duty": T.odrl("Duty"),
    IDS + "Constraint": T.odrl("Constraint"),
}
_PROPS = {
    IDS + name: T.odrl(odrl)
    for name, odrl in {
        "permission": "permission",
        "prohibition": "prohibition",
        "obligation": "obligation",
        "target": "target",
        "action": "action",
        "constraint": "constraint",
        "refinement": "refinement",
        "leftOperand": "leftOperand",
        "operator": "operator",
        "rightOperand": "rightOperand",
        "rightOperandReference": "rightOperandReference",
        "unit": "unit",
        "assigner": "assigner",
        "assignee": "assignee",
        "provider": "assigner",
        "consumer": "assignee",
        "duty": "duty",
        "preDuty": "duty",
        "postDuty": "duty",
    }.items()
}
_ACTIONS = {
    IDSC + name: T.odrl(odrl)
    for name, odrl in {
        "USE": "use",
        "READ": "read",
        "DISTRIBUTE": "distribute",
        "DELETE": "delete",
        "ANONYMIZE": "anonymize",
        "COMPENSATE": "compensate",
        "NOTIFY": "inform",
        "NEXT_POLICY": "nextPolicy",
        "PRINT": "print",
        "MODIFY": "modify",
        "AGGREGATE": "aggregate",
    }.items()
}
_OPERATORS = {
    IDSC + name: T.odrl(odrl)
    for name, odrl in {
        "EQ": "eq",
        "EQUALS": "eq",
        "SAME_AS": "eq",
        "DEFINES_AS": "eq",
        "NOT": "neq",
        "NEQ": "neq",
        "LT": "lt",
        "LTEQ": "lteq",
        "GT": "gt",
        "GTEQ": "gteq",
        "BEFORE": "lt",
        "AFTER": "gt",
        "SHORTER": "lt",
        "SHORTER_EQ": "lteq",
        "LONGER": "gt",
        "LONGER_EQ": "gteq",
        "IN": "isAnyOf",
        "INSIDE": "isPartOf",
        "HAS_MEMBERSHIP": "isPartOf",
    }.items()
}
_LEFT = {
    IDSC + name: T.odrl(odrl)
    for name, odrl in {
        "COUNT": "count",
        "ELAPSED_TIME": "elapsedTime",
        "PURPOSE": "purpose",
        "POLICY_EVALUATION_TIME": "dateTime",
        "DATE_TIME": "dateTime",
        "PAY_AMOUNT": "payAmount",
        "ABSOLUTE_SPATIAL_POSITION": "spatial",
        "EVENT": "event",
        "RECIPIENT": "recipient",
    }.items()
}
_LEFT[IDS + "purpose"] = T.odrl("purpose")
_ALL = {**_TYPES, **_ACTIONS, **_OPERATORS, **_LEFT}


def _mentions_ids(nm: NodeMap) -> bool:
    return any(k.startswith(IDS) for node in nm.nodes.values() for k in node)


def translate(nm: NodeMap) -> None:
    """Rewrite IDS-IM terms in NM into ODRL ones, in place (a no-op for plain ODRL)."""
    if not _mentions_ids(nm):
        return
    timings: list[tuple[str, bool]] = []
    for ident, node in list(nm.nodes.items()):
        new: dict[str, list[dict[str, Any]]] = {}
        for prop, values in node.items():
            key = _PROPS.get(prop, prop)
            out = new.setdefault(key, [])
            for value in values:
                if "@id" in value and value["@id"] in _ALL:
                    value = {"@id": _ALL[value["@id"]]}
                out.append(value)
            if prop in (IDS + "preDuty", IDS + "postDuty"):
                timings.extend((v["@id"], prop == IDS + "preDuty") for v in values if "@id" in v)
        nm.nodes[ident] = new
    for duty, before in timings:
        _timing(nm, duty, before=before)


def _timing(nm: NodeMap, duty: str, *, before: bool) -> None:
    marker = f"{duty}#timing"
    nm.nodes[marker] = {
        T.odrl("leftOperand"): [{"@id": T.odrl("event")}],
        T.odrl("operator"): [{"@id": T.odrl("lt" if before else "gt")}],
        T.odrl("rightOperand"): [{"@id": T.odrl("policyUsage")}],
    }
    node = nm.nodes.setdefault(duty, {})
    node.setdefault(T.odrl("constraint"), []).append({"@id": marker})
