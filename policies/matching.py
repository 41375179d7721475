"""Negotiation: does a requested offer equal, or narrow, the provider's offer?

A consumer may ask for less than offered (fewer actions, stricter constraints) but never
more: every offered constraint, duty, prohibition and obligation must still be there, or be
replaced by one that implies it (count lteq 5 implies count lteq 10). Anything this module
cannot prove is a mismatch, with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from policies import terms as T
from policies.literals import LexicalError
from policies.model import (
    Action,
    AnyConstraint,
    Constraint,
    LogicalConstraint,
    Policy,
    PolicyType,
    Rule,
)
from policies.operands import reader
from policies.operators import compare, read_right


@dataclass(frozen=True, slots=True)
class Match:
    ok: bool
    reasons: tuple[str, ...]


def _strip(c: AnyConstraint) -> AnyConstraint:
    if isinstance(c, LogicalConstraint):
        return LogicalConstraint(c.operator, tuple(_strip(x) for x in c.operands))
    return replace(c, uid=None)


def _values(c: Constraint) -> tuple[object, ...] | None:
    try:
        return tuple(read_right(reader(c.left).kind, r) for r in c.right)
    except LexicalError:
        return None


_UPPER = (T.odrl("lt"), T.odrl("lteq"))
_LOWER = (T.odrl("gt"), T.odrl("gteq"))
_SETS = (T.odrl("isAnyOf"), T.odrl("isPartOf"))


def implies(stronger: AnyConstraint, weaker: AnyConstraint) -> bool:
    """Does STRONGER holding guarantee WEAKER holds (for the operators we can reason about)?"""
    a, b = _strip(stronger), _strip(weaker)
    if a == b:
        return True
    if not (isinstance(a, Constraint) and isinstance(b, Constraint)) or a.left != b.left:
        return False
    if a.unit != b.unit or a.right_reference or b.right_reference:
        return False
    av, bv = _values(a), _values(b)
    if av is None or bv is None:
        return False
    if a.operator in _UPPER and b.operator in _UPPER and len(av) == len(bv) == 1:
        c = compare(av[0], bv[0])
        return c is not None and (
            c < 0 or (c == 0 and (a.operator == b.operator or a.operator == T.odrl("lt")))
        )
    if a.operator in _LOWER and b.operator in _LOWER and len(av) == len(bv) == 1:
        c = compare(av[0], bv[0])
        return c is not None and (
            c > 0 or (c == 0 and (a.operator == b.operator or a.operator == T.odrl("gt")))
        )
    if a.operator in _SETS and b.operator == a.operator:
        return set(av) <= set(bv)
    if a.operator == T.odrl("eq") and b.operator in _SETS and len(av) == 1:
        return av[0] in bv
    return False


def _covers(offered: Rule, requested: Rule) -> list[str]:
    """Why REQUESTED (a permission) is not within OFFERED; empty if it is."""
    problems = []
    offered_cover = (
        frozenset().union(*(T.covered_by(a.iri) for a in offered.actions))
        if offered.actions
        else None
    )
    for action in requested.actions:
        if offered_cover is not None and action.iri not in offered_cover:
            problems.append(f"{T.short(action.iri)} is not offered")
            continue
        for granted in offered.actions:
            if action.iri in T.covered_by(granted.iri):
                for ref in granted.refinements:
                    if not any(implies(r, ref) for r in action.refinements):
                        problems.append(f"refinement dropped from {T.short(action.iri)}")
    if offered.targets and not set(requested.targets or offered.targets) <= set(offered.targets):
        problems.append("a target outside the offer")
    for c in offered.constraints:
        if not any(implies(r, c) for r in requested.constraints):
            problems.append(f"constraint on {_name(c)} dropped or widened")
    for duty in offered.duties:
        if not any(_same_rule(duty, d) for d in requested.duties):
            problems.append(f"duty {_duty_name(duty)} dropped or changed")
    return problems


def _name(c: AnyConstraint) -> str:
    return T.short(c.left) if isinstance(c, Constraint) else T.short(c.operator)


def _duty_name(d: Rule) -> str:
    return d.uid or ", ".join(T.short(a.iri) for a in d.actions)


def _norm(rule: Rule) -> Rule:
    return replace(
        rule,
        uid=None,
        actions=tuple(Action(a.iri, tuple(_strip(r) for r in a.refinements)) for a in rule.actions),
        constraints=tuple(_strip(c) for c in rule.constraints),
        duties=tuple(_norm(d) for d in rule.duties),
        remedies=tuple(_norm(d) for d in rule.remedies),
        consequences=tuple(_norm(d) for d in rule.consequences),
    )


def _same_rule(a: Rule, b: Rule) -> bool:
    return _norm(a) == _norm(b)


def matches(requested: Policy, offered: Policy) -> Match:
    """Is REQUESTED (a consumer's request or counter-offer) within OFFERED?"""
    problems: list[str] = []
    if requested.assigner not in (None, offered.assigner):
        problems.append("the assigner differs from the offer's")
    if offered.targets and requested.targets and not set(requested.targets) <= set(offered.targets):
        problems.append("a target outside the offer")
    if not requested.permissions:
        problems.append("the request has no permission")
    for perm in requested.permissions:
        candidates = [_covers(o, perm) for o in offered.permissions]
        if not candidates:
            problems.append("the offer has no permission")
        elif all(candidates):
            best: list[str] = min(candidates, key=len)
            problems.extend(best)
    for kind, offered_rules, requested_rules in (
        ("prohibition", offered.prohibitions, requested.prohibitions),
        ("obligation", offered.obligations, requested.obligations),
    ):
        for rule in offered_rules:
            if not any(_same_rule(rule, r) for r in requested_rules):
                problems.append(f"{kind} on {_duty_name(rule)} dropped")
    if offered.conflict != requested.conflict and requested.prohibitions:
        problems.append("the conflict strategy differs")
    return Match(not problems, tuple(problems))


def equivalent(a: Policy, b: Policy) -> bool:
    """Same rules, ignoring uids, policy type and rule order."""

    def key(p: Policy) -> tuple:
        return tuple(sorted(repr(_norm(r)) for r in p.rules)), p.assigner, p.targets, p.conflict

    return key(a) == key(b)


def agreement_from(offer: Policy, uid: str, assignee: str) -> Policy:
    """The Agreement a provider signs for an accepted OFFER (assignee: the consumer)."""
    if offer.assigner is None:
        raise ValueError("an offer without assigner cannot become an agreement")
    return replace(offer, type=PolicyType.AGREEMENT, uid=uid, assignees=(assignee,))
