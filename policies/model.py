"""The ODRL 2.2 policy model: immutable values, parsed once and evaluated many times.

IRIs are plain `str`. A rule's `actions` is a tuple because published policies (IDS policy
classes, DSP offers) put several actions in one rule; ODRL 2.2 reads such a rule as one
atomic rule per action (IM §2.7.1, "compact policies"), and so does the evaluator.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from policies import terms as T


class PolicyType(StrEnum):
    SET = T.SET
    OFFER = T.OFFER
    AGREEMENT = T.AGREEMENT


class RuleKind(StrEnum):
    PERMISSION = T.ODRL + "Permission"
    PROHIBITION = T.ODRL + "Prohibition"
    DUTY = T.ODRL + "Duty"


class Conflict(StrEnum):
    PERM = T.PERM
    PROHIBIT = T.PROHIBIT
    INVALID = T.INVALID


@dataclass(frozen=True, slots=True)
class Literal:
    """An RDF literal; `datatype` None is a plain (untyped) string."""

    value: str
    datatype: str | None = None


@dataclass(frozen=True, slots=True)
class Ref:
    """An IRI used as a value (a right operand that is a resource)."""

    iri: str


Operand = Literal | Ref


@dataclass(frozen=True, slots=True)
class Constraint:
    left: str
    operator: str
    right: tuple[Operand, ...] = ()
    uid: str | None = None
    unit: str | None = None
    datatype: str | None = None
    right_reference: str | None = None  # odrl:rightOperandReference: never dereferenced


@dataclass(frozen=True, slots=True)
class LogicalConstraint:
    operator: str  # odrl:or | odrl:xone | odrl:and | odrl:andSequence
    operands: tuple[AnyConstraint, ...]
    uid: str | None = None


AnyConstraint = Constraint | LogicalConstraint


@dataclass(frozen=True, slots=True)
class Action:
    iri: str
    refinements: tuple[AnyConstraint, ...] = ()
    uid: str | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    """A Permission, Prohibition or Duty (a policy-level obligation is a Duty too).

    `actions == ()` means "any action": ODRL 2.2 requires one, the SolidLab suite omits it;
    the parser accepts it only when asked to (`require_action=False`).
    """

    kind: RuleKind
    actions: tuple[Action, ...]
    uid: str | None = None
    targets: tuple[str, ...] = ()
    assigner: str | None = None
    assignees: tuple[str, ...] = ()
    constraints: tuple[AnyConstraint, ...] = ()
    duties: tuple[Rule, ...] = ()  # Permission: duties (conditions of the permission)
    remedies: tuple[Rule, ...] = ()  # Prohibition: what is due if it is violated
    consequences: tuple[Rule, ...] = ()  # Duty: what is due if it is not fulfilled
    parties: tuple[tuple[str, str], ...] = ()  # other party functions: (property IRI, party)


@dataclass(frozen=True, slots=True)
class Policy:
    type: PolicyType
    uid: str
    permissions: tuple[Rule, ...] = ()
    prohibitions: tuple[Rule, ...] = ()
    obligations: tuple[Rule, ...] = ()
    assigner: str | None = None
    assignees: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    profiles: tuple[str, ...] = ()
    conflict: Conflict | None = None  # None: not stated; ODRL 2.2 then means `invalid`
    inherit_from: tuple[str, ...] = ()

    @property
    def rules(self) -> tuple[Rule, ...]:
        return self.permissions + self.prohibitions + self.obligations
