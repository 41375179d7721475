"""Label-level criteria (Tagus 22.10): a service offering earns label level 1 only when every
level-1 criterion of the Policy Rules and Labelling Document is answered "Confirm".

SHACL only checks that each criterion has a response from the allowed list ("Confirm",
"Deny", "Not applicable"); which of them a label needs is a business rule of gx-compliance.
The criteria list is data: vocab/data/gaiax-tagus-22.10-label-level-1-criteria.json.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from connector.selfdescription import report as r
from connector.selfdescription.model import GX_TAGUS, Framework
from connector.selfdescription.report import Problem

CRITERIA_FILE = "gaiax-tagus-22.10-label-level-1-criteria.json"


@cache
def level_1_criteria() -> tuple[tuple[str, ...], str]:
    """The criteria (e.g. "P1.1.1") and the response each must have."""
    data = json.loads((resources.files("vocab") / "data" / CRITERIA_FILE).read_text())
    return tuple(data["criteria"]), data["required_response"]


def label_problems(graph: Graph, framework: Framework | None) -> list[Problem]:
    if framework is not Framework.TAGUS:
        return []  # 25.11 labels are awarded by the compliance service, not self-declared
    criteria, required = level_1_criteria()
    problems: list[Problem] = []
    for label in graph.subjects(RDF.type, URIRef(GX_TAGUS + "ServiceOfferingLabelLevel1")):
        offering = next(iter(graph.objects(label, URIRef(GX_TAGUS + "assignedTo"))), label)
        unmet: list[str] = []
        for criterion in criteria:
            responses = {
                str(response)
                for answers in graph.objects(label, URIRef(GX_TAGUS + "criteria"))
                for answer in graph.objects(answers, URIRef(GX_TAGUS + criterion))
                for response in graph.objects(answer, URIRef(GX_TAGUS + "response"))
            }
            if responses != {required}:  # a Deny beside a Confirm is not a Confirm
                unmet.append(f"{criterion} ({', '.join(sorted(responses)) or 'no answer'})")
        if unmet:
            problems.append(
                Problem(
                    r.LABEL,
                    f"the service offering {offering} does not earn label level 1: criteria "
                    + ", ".join(unmet)
                    + f" must be answered {required!r}",
                    str(label),
                    GX_TAGUS + "criteria",
                )
            )
    return problems
