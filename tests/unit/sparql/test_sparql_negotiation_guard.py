"""Content negotiation and the lexical guard: pure functions, no store."""

from __future__ import annotations

import pytest

from connector.sparql.formats import Kind, acceptable_at_all, choose, parse_accept
from connector.sparql.guard import QueryRefused, check_query, names_dataset


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
        # a header naming no format of the query form gets the form's default (rdflib's
        # SPARQLStore sends one Accept for every form)
        (Kind.BOOLEAN, "text/csv", "application/sparql-results+json"),
        (Kind.GRAPH, None, "text/turtle"),
        (Kind.GRAPH, "application/n-triples", "application/n-triples"),
        (Kind.GRAPH, "application/ld+json", "application/ld+json"),
        (Kind.GRAPH, "application/rdf+xml", "application/rdf+xml"),
        (Kind.GRAPH, "application/sparql-results+json", "text/turtle"),
        (Kind.GRAPH, "application/sparql-results+xml, application/rdf+xml", "application/rdf+xml"),
        (Kind.GRAPH, "text/csv", "text/turtle"),
        (Kind.GRAPH, "text/turtle;q=0, */*", "application/n-triples"),
        (Kind.GRAPH, "text/turtle;q=0", "application/n-triples"),
        (Kind.GRAPH, "text/*;q=0", "application/n-triples"),
        (Kind.SOLUTIONS, "image/png", "application/sparql-results+json"),
        (Kind.SOLUTIONS, "text/turtle", "application/sparql-results+json"),
        (Kind.SOLUTIONS, "application/n-triples", "application/sparql-results+json"),
        (
            Kind.SOLUTIONS,
            "application/sparql-results+json;q=0, text/turtle",
            "application/sparql-results+xml",
        ),
        (Kind.SOLUTIONS, "text/*;q=0.5, text/csv;q=0", "text/tab-separated-values"),
        # only a header that refuses every format of the form (q=0) gets nothing: 406
        (Kind.SOLUTIONS, "*/*;q=0", None),
        (Kind.GRAPH, "image/png, */*;q=0", None),
        (Kind.BOOLEAN, "application/*;q=0, text/csv", None),
    ],
)
def test_negotiation(kind, accept, expected):
    assert media(kind, accept) == expected


def test_406_only_when_every_format_is_refused():
    assert acceptable_at_all(parse_accept("text/html,application/xhtml+xml,*/*;q=0.8"))
    assert acceptable_at_all(parse_accept("image/png, text/html"))
    assert acceptable_at_all(parse_accept("text/turtle, */*;q=0"))
    assert not acceptable_at_all(parse_accept("image/png, */*;q=0"))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("SELECT * FROM <urn:g> { ?s ?p ?o }", True),
        ("select * from named <urn:g> { graph ?g { ?s ?p ?o } }", True),
        ("ASK FROM<urn:g>{}", True),
        ("CONSTRUCT { ?s ?p ?o } FROM <urn:g> WHERE { ?s ?p ?o }", True),
        ("DESCRIBE <urn:a> FROM <urn:g>", True),
        ("PREFIX e: <http://e/> SELECT * FROM e:g WHERE { ?s ?p ?o }", True),
        ("SELECT * { ?s ?p ?o }", False),
        ("SELECT * { ?s ?p 'from' } # FROM <urn:g>", False),
        ('SELECT * { ?s ?p "x"@from }', False),
        ("SELECT ?from { ?from ?p <http://e/FROM> }", False),
        ("PREFIX from: <http://e/> SELECT * { ?s from:p ?o }", False),
        ("SELECT * { GRAPH <urn:g> { ?s ?p ?o } }", False),
    ],
)
def test_a_query_names_its_dataset_only_with_from(query, expected):
    assert names_dataset(query) is expected


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
        # a dataset clause changes nothing to the guard's limits
        ("SELECT * FROM <urn:g> { SERVICE <http://evil/> { ?s ?p ?o } }", 400, "SERVICE"),
        ("SELECT * FROM NAMED <urn:g> " + "{" * 500 + "}" * 500, 400, "nests"),
        ("SELECT * " + "FROM <urn:g> " * 30_000 + "{}", 400, "tokens"),
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
