"""Reusable policy templates: what a provider attaches to a dataset without writing ODRL.

Each returns an Offer (ODRL 2.2: an Offer names its assigner, the provider). `TEMPLATES`
maps the names the CLI accepts (`--policy open|members|...`) to these functions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from policies import terms as T
from policies.model import (
    Action,
    AnyConstraint,
    Constraint,
    Literal,
    LogicalConstraint,
    Policy,
    PolicyType,
    Ref,
    Rule,
    RuleKind,
)

EURO = "http://dbpedia.org/resource/Euro"
USE = T.odrl("use")


def _dt(moment: datetime) -> Literal:
    if moment.tzinfo is None:
        raise ValueError("templates need timezone-aware datetimes")
    return Literal(moment.isoformat().replace("+00:00", "Z"), T.XSD + "dateTime")


def _int(n: int) -> Literal:
    if n < 0:
        raise ValueError("a limit cannot be negative")
    return Literal(str(n), T.XSD + "integer")


def _offer(
    uid: str,
    assigner: str,
    target: str | None,
    constraints: Sequence[AnyConstraint] = (),
    *,
    action: Action | None = None,
    duties: Sequence[Rule] = (),
) -> Policy:
    rule = Rule(
        kind=RuleKind.PERMISSION,
        actions=(action or Action(USE),),
        constraints=tuple(constraints),
        duties=tuple(duties),
    )
    return Policy(
        type=PolicyType.OFFER,
        uid=uid,
        permissions=(rule,),
        assigner=assigner,
        targets=(target,) if target else (),
        profiles=(T.PROFILE,),
    )


def open_offer(uid: str, assigner: str, target: str | None = None) -> Policy:
    """Anyone may use the dataset."""
    return _offer(uid, assigner, target)


def members_offer(
    uid: str, assigner: str, trusted_issuers: Sequence[str], target: str | None = None
) -> Policy:
    """The requester holds a verified MembershipCredential from one of TRUSTED_ISSUERS."""
    if not trusted_issuers:
        raise ValueError("a members policy needs at least one trusted issuer")
    membership = Constraint(
        T.communs("membership"), T.odrl("isAnyOf"), tuple(Ref(i) for i in trusted_issuers)
    )
    return _offer(uid, assigner, target, (membership,))


def time_limited_offer(
    uid: str,
    assigner: str,
    *,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    for_duration: str | None = None,
    target: str | None = None,
) -> Policy:
    """Use between two instants and/or for an xsd:duration (e.g. "P30D") after agreement."""
    constraints: list[AnyConstraint] = []
    if not_before is not None:
        constraints.append(Constraint(T.odrl("dateTime"), T.odrl("gteq"), (_dt(not_before),)))
    if not_after is not None:
        constraints.append(Constraint(T.odrl("dateTime"), T.odrl("lt"), (_dt(not_after),)))
    if for_duration is not None:
        duration = Literal(for_duration, T.XSD + "duration")
        constraints.append(Constraint(T.odrl("elapsedTime"), T.odrl("lteq"), (duration,)))
    if not constraints:
        raise ValueError("a time-limited policy needs a bound")
    return _offer(uid, assigner, target, constraints)


def purpose_offer(
    uid: str, assigner: str, purposes: Sequence[str], target: str | None = None
) -> Policy:
    """Use only for one of PURPOSES (IRIs, e.g. a DPV purpose)."""
    if not purposes:
        raise ValueError("a purpose-restricted policy needs a purpose")
    rights = tuple(Ref(p) if ":" in p else Literal(p) for p in purposes)
    return _offer(
        uid, assigner, target, (Constraint(T.odrl("purpose"), T.odrl("isAnyOf"), rights),)
    )


def count_limited_offer(
    uid: str, assigner: str, max_uses: int, target: str | None = None
) -> Policy:
    """At most MAX_USES exercises under one agreement."""
    return _offer(
        uid, assigner, target, (Constraint(T.odrl("count"), T.odrl("lteq"), (_int(max_uses),)),)
    )


def pay_per_use_offer(
    uid: str,
    assigner: str,
    amount: Decimal,
    currency: str = EURO,
    target: str | None = None,
) -> Policy:
    """Each use is paid first: a compensate duty refined by payAmount, before use."""
    pay = Action(
        T.odrl("compensate"),
        (
            Constraint(
                T.odrl("payAmount"),
                T.odrl("eq"),
                (Literal(str(amount), T.XSD + "decimal"),),
                unit=currency,
            ),
        ),
    )
    before = Constraint(T.odrl("event"), T.odrl("lt"), (Ref(T.odrl("policyUsage")),))
    duty = Rule(kind=RuleKind.DUTY, actions=(pay,), constraints=(before,))
    return _offer(uid, assigner, target, duties=(duty,))


def compute_offer(
    uid: str,
    assigner: str,
    *,
    algorithms: Sequence[str] = (),
    max_output_bytes: int | None = None,
    max_runs: int | None = None,
    target: str | None = None,
    publishers: Sequence[str] = (),
    manual_release: bool = False,
) -> Policy:
    """Compute-to-data only: run allowed algorithms (by hash, or signed by one of PUBLISHERS:
    either suffices) at the provider, bounded output, results released by a person if asked.

    The restrictions are constraints of the permission, not refinements of its action: DSP
    2025-1 actions are plain IRIs. Their operands are deferred until a run provides them."""
    constraints: list[AnyConstraint] = []
    by_hash = Constraint(
        T.communs("algorithm"), T.odrl("isAnyOf"), tuple(Literal(a) for a in algorithms)
    )
    by_publisher = Constraint(
        T.communs("algorithmPublisher"), T.odrl("isAnyOf"), tuple(Ref(p) for p in publishers)
    )
    if algorithms and publishers:
        constraints.append(LogicalConstraint(T.odrl("or"), (by_hash, by_publisher)))
    elif algorithms:
        constraints.append(by_hash)
    elif publishers:
        constraints.append(by_publisher)
    if manual_release:
        constraints.append(
            Constraint(T.communs("release"), T.odrl("eq"), (Ref(T.communs("manual")),))
        )
    if max_output_bytes is not None:
        constraints.append(
            Constraint(T.communs("outputSize"), T.odrl("lteq"), (_int(max_output_bytes),))
        )
    if max_runs is not None:
        constraints.append(Constraint(T.odrl("count"), T.odrl("lteq"), (_int(max_runs),)))
    return _offer(uid, assigner, target, constraints, action=Action(T.COMPUTE))


TEMPLATES: dict[str, Callable[..., Policy]] = {
    "open": open_offer,
    "members": members_offer,
    "time-limited": time_limited_offer,
    "purpose": purpose_offer,
    "count-limited": count_limited_offer,
    "pay-per-use": pay_per_use_offer,
    "compute": compute_offer,
}


def from_template(name: str, uid: str, assigner: str, **params: Any) -> Policy:
    try:
        build = TEMPLATES[name]
    except KeyError:
        raise ValueError(
            f"unknown policy template {name!r}; known: {', '.join(TEMPLATES)}"
        ) from None
    return build(uid, assigner, **params)
