"""Dataset <-> DCAT / DCAT-AP RDF.

Export writes N-Triples lines directly (cheap, and the same text feeds the SPARQL store, one
named graph per dataset); `/catalog` turns them into Turtle, RDF/XML or JSON-LD. Import reads an
rdflib graph (any DCAT or DCAT-AP record, CKAN exports included) into Datasets, tolerating the
usual real-world deviations (literals where IRIs belong, decimals for byte sizes).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, XSD

from connector.catalog.model import Access, Dataset, Distribution

IANA = "https://www.iana.org/assignments/media-types/"
_A = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"


def _iri(value: str) -> str:
    # IRIs come from our own model or from parsed RDF: refuse what would break N-Triples
    if any(c in value for c in '<>"{}|^`\\ \n\r\t'):
        raise ValueError(f"not an IRI: {value!r}")
    return f"<{value}>"


def _lit(value: str, datatype: str | None = None) -> str:
    escaped = (
        value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    )
    return f'"{escaped}"' + (f"^^<{datatype}>" if datatype else "")


def _when(moment: datetime) -> str:
    return _lit(moment.astimezone(UTC).isoformat().replace("+00:00", "Z"), str(XSD.dateTime))


def ntriples(dataset: Dataset, access_url: str) -> str:
    """The dataset as DCAT-AP N-Triples; ACCESS_URL is where a consumer starts (our DSP
    endpoint for what we publish: remote sources and files are never exposed directly)."""
    s = _iri(dataset.iri)
    out = [
        f"{s} {_A} {_iri(str(DCAT.Dataset))}",
        f"{s} {_iri(str(DCTERMS.title))} {_lit(dataset.title)}",
        # dct:description is mandatory in DCAT-AP: fall back on the title
        f"{s} {_iri(str(DCTERMS.description))} {_lit(dataset.description or dataset.title)}",
        f"{s} {_iri(str(DCTERMS.publisher))} {_iri(dataset.publisher)}",
        f"{_iri(dataset.publisher)} {_A} {_iri(str(FOAF.Agent))}",
        f"{s} {_iri(str(DCTERMS.issued))} {_when(dataset.issued)}",
        f"{s} {_iri(str(DCTERMS.modified))} {_when(dataset.modified)}",
    ]
    out += [f"{s} {_iri(str(DCAT.keyword))} {_lit(k)}" for k in dataset.keywords]
    for d in dataset.distributions:
        o = _iri(d.iri)
        out += [
            f"{s} {_iri(str(DCAT.distribution))} {o}",
            f"{o} {_A} {_iri(str(DCAT.Distribution))}",
            f"{o} {_iri(str(DCAT.accessURL))} {_iri(d.access_url if dataset.source == 'import' and d.access_url else access_url)}",
        ]
        if dataset.source == "import" and d.download_url:
            out.append(f"{o} {_iri(str(DCAT.downloadURL))} {_iri(d.download_url)}")
        if d.title:
            out.append(f"{o} {_iri(str(DCTERMS.title))} {_lit(d.title)}")
        if d.media_type:
            out.append(f"{o} {_iri(str(DCAT.mediaType))} {_iri(IANA + d.media_type)}")
        if d.byte_size is not None:
            out.append(f"{o} {_iri(str(DCAT.byteSize))} {_lit(str(d.byte_size), str(XSD.nonNegativeInteger))}")
        if dataset.license:
            out.append(f"{o} {_iri(str(DCTERMS.license))} {_iri(dataset.license)}")
    if dataset.license:
        out.append(f"{_iri(dataset.license)} {_A} {_iri(str(DCTERMS.LicenseDocument))}")
    return " .\n".join(out) + " .\n"


# ---------------------------------------------------------------------------- import


def dataset_nodes(graph: Graph) -> list[URIRef | BNode]:
    return sorted(set(graph.subjects(RDF.type, DCAT.Dataset)), key=str)  # type: ignore[arg-type]


def _text(graph: Graph, node: object, prop: URIRef) -> str | None:
    values = [v for v in graph.objects(node, prop) if isinstance(v, Literal)]  # type: ignore[arg-type]
    if not values:
        return None
    # prefer English, then no language, then any: deterministic across re-imports
    values.sort(key=lambda v: ({"en": 0, None: 1}.get(v.language, 2), str(v)))
    return str(values[0]).strip() or None


def _ref(graph: Graph, node: object, prop: URIRef) -> str | None:
    """An IRI value; a literal that looks like a URL is accepted too (a common CKAN deviation)."""
    values = sorted(str(v) for v in graph.objects(node, prop) if not isinstance(v, BNode))  # type: ignore[arg-type]
    for value in values:
        try:
            _iri(value)
        except ValueError:
            continue
        if ":" in value:
            return value
    return None


def _size(graph: Graph, node: object) -> int | None:
    for value in graph.objects(node, DCAT.byteSize):  # type: ignore[arg-type]
        try:
            size = int(float(str(value)))
        except ValueError:
            continue
        if size >= 0:
            return size
    return None


def _media(graph: Graph, node: object) -> str | None:
    value = _ref(graph, node, DCAT.mediaType) or _text(graph, node, DCAT.mediaType)
    if value and value.startswith(IANA):
        return value[len(IANA):]
    return value if value and "/" in value and ":" not in value else None


def dataset_iri(graph: Graph, node: URIRef | BNode) -> str:
    if isinstance(node, URIRef):
        return str(node)
    # a blank-node dataset gets a stable IRI from its identifier or its title
    key = _text(graph, node, DCTERMS.identifier) or _text(graph, node, DCTERMS.title) or ""
    return "urn:communs:dataset:" + hashlib.sha256(key.encode()).hexdigest()[:32]


def local_id(iri: str) -> str:
    return hashlib.sha256(iri.encode()).hexdigest()[:32]


def _distributions(graph: Graph, node: object, iri: str) -> Iterator[Distribution]:
    found = []
    for d in graph.objects(node, DCAT.distribution):  # type: ignore[arg-type]
        found.append(
            Distribution(
                iri=str(d) if isinstance(d, URIRef) else "",
                title=_text(graph, d, DCTERMS.title),
                media_type=_media(graph, d),
                format=_ref(graph, d, DCTERMS["format"]) or _text(graph, d, DCTERMS["format"]),
                access_url=_ref(graph, d, DCAT.accessURL),
                download_url=_ref(graph, d, DCAT.downloadURL),
                byte_size=_size(graph, d),
            )
        )
    found.sort(key=lambda d: (d.iri, d.access_url or "", d.download_url or "", d.title or ""))
    for n, d in enumerate(found):
        yield d if d.iri else Distribution(**{**d.__dict__, "iri": f"{iri}#distribution-{n}"})


def from_graph(
    graph: Graph, node: URIRef | BNode, publisher: str, offers: tuple[str, ...], now: datetime
) -> Dataset:
    """One dcat:Dataset of GRAPH; ValueError if it cannot be a catalog entry at all."""
    iri = dataset_iri(graph, node)
    _iri(iri)  # raises ValueError: an IRI we could not write back out is refused here
    title = _text(graph, node, DCTERMS.title)
    if not title:
        raise ValueError("it has no dct:title")
    distributions = tuple(_distributions(graph, node, iri))
    license_ = _ref(graph, node, DCTERMS.license) or next(
        (x for d in graph.objects(node, DCAT.distribution) if (x := _ref(graph, d, DCTERMS.license))), None  # type: ignore[arg-type]
    )
    keywords = sorted({str(k).strip() for k in graph.objects(node, DCAT.keyword) if str(k).strip()})  # type: ignore[arg-type]
    return Dataset(
        id=local_id(iri),
        iri=iri,
        title=title,
        description=_text(graph, node, DCTERMS.description),
        keywords=tuple(keywords),
        license=license_,
        publisher=_ref(graph, node, DCTERMS.publisher) or publisher,
        access=Access.PUBLIC,
        offers=offers,
        distributions=distributions,
        issued=now,
        modified=now,
        source="import",
    )
