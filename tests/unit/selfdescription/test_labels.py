"""Label level 1 needs every level-1 criterion answered Confirm, and only Confirm: a Deny
given beside a Confirm does not earn the label."""

from __future__ import annotations

from rdflib import RDF, BNode, Graph, Literal, URIRef

from connector.selfdescription.labels import label_problems, level_1_criteria
from connector.selfdescription.model import GX_TAGUS, Framework


def labelled(extra_deny: str | None) -> Graph:
    graph = Graph()
    label, answers = URIRef("https://example.org/label"), BNode()
    graph.add((label, RDF.type, URIRef(GX_TAGUS + "ServiceOfferingLabelLevel1")))
    graph.add((label, URIRef(GX_TAGUS + "criteria"), answers))
    criteria, required = level_1_criteria()
    for criterion in criteria:
        responses = [required] + (["Deny"] if criterion == extra_deny else [])
        for response in responses:
            answer = BNode()
            graph.add((answers, URIRef(GX_TAGUS + criterion), answer))
            graph.add((answer, URIRef(GX_TAGUS + "response"), Literal(response)))
    return graph


def test_every_criterion_confirmed_earns_the_label():
    assert label_problems(labelled(None), Framework.TAGUS) == []


def test_a_deny_beside_a_confirm_does_not():
    criterion = level_1_criteria()[0][3]
    [problem] = label_problems(labelled(criterion), Framework.TAGUS)
    assert f"{criterion} (Confirm, Deny)" in problem.message
