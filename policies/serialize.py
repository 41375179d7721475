"""Write a Policy back as JSON-LD: expanded form, or compact with the DSP 2025-1 ODRL context."""

from __future__ import annotations

import copy
from typing import Any

from pyld import jsonld
from pyld.jsonld import JsonLdError

from policies import terms as T
from policies.errors import PolicyError, PolicyReason
from policies.jsonld_io import pyld_options
from policies.model import Action, AnyConstraint, Constraint, Literal, Operand, Policy, Rule
from vocab.loader import load_context

DSP_ODRL_CONTEXT = "https://w3id.org/dspace/2025/1/odrl-profile.jsonld"
DEFAULT_CONTEXT: list[Any] = [DSP_ODRL_CONTEXT, {"communs": T.COMMUNS, "xsd": T.XSD}]


def _ids(values: tuple[str, ...] | list[str]) -> list[dict[str, str]]:
    return [{"@id": v} for v in values]


def _operand(op: Operand) -> dict[str, Any]:
    if isinstance(op, Literal):
        return {"@value": op.value, **({"@type": op.datatype} if op.datatype else {})}
    return {"@id": op.iri}


def _constraint(c: AnyConstraint) -> dict[str, Any]:
    node: dict[str, Any] = {"@id": c.uid} if c.uid else {}
    if not isinstance(c, Constraint):
        node[c.operator] = [_constraint(x) for x in c.operands]
        return node
    node[T.odrl("leftOperand")] = [{"@id": c.left}]
    node[T.odrl("operator")] = [{"@id": c.operator}]
    if c.right:
        node[T.odrl("rightOperand")] = [_operand(r) for r in c.right]
    if c.right_reference:
        node[T.odrl("rightOperandReference")] = [{"@id": c.right_reference}]
    if c.unit:
        node[T.odrl("unit")] = [{"@id": c.unit}]
    if c.datatype:
        node[T.odrl("dataType")] = [{"@id": c.datatype}]
    return node


def _action(a: Action) -> dict[str, Any]:
    if not a.refinements and not a.uid:
        return {"@id": a.iri}
    node: dict[str, Any] = {"@id": a.uid} if a.uid else {}
    node[T.RDF_VALUE] = [{"@id": a.iri}]
    if a.refinements:
        node[T.odrl("refinement")] = [_constraint(r) for r in a.refinements]
    return node


def _rule(r: Rule) -> dict[str, Any]:
    node: dict[str, Any] = {"@id": r.uid} if r.uid else {}
    if r.actions:
        node[T.odrl("action")] = [_action(a) for a in r.actions]
    for prop, values in (("target", r.targets), ("assignee", r.assignees)):
        if values:
            node[T.odrl(prop)] = _ids(values)
    if r.assigner:
        node[T.odrl("assigner")] = [{"@id": r.assigner}]
    if r.constraints:
        node[T.odrl("constraint")] = [_constraint(c) for c in r.constraints]
    for prop, rules in (
        ("duty", r.duties),
        ("remedy", r.remedies),
        ("consequence", r.consequences),
    ):
        if rules:
            node[T.odrl(prop)] = [_rule(x) for x in rules]
    for prop, party in r.parties:
        node.setdefault(prop, []).append({"@id": party})
    return node


def to_expanded(policy: Policy) -> dict[str, Any]:
    node: dict[str, Any] = {"@id": policy.uid, "@type": [policy.type.value]}
    for prop, rules in (
        ("permission", policy.permissions),
        ("prohibition", policy.prohibitions),
        ("obligation", policy.obligations),
    ):
        if rules:
            node[T.odrl(prop)] = [_rule(r) for r in rules]
    if policy.assigner:
        node[T.odrl("assigner")] = [{"@id": policy.assigner}]
    for prop, values in (
        ("assignee", policy.assignees),
        ("target", policy.targets),
        ("profile", policy.profiles),
        ("inheritFrom", policy.inherit_from),
    ):
        if values:
            node[T.odrl(prop)] = _ids(values)
    if policy.conflict:
        node[T.odrl("conflict")] = [{"@id": policy.conflict.value}]
    return node


def _inline(context: Any) -> Any:
    """CONTEXT with bundled URLs replaced by their content (pyld trips on some remote ones)."""
    if isinstance(context, list):
        return [_inline(c) for c in context]
    if isinstance(context, str):
        return copy.deepcopy(load_context(context)).get("@context", {})
    return context


def to_jsonld(policy: Policy, context: Any = None) -> dict[str, Any]:
    """Compact JSON-LD (DSP 2025-1 ODRL profile terms by default), with its @context."""
    context = DEFAULT_CONTEXT if context is None else context
    try:
        out = jsonld.compact(to_expanded(policy), _inline(context), pyld_options())
    except JsonLdError as exc:
        raise PolicyError(PolicyReason.INVALID_JSONLD, f"cannot compact: {exc}") from None
    out["@context"] = context
    return out
