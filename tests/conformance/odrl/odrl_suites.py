"""Readers for the ODRL conformance data in /work/shared/specs/odrl (test harness only).

The SolidLab suite is Turtle: a test case names a policy, a request, a state of the world
(sotw) and the expected compliance report. The W3C formal-semantics examples are JSON-LD whose
request/state contexts are remote (not bundled): the harness reads them as plain JSON.
"""

from __future__ import annotations

import glob
import json
import os
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

from rdflib import RDF, Graph, Namespace, URIRef

from policies.literals import parse_datetime
from policies.model import Policy
from policies.operands import Context, DutyMode, DutyState
from policies.parse import policy_from_graph

SPECS = Path(os.environ.get("COMMUNS_SPECS", "/work/shared/specs")) / "odrl"
SOLIDLAB = SPECS / "solidlab-odrl-test-suite" / "data"
FORMAL = SPECS / "w3c-formal-semantics-examples"
IDS_POLICIES = (
    SPECS / "ids-g-usage-control-policy-classes" / "UsageControl" / "Contract" / "Policies"
)

ODRL = Namespace("http://www.w3.org/ns/odrl/2/")
EX = Namespace("http://example.org/")
REPORT = Namespace("https://w3id.org/force/compliance-report#")
DCT = Namespace("http://purl.org/dc/terms/")
TEMP = Namespace("http://example.com/request/")

_DEONTIC = {
    "Fulfilled": DutyState.FULFILLED,
    "Violated": DutyState.VIOLATED,
    "NonSet": DutyState.NOT_SET,
}


@dataclass(frozen=True)
class SolidLabCase:
    name: str
    title: str
    policy: URIRef
    request: URIRef
    sotw: URIRef
    rule: str
    rule_kind: str  # PermissionReport | ProhibitionReport
    active: bool
    premises: dict[str, bool]  # Action/Party/Target/Constraint -> satisfied
    dangling_premises: int  # premise reports referenced but not described (upstream defect)


def _local(iri: object) -> str:
    return str(iri).rsplit("#", 1)[-1]


@cache
def _graphs(folder: str) -> dict[URIRef, Graph]:
    out = {}
    for path in sorted(glob.glob(str(SOLIDLAB / folder / "*.ttl"))):
        graph = Graph().parse(path)
        for subject in set(graph.subjects(RDF.type, None)):
            if isinstance(subject, URIRef):
                out[subject] = graph
    return out


def solidlab_cases() -> list[SolidLabCase]:
    cases = []
    for path in sorted(glob.glob(str(SOLIDLAB / "test_cases" / "*.ttl"))):
        g = Graph().parse(path)
        tc = next(g.subjects(RDF.type, EX.TestCase))
        report = g.value(tc, EX.expectedReport)
        rule_report = g.value(report, REPORT.ruleReport)
        premises, dangling = {}, 0
        for p in g.objects(rule_report, REPORT.premiseReport):
            kind = g.value(p, RDF.type)
            if kind is None:
                dangling += 1
                continue
            premises[_local(kind).removesuffix("Report")] = (
                g.value(p, REPORT.satisfactionState) == REPORT.Satisfied
            )
        cases.append(
            SolidLabCase(
                name=Path(path).stem,
                title=str(g.value(tc, DCT.title)),
                policy=g.value(tc, EX.policy),
                request=g.value(tc, EX.request),
                sotw=g.value(tc, EX.sotw),
                rule=str(g.value(rule_report, REPORT.rule)),
                rule_kind=_local(g.value(rule_report, RDF.type)),
                active=g.value(rule_report, REPORT.activationState) == REPORT.Active,
                premises=premises,
                dangling_premises=dangling,
            )
        )
    return cases


@cache
def solidlab_policy(iri: URIRef) -> Policy:
    # The suite's "everything" rules have no action: ODRL 2.2 requires one (IM §2.6).
    return policy_from_graph(_graphs("policies")[iri], uid=str(iri), require_action=False)


def solidlab_request(iri: URIRef) -> tuple[str | None, str, str | None]:
    """(assignee, action, target) of the request's permission."""
    g = _graphs("requests")[iri]
    perm = g.value(iri, ODRL.permission)
    assignee, target = g.value(perm, ODRL.assignee), g.value(perm, ODRL.target)
    return (
        str(assignee) if assignee else None,
        str(g.value(perm, ODRL.action)),
        str(target) if target else None,
    )


def solidlab_context(iri: URIRef, requester: str | None, mode: DutyMode) -> Context:
    g = _graphs("sotw")[iri]
    now: datetime = parse_datetime(str(g.value(TEMP.currentTime, DCT.issued)))
    part_of: dict[str, set[str]] = {}
    for s, o in g.subject_objects(ODRL.partOf):
        part_of.setdefault(str(s), set()).add(str(o))
    duties = {
        str(g.value(r, REPORT.rule)): _DEONTIC[_local(g.value(r, REPORT.deonticState))]
        for r in g.subjects(RDF.type, REPORT.DutyReport)
    }
    return Context(
        now=now,
        requester=requester,
        part_of={k: frozenset(v) for k, v in part_of.items()},
        duty_states=duties,
        duty_mode=mode,
    )


# --- W3C formal semantics ------------------------------------------------------------------


@dataclass(frozen=True)
class FormalCase:
    name: str
    policy_path: Path
    request: dict
    report: dict
    state: dict | None

    @property
    def permit(self) -> bool:
        for value in self.report.values():
            if isinstance(value, dict) and "report:controlState" in value:
                return value["report:controlState"] == "report:Permit"
        raise AssertionError(f"{self.name}: no controlState in the report")


def formal_cases() -> list[FormalCase]:
    cases = []
    for folder in sorted(p for p in FORMAL.glob("*/*/*") if p.is_dir()):
        (request,) = folder.glob("evaluationrequest*.json")
        (report,) = folder.glob("compliancereport*.json")
        states = list(folder.glob("state*.json"))
        (policy,) = folder.parent.glob("policy*.json")
        cases.append(
            FormalCase(
                name=folder.name,
                policy_path=policy,
                request=json.loads(request.read_text()),
                report=json.loads(report.read_text()),
                state=json.loads(states[0].read_text()) if states else None,
            )
        )
    return cases


def formal_policies() -> list[Path]:
    return sorted(FORMAL.glob("*/*/policy*.json"))


def ids_examples() -> list[tuple[str, object | None]]:
    """(file name, parsed JSON or None when the file is not valid JSON)."""
    out = []
    for path in sorted(IDS_POLICIES.glob("*.json")):
        try:
            out.append((path.name, json.loads(path.read_text())))
        except ValueError:
            out.append((path.name, None))
    return out
