"""The federated catalog as DCAT-AP for open-data harvesters: the datasets of every member's
public DCAT export (never the DSP catalogs, which hold what members may see), a page at a
time, each dataset with its distributions, under one dcat:Catalog with a Hydra paged view."""

from __future__ import annotations

import pyoxigraph as ox

from connector.crawler.graphs import PREFIX

DCAT = "http://www.w3.org/ns/dcat#"
DCT = "http://purl.org/dc/terms/"
HYDRA = "http://www.w3.org/ns/hydra/core#"
XSD_INTEGER = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
DATASET = ox.NamedNode(DCAT + "Dataset")
DCAT_GRAPHS = PREFIX + "dcat:"
_FOLLOW = {ox.NamedNode(DCAT + "distribution"), ox.NamedNode(DCAT + "contactPoint")}


def _public_graphs(store: ox.Store) -> list[ox.NamedNode]:
    return sorted((g for g in store.named_graphs()
                   if isinstance(g, ox.NamedNode) and g.value.startswith(DCAT_GRAPHS)),
                  key=lambda g: g.value)


def page(store: ox.Store, offset: int, limit: int) -> tuple[list[ox.Triple], list[str], int]:
    """(the triples describing the page's datasets, their IRIs, how many there are in all),
    in a stable order: by member graph, then dataset IRI."""
    listed: list[tuple[ox.NamedNode, ox.NamedNode | ox.BlankNode]] = []
    for g in _public_graphs(store):
        found = sorted({q.subject for q in store.quads_for_pattern(None, RDF_TYPE, DATASET, g)
                        if isinstance(q.subject, ox.NamedNode)}, key=lambda s: s.value)
        listed += [(g, s) for s in found]
    total = len(listed)
    triples: list[ox.Triple] = []
    for g, dataset in listed[offset:offset + limit]:
        seen: set[ox.NamedNode | ox.BlankNode] = set()
        todo: list[ox.NamedNode | ox.BlankNode] = [dataset]
        while todo:  # the dataset, its blank nodes and its distributions
            node = todo.pop()
            if node in seen:
                continue
            seen.add(node)
            for q in store.quads_for_pattern(node, None, None, g):
                triples.append(q.triple)
                if isinstance(q.object, ox.BlankNode) or (q.predicate in _FOLLOW and isinstance(q.object, ox.NamedNode)):
                    todo.append(q.object)
    return triples, [d.value for _, d in listed[offset:offset + limit]], total


def links(base: str, offset: int, limit: int, total: int) -> dict[str, str]:
    out = {"self": f"{base}?offset={offset}&limit={limit}", "first": f"{base}?offset=0&limit={limit}"}
    if offset + limit < total:
        out["next"] = f"{base}?offset={offset + limit}&limit={limit}"
    if offset > 0:
        out["previous"] = f"{base}?offset={max(0, offset - limit)}&limit={limit}"
    out["last"] = f"{base}?offset={max(0, (total - 1) // limit * limit)}&limit={limit}"
    return out


def catalog(base: str, title: str, publisher: str | None, datasets: list[str],
            paging: dict[str, str], total: int) -> list[ox.Triple]:
    """The catalog node, its datasets on this page, and the Hydra view (new and old terms:
    harvesters read either)."""
    c = ox.NamedNode(base)
    out = [ox.Triple(c, RDF_TYPE, ox.NamedNode(DCAT + "Catalog")),
           ox.Triple(c, ox.NamedNode(DCT + "title"), ox.Literal(title)),
           ox.Triple(c, ox.NamedNode(DCT + "description"),
                     ox.Literal("The datasets the members of the federation publish, as crawled"))]
    if publisher:
        out.append(ox.Triple(c, ox.NamedNode(DCT + "publisher"), ox.NamedNode(publisher)))
    out += [ox.Triple(c, ox.NamedNode(DCAT + "dataset"), ox.NamedNode(d)) for d in datasets]
    view = ox.NamedNode(paging["self"])
    out += [ox.Triple(c, ox.NamedNode(HYDRA + "view"), view),
            ox.Triple(view, RDF_TYPE, ox.NamedNode(HYDRA + "PartialCollectionView")),
            ox.Triple(view, RDF_TYPE, ox.NamedNode(HYDRA + "PagedCollection")),
            ox.Triple(view, ox.NamedNode(HYDRA + "totalItems"), ox.Literal(str(total), datatype=XSD_INTEGER))]
    for rel, url in paging.items():
        if rel != "self":
            out.append(ox.Triple(view, ox.NamedNode(HYDRA + rel), ox.NamedNode(url)))
            out.append(ox.Triple(view, ox.NamedNode(HYDRA + rel + "Page"), ox.NamedNode(url)))
    return out
