"""The federated catalog: search across members with facets (publisher, keyword, theme,
licence) over the node's /federation/sparql, a dataset page with the provider's offers, and a
"negotiate" button that starts a negotiation through the NegotiationService."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from connector import strictjson
from connector.auth.client import dsp_request
from connector.catalog.client import dsp_base
from connector.console import endpoints
from connector.console.guard import action, page, render, secure
from connector.errors import ConnectorError, Reason
from connector.negotiation.manager import NEGOTIATIONS
from connector.node import NODE
from connector.sparql.client import rows

routes = web.RouteTableDef()
PAGE = 25
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
PREFIXES = "PREFIX dcat: <http://www.w3.org/ns/dcat#>\nPREFIX dct: <http://purl.org/dc/terms/>\n"
# facet -> (form field, the pattern binding ?v for a dataset ?d, whether values are IRIs)
FACETS = {
    "publisher": ("?d dct:publisher ?v .", True),
    "keyword": ("?d dcat:keyword ?v .", False),
    "theme": ("?d dcat:theme ?v .", True),
    "license": ("{ ?d dct:license ?v } UNION { ?d dcat:distribution/dct:license ?v }", True),
}
LABELS = {"http://purl.org/dc/terms/title": "Title", "http://purl.org/dc/terms/description": "Description",
          "http://purl.org/dc/terms/publisher": "Publisher", "http://www.w3.org/ns/dcat#keyword": "Keyword",
          "http://www.w3.org/ns/dcat#theme": "Theme", "http://purl.org/dc/terms/license": "Licence",
          "http://purl.org/dc/terms/issued": "Issued", "http://purl.org/dc/terms/modified": "Modified",
          "http://www.w3.org/ns/dcat#distribution": "Distribution"}
_BAD_IRI = re.compile(r'[\s<>"{}|\\^`]')
_DSP_DATASET = re.compile(r"^(?P<base>https?://[^?#]+?)/catalog/datasets/(?P<id>[^/?#]+)$")


def iri(value: str) -> str:
    if not value or _BAD_IRI.search(value) or ":" not in value or len(value) > 2000:
        raise ConnectorError(Reason.BAD_INPUT, f"{value[:60]!r} is not an IRI")
    return f"<{value}>"


def literal(value: str) -> str:
    return json.dumps(value[:500])  # JSON string escapes are SPARQL's


def filters(chosen: dict[str, str], text: str) -> str:
    out = []
    for name, value in chosen.items():
        pattern, is_iri = FACETS[name]
        out.append(pattern.replace("?v", iri(value) if is_iri else literal(value)))
    if text:
        out.append(f"FILTER(CONTAINS(LCASE(STR(?t)), LCASE({literal(text)})))")
    return "\n".join(out)


def search_query(chosen: dict[str, str], text: str, offset: int) -> str:
    return (PREFIXES + "SELECT ?d (SAMPLE(?t) AS ?title) (SAMPLE(?p) AS ?publisher) WHERE {\n"
            "?d a dcat:Dataset ; dct:title ?t . OPTIONAL { ?d dct:publisher ?p }\n"
            f"{filters(chosen, text)}\n}} GROUP BY ?d ORDER BY ?title ?d LIMIT {PAGE + 1} OFFSET {offset}")


def facet_query(name: str, chosen: dict[str, str], text: str) -> str:
    return (PREFIXES + "SELECT ?v (COUNT(DISTINCT ?d) AS ?n) WHERE {\n"
            f"?d a dcat:Dataset ; dct:title ?t .\n{filters(chosen, text)}\n{FACETS[name][0]}\n"
            "} GROUP BY ?v ORDER BY DESC(?n) ?v LIMIT 15")


@routes.get("/federation")
@page
async def search(request: web.Request) -> web.StreamResponse:
    if not endpoints.crawls(request):
        return render(request, "federation.html", {"title": "Federated catalog", "no_crawler": endpoints.NO_CRAWLER})
    text = request.query.get("q", "").strip()
    chosen = {name: request.query[name] for name in FACETS if request.query.get(name)}
    try:
        offset = max(0, int(request.query.get("offset", "0")))
    except ValueError:
        offset = 0
    found, *facets = await asyncio.gather(
        endpoints.select(request, "federation", search_query(chosen, text, offset)),
        *(endpoints.select(request, "federation", facet_query(name, chosen, text)) for name in FACETS))
    _, hits = rows(found)
    counted = {name: rows(result)[1] for name, result in zip(FACETS, facets, strict=True)}
    return render(request, "federation.html", {
        "title": "Federated catalog", "text": text, "chosen": chosen, "facets": counted,
        "hits": hits[:PAGE], "more": len(hits) > PAGE, "offset": offset, "page": PAGE,
    })


@routes.get("/federation/dataset")
@page
async def dataset(request: web.Request) -> web.StreamResponse:
    subject = request.query.get("iri", "")
    query = PREFIXES + f"SELECT ?p ?o WHERE {{ {iri(subject)} ?p ?o }} LIMIT 200"
    access = PREFIXES + f"SELECT DISTINCT ?u WHERE {{ {iri(subject)} dcat:distribution/dcat:accessURL ?u }} LIMIT 5"
    facts, urls = await asyncio.gather(endpoints.select(request, "federation", query),
                                       endpoints.select(request, "federation", access))
    provider, dataset_id, offers, problem = None, None, [], None
    for (url,) in rows(urls)[1]:
        if match := _DSP_DATASET.match(url):
            provider, dataset_id = _origin(match["base"]), match["id"]
            try:
                offers = await _offers(request, url)
            except ConnectorError as exc:
                problem = str(exc)
            break
    found = rows(facts)[1]
    shown = sorted(((LABELS.get(p, p), o) for p, o in found if p != RDF_TYPE), key=lambda f: (f[0] not in LABELS.values(), f))
    title = next((o for p, o in found if p == "http://purl.org/dc/terms/title"), subject)
    return render(request, "federation_dataset.html", {
        "title": title, "iri": subject, "facts": shown, "provider": provider,
        "dataset_id": dataset_id, "offers": offers, "problem": problem,
    })


async def _offers(request: web.Request, url: str) -> list[dict[str, Any]]:
    """The provider's offers for the dataset at URL, asked as this node (its DCP token)."""
    node = request.config_dict[NODE]
    async with dsp_request(node.session, "GET", url, signer=node.signer) as response:
        if response.status != 200:
            raise ConnectorError(Reason.BAD_INPUT, f"the provider answered {response.status} for its offers")
        found = strictjson.loads(await response.read())
    offers = found.get("hasPolicy", []) if isinstance(found, dict) else []
    return [o for o in (offers if isinstance(offers, list) else [offers]) if isinstance(o, dict)]


def _origin(base: str) -> str:
    parts = urlsplit(base)
    return f"{parts.scheme}://{parts.netloc}"


@routes.post("/federation/negotiate")
@action
async def negotiate(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    provider, dataset_id = str(form.get("provider") or ""), str(form.get("dataset") or "")
    offer_id = str(form.get("offer") or "") or None
    if not provider or not dataset_id:
        raise ConnectorError(Reason.BAD_INPUT, "the negotiation needs the provider and the dataset")
    await dsp_base(request.config_dict[NODE].session, provider)  # a clear error if it speaks no DSP
    n = await request.config_dict[NEGOTIATIONS].start(provider, dataset_id, offer_id)
    return secure(web.Response(status=303, headers={"Location": f"/negotiations/{n.id}?started=1"}))
