"""Read ODRL policies from JSON-LD (compact or expanded, W3C ODRL or DSP 2025-1 contexts) or
from RDF (Turtle and anything rdflib reads), and write them back as compact JSON-LD.

JSON-LD is expanded offline by pyld with the bundled contexts (an unbundled remote context
is an error, never a download). Malformed policies raise `PolicyError` with a closed reason.
"""

from __future__ import annotations

import json
from typing import Any

from policies import terms as T
from policies.errors import PolicyError, PolicyReason
from policies.graph import NodeMap
from policies.jsonld_io import expand_jsonld
from policies.model import (
    Action,
    AnyConstraint,
    Conflict,
    Constraint,
    Literal,
    LogicalConstraint,
    Operand,
    Policy,
    PolicyType,
    Ref,
    Rule,
    RuleKind,
)

_POLICY_TYPES = {
    T.SET: PolicyType.SET,
    T.OFFER: PolicyType.OFFER,
    T.AGREEMENT: PolicyType.AGREEMENT,
    T.POLICY: PolicyType.SET,  # ODRL 2.2: a Policy without subclass is a Set
}
_OTHER_POLICY_TYPES = {T.odrl(n) for n in ("Request", "Ticket", "Assertion", "Privacy")}
_RULE_PROPS = (T.odrl("permission"), T.odrl("prohibition"), T.odrl("obligation"))
_CORE_ACTIONS = {iri[len(T.ODRL) :] for iri in T.covered_by(T.odrl("use"))} | {
    "use",
    "transfer",
    "give",
    "sell",
}
# ODRL 2.2 core left operands: the DSP 2025-1 context does not define them as terms, so its
# own examples ("leftOperand": "dateTime") expand to relative IRIs; those names mean ODRL's.
_CORE_LEFT = frozenset(
    (
        "absolutePosition absoluteSpatialPosition absoluteTemporalPosition absoluteSize count "
        "dateTime delayPeriod deliveryChannel elapsedTime event fileFormat industry language "
        "media meteredTime payAmount percentage product purpose recipient relativePosition "
        "relativeSpatialPosition relativeTemporalPosition relativeSize resolution spatial "
        "spatialCoordinates systemDevice timeInterval unitOfCount version virtualLocation"
    ).split()
)
_JSON_TYPES = {bool: T.XSD + "boolean", int: T.XSD + "integer", float: T.XSD + "double"}
MAX_DEPTH = 32


def _fail(reason: PolicyReason, message: str) -> PolicyError:
    return PolicyError(reason, message)


def parse_policies(doc: Any, *, require_action: bool = True) -> tuple[Policy, ...]:
    """Every policy in a JSON-LD document (a DSP message, a dataset, a bare policy)."""
    nm = NodeMap()
    try:
        nm.add_expanded(expand_jsonld(doc))
    except RecursionError:
        raise PolicyError(PolicyReason.TOO_LARGE, "the document is nested too deeply") from None
    return _Builder(nm, require_action).all()


def parse_policy(doc: Any, *, require_action: bool = True) -> Policy:
    """The one policy of a JSON-LD document."""
    return _one(parse_policies(doc, require_action=require_action))


def policy_from_graph(graph: Any, *, uid: str | None = None, require_action: bool = True) -> Policy:
    """The policy UID (or the only policy) of an rdflib graph."""
    nm = NodeMap()
    nm.add_rdf(graph)
    builder = _Builder(nm, require_action)
    if uid is not None:
        return builder.policy(uid)
    return _one(builder.all())


def parse_policy_rdf(
    data: str | bytes, fmt: str = "turtle", *, uid: str | None = None, require_action: bool = True
) -> Policy:
    from rdflib import Graph

    try:
        graph = Graph().parse(data=data, format=fmt)
    except Exception as exc:  # rdflib raises many types for bad syntax
        raise _fail(PolicyReason.INVALID_RDF, f"invalid {fmt}: {exc}") from None
    return policy_from_graph(graph, uid=uid, require_action=require_action)


def _one(policies: tuple[Policy, ...]) -> Policy:
    if not policies:
        raise _fail(PolicyReason.NO_POLICY, "the document holds no ODRL Set, Offer or Agreement")
    if len(policies) > 1:
        uids = ", ".join(p.uid for p in policies)
        raise _fail(
            PolicyReason.AMBIGUOUS_POLICY, f"the document holds {len(policies)} policies: {uids}"
        )
    return policies[0]


class _Builder:
    def __init__(self, nm: NodeMap, require_action: bool) -> None:
        from policies import ids

        ids.translate(nm)
        self.nm = nm
        self.require_action = require_action

    def all(self) -> tuple[Policy, ...]:
        found = []
        for ident in list(self.nm.nodes):
            types = set(self.nm.types(ident))
            if types & _POLICY_TYPES.keys() or (
                not types and any(p in self.nm.nodes[ident] for p in _RULE_PROPS)
            ):
                found.append(self.policy(ident))
            elif types & _OTHER_POLICY_TYPES and any(
                p in self.nm.nodes[ident] for p in _RULE_PROPS
            ):
                raise _fail(
                    PolicyReason.INVALID_POLICY_TYPE,
                    f"{ident}: {', '.join(T.short(t) for t in types)} is not a Set, Offer or Agreement",
                )
        return tuple(found)

    # --- helpers -----------------------------------------------------------------------------

    def _ids(self, ident: str, prop: str) -> tuple[str, ...]:
        out = []
        for v in self.nm.values(ident, prop):
            if "@id" in v:
                out.append(v["@id"])
            elif isinstance(v.get("@value"), str):
                out.append(v["@value"])  # a party or asset given as a plain string
        return tuple(out)

    def _one_id(self, ident: str, prop: str, what: str) -> str | None:
        values = self._ids(ident, prop)
        if len(values) > 1:
            raise _fail(
                PolicyReason.INVALID_VALUE, f"{what} has {len(values)} values for {T.short(prop)}"
            )
        return values[0] if values else None

    @staticmethod
    def _uid(ident: str) -> str | None:
        return None if ident.startswith("_:") else ident

    # --- policy ------------------------------------------------------------------------------

    def policy(self, ident: str) -> Policy:
        if ident not in self.nm.nodes:
            raise _fail(PolicyReason.NO_POLICY, f"no policy {ident}")
        types = [t for t in self.nm.types(ident) if t in _POLICY_TYPES]
        kinds = {_POLICY_TYPES[t] for t in types}
        kinds.discard(PolicyType.SET) if len(kinds) > 1 else None
        if len(kinds) > 1:
            raise _fail(PolicyReason.INVALID_POLICY_TYPE, f"{ident} is typed both {sorted(kinds)}")
        kind = kinds.pop() if kinds else PolicyType.SET
        uid = self._uid(ident)
        if uid is None:
            uid = self._one_id(ident, T.odrl("uid"), "the policy")
        if uid is None:
            raise _fail(PolicyReason.MISSING_PROPERTY, "a policy must have a uid (an IRI @id)")
        conflict = None
        conflicts = self._ids(ident, T.odrl("conflict"))
        if conflicts:
            try:
                conflict = Conflict(conflicts[0])
            except ValueError:
                raise _fail(
                    PolicyReason.UNKNOWN_CONFLICT_STRATEGY,
                    f"conflict {conflicts[0]!r} is not odrl:perm, odrl:prohibit or odrl:invalid",
                ) from None
        perms = tuple(
            self.rule(v, RuleKind.PERMISSION, ()) for v in self._nodes(ident, "permission")
        )
        prohibs = tuple(
            self.rule(v, RuleKind.PROHIBITION, ()) for v in self._nodes(ident, "prohibition")
        )
        obligations = tuple(
            self.rule(v, RuleKind.DUTY, ()) for v in self._nodes(ident, "obligation")
        )
        policy = Policy(
            type=kind,
            uid=uid,
            permissions=perms,
            prohibitions=prohibs,
            obligations=obligations,
            assigner=self._one_id(ident, T.odrl("assigner"), uid),
            assignees=self._ids(ident, T.odrl("assignee")),
            targets=self._ids(ident, T.odrl("target")),
            profiles=self._ids(ident, T.odrl("profile")),
            conflict=conflict,
            inherit_from=self._ids(ident, T.odrl("inheritFrom")),
        )
        _check_parties(policy)
        return policy

    def _nodes(self, ident: str, name: str) -> list[str]:
        out = []
        for v in self.nm.values(ident, T.odrl(name)):
            if "@id" not in v:
                raise _fail(
                    PolicyReason.INVALID_VALUE,
                    f"{T.short(T.odrl(name))} of {ident} must be an object",
                )
            out.append(v["@id"])
        return out

    # --- rules -------------------------------------------------------------------------------

    def rule(self, ident: str, kind: RuleKind, stack: tuple[str, ...]) -> Rule:
        if ident in stack:
            raise _fail(PolicyReason.CYCLE, f"{ident} refers to itself through duties")
        if len(stack) > MAX_DEPTH:
            raise _fail(PolicyReason.TOO_LARGE, f"duties nested more than {MAX_DEPTH} deep")
        stack = (*stack, ident)
        name = self._uid(ident) or f"a {T.short(kind.value)}"
        actions = tuple(self.action(v, name) for v in self.nm.values(ident, T.odrl("action")))
        if not actions and self.require_action:
            raise _fail(
                PolicyReason.MISSING_PROPERTY, f"{name} has no action (ODRL 2.2 requires one)"
            )
        duty_kind = RuleKind.DUTY

        def sub(prop: str) -> tuple[Rule, ...]:
            return tuple(self.rule(v, duty_kind, stack) for v in self._nodes(ident, prop))

        parties = tuple(
            (prop, party)
            for prop in sorted(self.nm.nodes.get(ident, {}))
            if prop.startswith(T.ODRL) and prop.endswith("Party")
            for party in self._ids(ident, prop)
        )
        return Rule(
            kind=kind,
            actions=actions,
            uid=self._uid(ident),
            targets=self._ids(ident, T.odrl("target")),
            assigner=self._one_id(ident, T.odrl("assigner"), name),
            assignees=self._ids(ident, T.odrl("assignee")),
            constraints=self.constraints(ident, T.odrl("constraint"), ()),
            duties=sub("duty") if kind is RuleKind.PERMISSION else (),
            remedies=sub("remedy") if kind is RuleKind.PROHIBITION else (),
            consequences=sub("consequence") if kind is RuleKind.DUTY else (),
            parties=parties,
        )

    def action(self, value: dict[str, Any], rule: str) -> Action:
        if "@id" not in value:
            text = value.get("@value")
            if isinstance(text, str) and text in _CORE_ACTIONS:
                return Action(T.odrl(text))
            raise _fail(
                PolicyReason.INVALID_VALUE, f"the action of {rule} must be an IRI, not {text!r}"
            )
        ident = value["@id"]
        node = self.nm.nodes.get(ident, {})
        inner = self._ids(ident, T.RDF_VALUE)
        iri = inner[0] if inner else ident
        if ":" not in iri:
            # {"@id": "delete"} is a relative IRI in JSON-LD; the IDS examples mean odrl:delete.
            if iri not in _CORE_ACTIONS:
                raise _fail(
                    PolicyReason.INVALID_VALUE, f"the action {iri!r} of {rule} is not an IRI"
                )
            iri = T.odrl(iri)
        refinements = self.constraints(ident, T.odrl("refinement"), ()) if node else ()
        uid = self._uid(ident) if inner else None
        return Action(iri, refinements, uid)

    # --- constraints ---------------------------------------------------------------------------

    def constraints(
        self, ident: str, prop: str, stack: tuple[str, ...]
    ) -> tuple[AnyConstraint, ...]:
        out = []
        for value in self.nm.values(ident, prop):
            if "@id" not in value:
                raise _fail(
                    PolicyReason.INVALID_VALUE, f"a {T.short(prop)} of {ident} must be an object"
                )
            out.append(self.constraint(value["@id"], stack))
        return tuple(out)

    def constraint(self, ident: str, stack: tuple[str, ...]) -> AnyConstraint:
        if ident in stack:
            raise _fail(PolicyReason.CYCLE, f"constraint {ident} contains itself")
        if len(stack) > MAX_DEPTH:
            raise _fail(PolicyReason.TOO_LARGE, f"constraints nested more than {MAX_DEPTH} deep")
        stack = (*stack, ident)
        node = self.nm.nodes.get(ident)
        if not node:
            raise _fail(PolicyReason.MISSING_PROPERTY, f"constraint {ident} is not described")
        uid = self._uid(ident)
        logical = [op for op in T.LOGICAL if op in node]
        if logical:
            if len(logical) > 1:
                raise _fail(PolicyReason.INVALID_VALUE, f"{ident} mixes logical operators")
            operands = self.constraints(ident, logical[0], stack)
            if not operands:
                raise _fail(
                    PolicyReason.MISSING_PROPERTY, f"{ident}: {T.short(logical[0])} has no operands"
                )
            return LogicalConstraint(logical[0], operands, uid)
        name = uid or "a constraint"
        left = self._one_id(ident, T.odrl("leftOperand"), name)
        operator = self._one_id(ident, T.odrl("operator"), name)
        if left is None or operator is None:
            missing = "leftOperand" if left is None else "operator"
            raise _fail(PolicyReason.MISSING_PROPERTY, f"{name} has no {missing}")
        if left in _CORE_LEFT:
            left = T.odrl(left)
        if operator == T.odrl("neg"):
            # The W3C context (www.w3.org/ns/odrl.jsonld) maps the term "neq" to odrl:neg, a
            # typo for odrl:neq: every policy compacted with it says "neg" for "not equal".
            operator = T.odrl("neq")
        right = tuple(self._operand(v, name) for v in self.nm.values(ident, T.odrl("rightOperand")))
        reference = self._one_id(ident, T.odrl("rightOperandReference"), name)
        if not right and reference is None:
            raise _fail(PolicyReason.MISSING_PROPERTY, f"{name} has no rightOperand")
        return Constraint(
            left=left,
            operator=operator,
            right=right,
            uid=uid,
            unit=self._one_id(ident, T.odrl("unit"), name),
            datatype=self._one_id(ident, T.odrl("dataType"), name),
            right_reference=reference,
        )

    def _operand(self, value: dict[str, Any], name: str) -> Operand:
        if "@id" in value:
            inner = self.nm.values(value["@id"], T.RDF_VALUE)
            return self._operand(inner[0], name) if inner else Ref(value["@id"])
        raw = value.get("@value")
        datatype = value.get("@type")
        if isinstance(datatype, str) and datatype.startswith("xsd:"):
            # An undeclared `xsd:` prefix (IDS-IM examples) leaves "xsd:duration" as an IRI
            # with scheme "xsd"; nobody means that, so read it as the XML Schema datatype.
            datatype = T.XSD + datatype[4:]
        if isinstance(raw, bool | int | float) and not isinstance(raw, str):
            text = json.dumps(raw) if not isinstance(raw, float) else repr(raw)
            return Literal(
                text.lower() if isinstance(raw, bool) else text, datatype or _JSON_TYPES[type(raw)]
            )
        if not isinstance(raw, str):
            raise _fail(PolicyReason.INVALID_VALUE, f"{name}: right operand {raw!r} is not a value")
        return Literal(raw, datatype)


def _check_parties(policy: Policy) -> None:
    """ODRL 2.2: an Agreement names its assigner and assignee.

    (ODRL 2.2 also wants an assigner on an Offer; DSP 2025-1 offers in catalogs and contract
    messages carry none, the provider being the catalog's participant, so it is not required.)
    """
    rules = policy.rules
    has_assigner = policy.assigner is not None or (rules and all(r.assigner for r in rules))
    has_assignee = bool(policy.assignees) or (rules and all(r.assignees for r in rules))
    if policy.type is PolicyType.AGREEMENT and not has_assigner:
        raise _fail(PolicyReason.MISSING_PROPERTY, f"{policy.uid}: an Agreement needs an assigner")
    if policy.type is PolicyType.AGREEMENT and not has_assignee:
        raise _fail(PolicyReason.MISSING_PROPERTY, f"{policy.uid}: an Agreement needs an assignee")


from policies.serialize import to_expanded, to_jsonld  # noqa: E402  (re-exported)

__all__ = [
    "expand_jsonld",
    "parse_policies",
    "parse_policy",
    "parse_policy_rdf",
    "policy_from_graph",
    "to_expanded",
    "to_jsonld",
]
