"""The evaluator: a request and a context in, a `Decision` (a value with reasons) out.

Closed world: an action is allowed only if an active permission grants it. A constraint
that cannot be evaluated (unknown left operand, ill-typed or unresolved right operand,
incomparable values) never grants: it denies with a reason. Conflicts between an active
permission and an active prohibition follow the policy's strategy (default `invalid`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from policies import terms as T
from policies.compile import (
    DEFER,
    ERR,
    SAT,
    UNSAT,
    CDuty,
    CompiledPolicy,
    CRule,
    Note,
    compile_policy,
)
from policies.model import Conflict, Policy, Rule, RuleKind
from policies.operands import PRE_AGREEMENT, Context, DutyMode, DutyState, closure


@dataclass(frozen=True, slots=True)
class Request:
    """What is asked: ACTION (None: any action, as in the catalog scope) on TARGET.

    TARGET None means "the asset this policy is attached to": target checks are skipped.
    The requesting party is `Context.requester`.
    """

    action: str | None
    target: str | None = None


class ReasonCode(StrEnum):
    PERMITTED = "permitted"
    NO_PERMISSION = "no-permission"
    CONSTRAINT_UNSATISFIED = "constraint-unsatisfied"
    UNEVALUABLE = "unevaluable"
    PROHIBITED = "prohibited"
    CONFLICT = "conflict"
    DUTY_NOT_FULFILLED = "duty-not-fulfilled"
    DUTY_VIOLATED = "duty-violated"
    DEFERRED = "deferred"


@dataclass(frozen=True, slots=True)
class Reason:
    code: ReasonCode
    message: str
    rule: str | None = None
    constraint: str | None = None


@dataclass(frozen=True, slots=True)
class DueDuty:
    """A duty the caller must see performed (before use when `before_use`)."""

    duty: Rule
    name: str
    state: DutyState
    origin: str  # "duty" (of a permission) | "obligation" | "consequence"
    rule: str | None
    before_use: bool


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reasons: tuple[Reason, ...]
    duties: tuple[DueDuty, ...] = ()

    @property
    def codes(self) -> tuple[ReasonCode, ...]:
        return tuple(r.code for r in self.reasons)


SAT_ONLY, SAT_OR_ERR = frozenset({SAT}), frozenset({SAT, ERR})
_CODE = {UNSAT: ReasonCode.CONSTRAINT_UNSATISFIED, ERR: ReasonCode.UNEVALUABLE}


def _reasons(notes: list[Note], rule: str, out: list[Reason]) -> None:
    for status, name, message in notes:
        code = ReasonCode.DEFERRED if status == DEFER else _CODE[status]
        out.append(Reason(code, message, rule, name))


class _Match:
    """The request's premises, computed once per decision."""

    __slots__ = ("action", "target", "targets", "parties")

    def __init__(self, request: Request, ctx: Context) -> None:
        self.action = request.action
        self.target = request.target
        self.targets = closure(ctx, request.target) if request.target else None
        self.parties = closure(ctx, ctx.requester) if ctx.requester else frozenset()


def _action_ok(rule: CRule, m: _Match) -> bool:
    return m.action is None or rule.actions is None or m.action in rule.any_cover


def _target_ok(rule: CRule, m: _Match) -> bool:
    return rule.targets is None or m.targets is None or not rule.targets.isdisjoint(m.targets)


def _party_ok(rule: CRule, m: _Match) -> bool:
    return rule.assignees is None or not rule.assignees.isdisjoint(m.parties)


def _refined(rule: CRule, m: _Match, ctx: Context, notes: list[Note]) -> int:
    """Do the refinements of the rule's actions that cover the request hold?"""
    if rule.actions is None:
        return SAT
    best = UNSAT
    for act in rule.actions:
        if m.action is not None and m.action not in act.cover:
            continue
        if act.refinements is None:
            return SAT
        if ctx.scope in PRE_AGREEMENT:
            # Refinements say how the action is exercised (algorithm, resolution, output
            # size): known at usage time, not when browsing or negotiating.
            message = f"refinements of {T.short(act.iri)} are checked at usage time"
            notes.append((DEFER, T.short(act.iri), message))
            return SAT
        s = act.refinements(ctx, notes)
        if s == SAT:
            return SAT
        best = ERR if s == ERR else best
    return best


def duty_state(d: CDuty, ctx: Context) -> DutyState:
    uid = d.duty.uid
    if uid is not None and uid in ctx.duty_states:
        return ctx.duty_states[uid]
    payment = ctx.payment
    if d.compensate and payment is not None and payment.duty in (None, uid):
        if d.refinements is None or d.refinements(ctx, []) == SAT:
            return DutyState.FULFILLED
    return DutyState.NOT_SET


def _duties(rule: CRule, ctx: Context, reasons: list[Reason], due: list[DueDuty]) -> bool:
    """Append due duties; False if a duty blocks the permission."""
    ok = True
    pre = ctx.scope in PRE_AGREEMENT
    for d in rule.duties:
        notes: list[Note] = []
        if d.constraints is not None and d.constraints(ctx, notes) == UNSAT:
            continue  # the duty does not apply now
        state = duty_state(d, ctx)
        before = d.before if d.before is not None else ctx.duty_mode is DutyMode.PRECONDITION
        if state is DutyState.FULFILLED:
            continue
        if state is DutyState.VIOLATED and not pre:
            ok = False
            reasons.append(
                Reason(ReasonCode.DUTY_VIOLATED, f"duty {d.name} was violated", rule.name)
            )
            for c in d.duty.consequences:
                due.append(
                    DueDuty(
                        c,
                        c.uid or f"{d.name} consequence",
                        DutyState.NOT_SET,
                        "consequence",
                        rule.name,
                        True,
                    )
                )
            continue
        due.append(DueDuty(d.duty, d.name, state, "duty", rule.name, before))
        if before and not pre:
            ok = False
            _reasons(notes, rule.name, reasons)
            reasons.append(
                Reason(
                    ReasonCode.DUTY_NOT_FULFILLED,
                    f"duty {d.name} must be fulfilled first",
                    rule.name,
                )
            )
    return ok


def evaluate(policy: CompiledPolicy | Policy, request: Request, ctx: Context) -> Decision:
    cp = policy if isinstance(policy, CompiledPolicy) else compile_policy(policy)
    m = _Match(request, ctx)
    failures: list[Reason] = []
    # Each granting permission with the duties it brings and its deferred checks; the one
    # bringing the fewest duties is the one the decision relies on.
    granted: list[tuple[CRule, list[DueDuty], list[Reason]]] = []
    blocked: list[DueDuty] = []  # what would unlock a permission held back by its duties
    for rule in cp.permissions:
        if not (_action_ok(rule, m) and _target_ok(rule, m) and _party_ok(rule, m)):
            continue
        notes: list[Note] = []
        s = _refined(rule, m, ctx, notes)
        if s == SAT and rule.constraints is not None:
            s = rule.constraints(ctx, notes)
        if s != SAT:
            _reasons(notes, rule.name, failures)
            continue
        rule_due: list[DueDuty] = []
        if not rule.duties or _duties(rule, ctx, failures, rule_due):
            deferred: list[Reason] = []
            _reasons(notes, rule.name, deferred)
            granted.append((rule, rule_due, deferred))
            if not rule_due:
                break  # nothing can do better than a permission without duties
        else:
            blocked.extend(rule_due)
    prohibited: list[Reason] = []
    for rule in cp.prohibitions:
        if not (_action_ok(rule, m) and _target_ok(rule, m) and _party_ok(rule, m)):
            continue
        notes = []
        s = _refined(rule, m, ctx, notes)
        if s == SAT and rule.constraints is not None:
            s = rule.constraints(ctx, notes)
        if s == UNSAT:
            continue
        # An unevaluable prohibition is taken as active: doubt never grants.
        prohibited.append(Reason(ReasonCode.PROHIBITED, f"prohibited by {rule.name}", rule.name))
        _reasons([n for n in notes if n[0] == ERR], rule.name, prohibited)
    what = T.short(request.action) if request.action else "any action"
    if granted:
        best, due, deferred = min(granted, key=lambda g: len(g[1]))
    if granted and prohibited:
        conflict = cp.policy.conflict or Conflict.INVALID
        if conflict is Conflict.PERM:
            message = f"{what} permitted by {best.name}; permissions override prohibitions"
            return Decision(
                True,
                (Reason(ReasonCode.PERMITTED, message, best.name), *deferred),
                (*due, *_obligations(cp, ctx)),
            )
        if conflict is Conflict.PROHIBIT:
            return Decision(False, tuple(prohibited))
        message = (
            "permission and prohibition conflict: the policy is void (conflict strategy invalid)"
        )
        return Decision(False, (Reason(ReasonCode.CONFLICT, message), *prohibited))
    if prohibited:
        return Decision(False, tuple(prohibited))
    if granted:
        reason = Reason(ReasonCode.PERMITTED, f"{what} permitted by {best.name}", best.name)
        return Decision(True, (reason, *deferred), (*due, *_obligations(cp, ctx)))
    if not failures:
        failures.append(
            Reason(
                ReasonCode.NO_PERMISSION,
                f"no permission grants {what} to {ctx.requester or 'an anonymous party'}",
            )
        )
    return Decision(False, tuple(failures), tuple(blocked))


def _obligations(cp: CompiledPolicy, ctx: Context) -> list[DueDuty]:
    out = []
    for d in cp.obligations:
        if d.constraints is not None and d.constraints(ctx, []) == UNSAT:
            continue
        state = duty_state(d, ctx)
        if state is not DutyState.FULFILLED:
            out.append(DueDuty(d.duty, d.name, state, "obligation", None, bool(d.before)))
    return out


@dataclass(frozen=True, slots=True)
class RuleReport:
    """Why one rule is (in)active: each premise is None when the rule does not state it."""

    rule: Rule
    name: str
    action: bool | None
    party: bool | None
    target: bool | None
    constraint: bool | None
    duties: bool
    active: bool
    reasons: tuple[Reason, ...]


def explain(
    policy: CompiledPolicy | Policy, request: Request, ctx: Context
) -> tuple[RuleReport, ...]:
    """One report per permission and prohibition, every premise evaluated (slower)."""
    cp = policy if isinstance(policy, CompiledPolicy) else compile_policy(policy)
    m = _Match(request, ctx)
    out = []
    for rule in (*cp.permissions, *cp.prohibitions):
        # Doubt never grants: an unevaluable premise deactivates a permission but keeps a
        # prohibition active, as in `evaluate`.
        holds = SAT_OR_ERR if rule.rule.kind is RuleKind.PROHIBITION else SAT_ONLY
        notes: list[Note] = []
        action = None
        if rule.actions is not None:
            action = _action_ok(rule, m) and _refined(rule, m, ctx, notes) in holds
        party = None if rule.assignees is None else _party_ok(rule, m)
        target = None if rule.targets is None else _target_ok(rule, m)
        constraint = None
        if rule.constraints is not None:
            constraint = rule.constraints(ctx, notes) in holds
        reasons: list[Reason] = []
        _reasons(notes, rule.name, reasons)
        duties = not rule.duties or _duties(rule, ctx, reasons, [])
        active = all(p is not False for p in (action, party, target, constraint)) and duties
        out.append(
            RuleReport(
                rule.rule,
                rule.name,
                action,
                party,
                target,
                constraint,
                duties,
                active,
                tuple(reasons),
            )
        )
    return tuple(out)
