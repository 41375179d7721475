"""Compile a Policy once into closures, so that each decision is cheap.

Right operands are parsed here, left operands resolved to reader functions, action
hierarchies expanded to sets and policy-level properties pushed down to the rules (ODRL 2.2
IM §2.7.1). Problems that make a constraint unevaluable do not raise: the constraint compiles
to a check that always reports them (and denies), and they are listed in `issues`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from policies import terms as T
from policies.literals import LexicalError
from policies.model import (
    AnyConstraint,
    Constraint,
    Literal,
    LogicalConstraint,
    Policy,
    Ref,
    Rule,
)
from policies.operands import BUILTIN, DEFERRED, ELAPSED_LIKE, MISSING, Context, Elapsed, reader
from policies.operators import OPERATORS, read_right

SAT, UNSAT, ERR, DEFER = 1, 0, -1, 2

Note = tuple[int, str, str]  # (status, constraint label, message)
Run = Callable[[Context, list[Note]], int]


def _fmt(operand: Literal | Ref) -> str:
    return f"<{operand.iri}>" if isinstance(operand, Ref) else repr(operand.value)


def label(c: AnyConstraint) -> str:
    if isinstance(c, LogicalConstraint):
        return c.uid or f"{T.short(c.operator)}({', '.join(label(x) for x in c.operands)})"
    right = ", ".join(_fmt(r) for r in c.right) or f"<{c.right_reference}>"
    return c.uid or f"{T.short(c.left)} {T.short(c.operator)} {right}"


def show(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, Elapsed):
        return f"{value.now - value.start} since {show(value.start)}"
    if isinstance(value, frozenset):
        return "{" + ", ".join(sorted(str(v) for v in value)) + "}"
    return str(value)


def _error(name: str, message: str, issues: list[str]) -> Run:
    issues.append(f"{name}: {message}")
    note = (ERR, name, message)

    def run(ctx: Context, notes: list[Note]) -> int:
        notes.append(note)
        return ERR

    return run


def compile_constraint(c: AnyConstraint, issues: list[str]) -> Run:
    if isinstance(c, LogicalConstraint):
        return _logical(c, issues)
    name = label(c)
    if c.right_reference is not None and not c.right:
        return _error(
            name, f"right operand reference <{c.right_reference}> is never dereferenced", issues
        )
    op = OPERATORS.get(c.operator)
    if op is None:
        return _error(name, f"unknown operator <{c.operator}>", issues)
    if not c.right:
        return _error(name, "no right operand", issues)
    left = reader(c.left)
    if c.left not in BUILTIN:
        issues.append(
            f"{name}: unknown left operand <{c.left}> (unevaluable unless the context supplies it)"
        )
    if c.left in ELAPSED_LIKE and c.operator == T.odrl("eq"):
        # ODRL vocabulary: "elapsedTime eq P60M" grants a total of 60 minutes.
        op = OPERATORS[T.odrl("lteq")]
    try:
        rights = tuple(read_right(left.kind, r) for r in c.right)
    except LexicalError as exc:
        return _error(name, f"ill-typed right operand: {exc}", issues)
    read = left.read
    unit = c.unit if c.left == T.odrl("payAmount") else None
    short_left = T.short(c.left)
    missing = (
        f"unknown left operand <{c.left}>: no value in the evaluation context"
        if c.left not in BUILTIN
        else f"no value for {short_left} in the evaluation context"
    )

    def run(ctx: Context, notes: list[Note]) -> int:
        value = read(ctx)
        if value is MISSING:
            notes.append((ERR, name, missing))
            return ERR
        if value is DEFERRED:
            notes.append(
                (DEFER, name, f"{short_left} is checked at usage time, not in {ctx.scope.value}")
            )
            return SAT
        if (
            unit is not None
            and ctx.payment is not None
            and ctx.payment.currency not in (None, unit)
        ):
            notes.append((UNSAT, name, f"paid in <{ctx.payment.currency}>, not <{unit}>"))
            return UNSAT
        result = op(value, rights, ctx)
        if result is True:
            return SAT
        if result is None:
            notes.append((ERR, name, f"cannot evaluate {name} with {short_left} = {show(value)}"))
            return ERR
        notes.append((UNSAT, name, f"{name} is not satisfied ({short_left} = {show(value)})"))
        return UNSAT

    return run


def all_of(runs: tuple[Run, ...], sequence: bool = False) -> Run:
    if len(runs) == 1:
        return runs[0]

    def run(ctx: Context, notes: list[Note]) -> int:
        status = SAT
        for sub in runs:
            s = sub(ctx, notes)
            if s == UNSAT:
                return UNSAT
            if s == ERR:
                if sequence:
                    return ERR
                status = ERR
        return status

    return run


def _logical(c: LogicalConstraint, issues: list[str]) -> Run:
    name = label(c)
    subs = tuple(compile_constraint(x, issues) for x in c.operands)
    if not subs:
        return _error(name, "logical constraint without operands", issues)
    kind = c.operator[len(T.ODRL) :] if c.operator.startswith(T.ODRL) else c.operator
    if kind in ("and", "andSequence"):
        return all_of(subs, sequence=kind == "andSequence")
    if kind == "or":

        def run_or(ctx: Context, notes: list[Note]) -> int:
            local: list[Note] = []
            err = False
            for sub in subs:
                s = sub(ctx, local)
                if s == SAT:
                    notes.extend(n for n in local if n[0] == DEFER)
                    return SAT
                err = err or s == ERR
            notes.extend(local)
            notes.append((ERR if err else UNSAT, name, f"no operand of {name} is satisfied"))
            return ERR if err else UNSAT

        return run_or
    if kind == "xone":

        def run_xone(ctx: Context, notes: list[Note]) -> int:
            local: list[Note] = []
            statuses = [sub(ctx, local) for sub in subs]
            if ERR in statuses:
                notes.extend(local)
                return ERR
            if statuses.count(SAT) == 1:
                notes.extend(n for n in local if n[0] == DEFER)
                return SAT
            notes.append((UNSAT, name, f"{statuses.count(SAT)} operands of {name} hold, not one"))
            return UNSAT

        return run_xone
    return _error(name, f"unknown logical operator <{c.operator}>", issues)


@dataclass(frozen=True, slots=True)
class CAction:
    iri: str
    cover: frozenset[str]
    refinements: Run | None


@dataclass(frozen=True, slots=True)
class CDuty:
    duty: Rule
    name: str
    constraints: Run | None
    before: bool | None  # from an `event` constraint: True before use, False after
    compensate: bool
    refinements: Run | None


@dataclass(frozen=True, slots=True)
class CRule:
    rule: Rule
    name: str
    actions: tuple[CAction, ...] | None  # None: any action
    any_cover: frozenset[str]
    targets: frozenset[str] | None
    assignees: frozenset[str] | None
    constraints: Run | None
    duties: tuple[CDuty, ...]


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    policy: Policy
    permissions: tuple[CRule, ...]
    prohibitions: tuple[CRule, ...]
    obligations: tuple[CDuty, ...]
    issues: tuple[str, ...]


def _and(constraints: tuple[AnyConstraint, ...], issues: list[str]) -> Run | None:
    if not constraints:
        return None
    return all_of(tuple(compile_constraint(c, issues) for c in constraints))


_USAGE = T.odrl("policyUsage")


def _timing(c: AnyConstraint) -> bool | None:
    if isinstance(c, Constraint) and c.left == T.odrl("event") and c.right == (Ref(_USAGE),):
        if c.operator in (T.odrl("lt"), T.odrl("lteq")):
            return True
        if c.operator in (T.odrl("gt"), T.odrl("gteq")):
            return False
    return None


def compile_duty(duty: Rule, name: str, issues: list[str]) -> CDuty:
    before = None
    rest = []
    for c in duty.constraints:
        timing = _timing(c)
        if timing is None:
            rest.append(c)
        else:
            before = timing
    refinements = tuple(r for a in duty.actions for r in a.refinements)
    return CDuty(
        duty=duty,
        name=duty.uid or name,
        constraints=_and(tuple(rest), issues),
        before=before,
        compensate=any(a.iri == T.odrl("compensate") for a in duty.actions),
        refinements=_and(refinements, issues),
    )


def _rule(rule: Rule, policy: Policy, name: str, issues: list[str]) -> CRule:
    if not rule.targets and policy.targets:
        rule = replace(rule, targets=policy.targets)
    if not rule.assignees and policy.assignees:
        rule = replace(rule, assignees=policy.assignees)
    if rule.assigner is None and policy.assigner is not None:
        rule = replace(rule, assigner=policy.assigner)
    actions = None
    if rule.actions:
        actions = tuple(
            CAction(a.iri, T.covered_by(a.iri), _and(a.refinements, issues)) for a in rule.actions
        )
    any_cover = frozenset().union(*(a.cover for a in actions)) if actions else frozenset()
    name = rule.uid or name
    return CRule(
        rule=rule,
        name=name,
        actions=actions,
        any_cover=any_cover,
        targets=frozenset(rule.targets) or None,
        assignees=frozenset(rule.assignees) or None,
        constraints=_and(rule.constraints, issues),
        duties=tuple(
            compile_duty(d, f"{name} duty #{i + 1}", issues) for i, d in enumerate(rule.duties)
        ),
    )


def compile_policy(policy: Policy) -> CompiledPolicy:
    issues: list[str] = []
    perms = tuple(
        _rule(r, policy, f"permission #{i + 1}", issues) for i, r in enumerate(policy.permissions)
    )
    prohibs = tuple(
        _rule(r, policy, f"prohibition #{i + 1}", issues) for i, r in enumerate(policy.prohibitions)
    )
    obligations = tuple(
        compile_duty(r, f"obligation #{i + 1}", issues) for i, r in enumerate(policy.obligations)
    )
    return CompiledPolicy(policy, perms, prohibs, obligations, tuple(dict.fromkeys(issues)))
