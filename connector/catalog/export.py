"""The public catalog as DCAT-AP for harvesters (`GET /catalog`): Turtle, JSON-LD, RDF/XML or
N-Triples by Accept, paged with Link headers and a Hydra view (what ckanext-dcat follows)."""

from __future__ import annotations

import hashlib

import pyoxigraph as ox

from connector.catalog.dcat import _iri, _lit
from connector.catalog.model import Dataset

FORMATS = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
}
DEFAULT = "text/turtle"
_A = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
DCAT = "http://www.w3.org/ns/dcat#"
DCT = "http://purl.org/dc/terms/"
HYDRA = "http://www.w3.org/ns/hydra/core#"
FOAF = "http://xmlns.com/foaf/0.1/"


def choose(accept: str | None) -> str | None:
    """The media type to answer with; None when nothing acceptable is offered (406)."""
    if not accept:
        return DEFAULT
    ranked = []
    for n, part in enumerate(accept.split(",")):
        media, *params = [p.strip() for p in part.split(";")]
        q = 1.0
        for p in params:
            if p.startswith("q="):
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 0.0
        ranked.append((-q, n, media.lower()))
    for negative_q, _, media in sorted(ranked):
        if negative_q >= 0:
            continue
        if media in FORMATS:
            return media
        if media in ("*/*", "text/*", "application/*"):
            return DEFAULT if media != "application/*" else "application/ld+json"
    return None


def catalog_ntriples(
    catalog_iri: str,
    title: str,
    publisher: str,
    lines: list[str],
    datasets: list[Dataset],
    links: dict[str, str],
    total: int,
) -> str:
    c = _iri(catalog_iri)
    out = [
        f"{c} {_A} <{DCAT}Catalog>",
        f"{c} <{DCT}title> {_lit(title)}",
        f"{c} <{DCT}description> {_lit(f'The public catalog of {title}')}",
        f"{c} <{DCT}publisher> {_iri(publisher)}",
        f"{_iri(publisher)} {_A} <{FOAF}Agent>",
        f"{_iri(publisher)} <{FOAF}name> {_lit(title)}",
    ]
    out += [f"{c} <{DCAT}dataset> {_iri(d.iri)}" for d in datasets]
    if links:
        view = _iri(links["self"])
        out += [
            f"{c} <{HYDRA}view> {view}",
            f"{view} {_A} <{HYDRA}PartialCollectionView>",
            f"{view} <{HYDRA}totalItems> {_lit(str(total), 'http://www.w3.org/2001/XMLSchema#integer')}",
        ]
        out += [f"{view} <{HYDRA}{rel}> {_iri(url)}" for rel, url in links.items() if rel != "self"]
        # the older Hydra paging terms too: ckanext-dcat's harvester reads either
        out.append(f"{view} {_A} <{HYDRA}PagedCollection>")
        out += [f"{view} <{HYDRA}{rel}Page> {_iri(url)}" for rel, url in links.items() if rel != "self"]
    return " .\n".join(out) + " .\n" + "".join(lines)


def serialize(ntriples: str, media: str) -> bytes:
    triples = ox.parse(ntriples, ox.RdfFormat.N_TRIPLES)
    prefixes = {"dcat": DCAT, "dct": DCT, "foaf": FOAF, "hydra": HYDRA}
    fmt = FORMATS[media]
    if fmt in (ox.RdfFormat.TURTLE, ox.RdfFormat.RDF_XML):
        return ox.serialize(triples, format=fmt, prefixes=prefixes)
    return ox.serialize(triples, format=fmt)


def page_tag(*, what: str, media: str, levels: list[str], offset: int, limit: int,
             window: list[tuple[str, str]], total: int, extra: str = "") -> str:
    """A strong ETag for one page: what the page holds (the content hashes of its window of
    datasets, in id order) and what frames it (the total, which the links depend on, the
    format, who may see what). Cheap: no dataset is loaded or rendered to compute it."""
    text = "\x1f".join([what, media, ",".join(levels), str(offset), str(limit), str(total), extra,
                        *(f"{iri} {h}" for iri, h in window)])
    return '"' + hashlib.sha256(text.encode()).hexdigest()[:40] + '"'


def matches(if_none_match: str | None, tag: str) -> bool:
    """Whether an If-None-Match header names TAG (weak comparison, as RFC 9110 asks)."""
    if not if_none_match:
        return False
    given = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return tag in given or "*" in given
