"""Content negotiation and the lexical guard: pure functions, no store."""

from __future__ import annotations

import pytest

from connector.sparql.formats import Kind, acceptable_at_all, choose, parse_accept
from connector.sparql.guard import QueryRefused, check_query


def media(kind: Kind, accept: str | None) -> str | None:
    fmt = choose(kind, parse_accept(accept))
    return fmt.media if fmt else None


@pytest.mark.parametrize(
    ("kind", "accept", "expected"),
    [
        (Kind.SOLUTIONS, None, "application/sparql-results+json"),
        (Kind.SOLUTIONS, "*/*", "application/sparql-results+json"),
        (Kind.SOLUTIONS, "application/sparql-results+xml", "application/sparql-results+xml"),
        (Kind.SOLUTIONS, "text/csv", "text/csv"),
        (Kind.SOLUTIONS, "text/tab-separated-values", "text/tab-separated-values"),
        (
            Kind.SOLUTIONS,
            "text/csv;q=0.5, application/sparql-results+xml",
            "application/sparql-results+xml",
        ),
        (Kind.SOLUTIONS, "application/json", "application/sparql-results+json"),
        (Kind.SOLUTIONS, "text/*", "text/csv"),
        (Kind.BOOLEAN, "text/csv, */*;q=0.1", "application/sparql-results+json"),
        (Kind.BOOLEAN, "text/csv", None),
        (Kind.GRAPH, None, "text/turtle"),
        (Kind.GRAPH, "application/n-triples", "application/n-triples"),
        (Kind.GRAPH, "application/ld+json", "application/ld+json"),
        (Kind.GRAPH, "application/rdf+xml", "application/rdf+xml"),
        (Kind.GRAPH, "application/sparql-results+json", None),
        (Kind.GRAPH, "text/turtle;q=0, */*", "application/n-triples"),
        (Kind.SOLUTIONS, "image/png", None),
    ],
)
def test_negotiation(kind, accept, expected):
    assert media(kind, accept) == expected


def test_a_browser_gets_something_and_an_image_client_nothing():
    assert acceptable_at_all(parse_accept("text/html,application/xhtml+xml,*/*;q=0.8"))
    assert not acceptable_at_all(parse_accept("image/png, text/html"))


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * { ?s ?p ?o }",
        "PREFIX service: <http://e/> SELECT ?service { ?service service:p 'SERVICE' } # SERVICE",
        "SELECT * { ?s <http://e/SERVICE> ?o FILTER(?o<?s) }",
        "PREFIX insert: <http://e/> SELECT * { ?s insert:x ?o }",
        "ASK " + "{" * 100 + "}" * 100,
    ],
)
def test_ordinary_queries_pass(query):
    check_query(query)


@pytest.mark.parametrize(
    ("query", "status", "words"),
    [
        ("SELECT * { SERVICE <http://evil/> { ?s ?p ?o } }", 400, "SERVICE"),
        ("select * {service<http://evil/>{?s ?p ?o}}", 400, "SERVICE"),
        ("SELECT * { SERVICE SILENT ?x { ?s ?p ?o } }", 400, "SERVICE"),
        ("PREFIX e: <http://e/> INSERT DATA { e:a e:b e:c }", 403, "read-only"),
        ("DELETE WHERE { ?s ?p ?o }", 403, "read-only"),
        ("CLEAR ALL", 403, "read-only"),
        ("LOAD <http://e/data>", 403, "read-only"),
        ("SELECT * " + "{" * 5000 + "}" * 5000, 400, "nests"),
        ("SELECT (" + "(" * 1000 + "1" + ")" * 1000 + " AS ?x) {}", 400, "nests"),
    ],
)
def test_refusals(query, status, words):
    with pytest.raises(QueryRefused) as caught:
        check_query(query)
    assert caught.value.status == status
    assert words in str(caught.value)
