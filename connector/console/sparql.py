"""The SPARQL console: an editor, results as a paged table, downloads as CSV or JSON."""

from __future__ import annotations

from aiohttp import web

from connector.console import endpoints
from connector.console.guard import page, render, secure
from connector.errors import ConnectorError, Reason
from connector.sparql import client

routes = web.RouteTableDef()
ROWS_PER_PAGE = 50
MAX_QUERY_CHARS = 20_000
EXAMPLE = """SELECT ?dataset ?title WHERE {
  ?dataset a dcat:Dataset ;
           dct:title ?title .
}
ORDER BY ?title
LIMIT 100"""
PREFIXES = {
    "dcat": "http://www.w3.org/ns/dcat#", "dct": "http://purl.org/dc/terms/",
    "odrl": "http://www.w3.org/ns/odrl/2/", "foaf": "http://xmlns.com/foaf/0.1/",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#", "xsd": "http://www.w3.org/2001/XMLSchema#",
    "gx": "https://w3id.org/gaia-x/development#",
}
DOWNLOADS = {"csv": ("text/csv", "csv"), "json": ("application/sparql-results+json", "json")}


def with_prefixes(query: str) -> str:
    """The query with the PREFIX lines it uses but does not declare (dcat:, dct:...)."""
    declared = {line.split()[1].rstrip(":").lower() for line in query.splitlines()
                if line.strip().upper().startswith("PREFIX") and len(line.split()) > 1}
    missing = [f"PREFIX {p}: <{iri}>" for p, iri in PREFIXES.items() if f"{p}:" in query and p not in declared]
    return "\n".join([*missing, query]) if missing else query


def _form(request: web.Request) -> tuple[str, str]:
    query = request.query.get("query", "")
    if len(query) > MAX_QUERY_CHARS:
        raise ConnectorError(Reason.TOO_LARGE, f"the query is above {MAX_QUERY_CHARS} characters")
    return request.query.get("endpoint", "node"), query


@routes.get("/sparql")
@page
async def console(request: web.Request) -> web.StreamResponse:
    endpoint, query = _form(request)
    context = {"title": "SPARQL", "endpoint": endpoint, "query": query or EXAMPLE, "names": endpoints.NAMES,
               "prefixes": PREFIXES, "crawls": endpoints.crawls(request), "ran": bool(query)}
    if query:
        try:
            offset = max(0, int(request.query.get("offset", "0")))
        except ValueError:
            offset = 0
        try:
            results = await endpoints.select(request, endpoint, with_prefixes(query))
        except ConnectorError as exc:
            return render(request, "sparql.html", {**context, "error": _sentence(str(exc))}, exc.status)
        if "boolean" in results:
            context["answer"] = "yes" if results["boolean"] else "no"
        else:
            variables, rows = client.rows(results)
            context.update(variables=variables, rows=rows[offset:offset + ROWS_PER_PAGE], total=len(rows),
                           offset=offset, limit=ROWS_PER_PAGE)
    return render(request, "sparql.html", context)


@routes.get("/sparql/download")
@page
async def download(request: web.Request) -> web.StreamResponse:
    endpoint, query = _form(request)
    media, suffix = DOWNLOADS.get(request.query.get("format", ""), (None, None))
    if media is None or not query:
        raise ConnectorError(Reason.BAD_INPUT, "give a query and a format, csv or json")
    reply = await endpoints.raw(request, endpoint, with_prefixes(query), media)
    headers = {"Content-Disposition": f'attachment; filename="results.{suffix}"'}
    return secure(web.Response(body=reply.body, content_type=reply.media, headers=headers))


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]
