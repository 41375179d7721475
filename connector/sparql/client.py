"""A small SPARQL 1.1 Protocol client: what `communs sparql` uses against any endpoint."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from connector.errors import ConnectorError, Reason
from connector.sparql.formats import SHORT_NAMES

RESULTS_JSON = "application/sparql-results+json"
GET_LIMIT = 2000  # longer queries go as a form POST: URLs that long get cut by proxies
_STATUS_REASONS = {
    400: Reason.BAD_INPUT,
    403: Reason.FORBIDDEN,
    404: Reason.NOT_FOUND,
    413: Reason.TOO_LARGE,
}


@dataclass(frozen=True)
class Reply:
    media: str
    body: bytes

    @property
    def is_results_json(self) -> bool:
        return self.media in (RESULTS_JSON, "application/json")

    def results(self) -> dict[str, Any]:
        try:
            data = json.loads(self.body)
        except ValueError:
            raise ConnectorError(Reason.BAD_INPUT, "the endpoint answered invalid JSON") from None
        if not isinstance(data, dict) or not ("boolean" in data or "results" in data):
            raise ConnectorError(
                Reason.BAD_INPUT, "the endpoint's answer is not SPARQL JSON results"
            )
        return data


def accept_for(graph_format: str | None) -> str:
    """SPARQL JSON results for SELECT and ASK; `graph_format` (default Turtle) for graphs."""
    graph = SHORT_NAMES.get((graph_format or "turtle").lower(), graph_format or "text/turtle")
    return f"{RESULTS_JSON}, {graph};q=0.9"


def check_endpoint(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConnectorError(Reason.BAD_INPUT, f"{url!r} is not an http(s) endpoint URL")


async def query(
    session: aiohttp.ClientSession,
    endpoint: str,
    text: str,
    accept: str = RESULTS_JSON,
    *,
    default_graphs: Sequence[str] = (),
    named_graphs: Sequence[str] = (),
) -> Reply:
    """Run TEXT; DEFAULT_GRAPHS and NAMED_GRAPHS, if any, are the protocol's dataset
    (default-graph-uri, named-graph-uri), which replaces the query's FROM clauses."""
    check_endpoint(endpoint)
    headers = {"Accept": accept}
    params = [("query", text)]
    params += [("default-graph-uri", g) for g in default_graphs]
    params += [("named-graph-uri", g) for g in named_graphs]
    try:
        if sum(len(value) for _, value in params) <= GET_LIMIT:
            request = session.get(endpoint, params=params, headers=headers)
        else:
            request = session.post(endpoint, data=params, headers=headers)
        async with request as response:
            body = await response.read()
            if response.status >= 400:
                message = body.decode("utf-8", "replace").strip().splitlines()
                detail = message[0] if message else response.reason
                reason = _STATUS_REASONS.get(response.status, Reason.BAD_INPUT)
                raise ConnectorError(
                    reason, f"the endpoint refused the query ({response.status}): {detail}"
                )
            return Reply(response.content_type, body)
    except aiohttp.ClientError as exc:
        raise ConnectorError(Reason.BAD_INPUT, f"cannot reach {endpoint}: {exc}") from None
    except TimeoutError:
        raise ConnectorError(Reason.BAD_INPUT, f"{endpoint} did not answer in time") from None


def cell(term: dict[str, str] | None) -> str:
    """A SPARQL JSON term as people read it in a table."""
    if term is None:
        return ""
    value = term.get("value", "")
    if term.get("type") == "bnode":
        return f"_:{value}"
    if "xml:lang" in term:
        return f"{value}@{term['xml:lang']}"
    return value


def rows(results: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    variables = list(results.get("head", {}).get("vars", []))
    bindings = results.get("results", {}).get("bindings", [])
    return variables, [[cell(b.get(v)) for v in variables] for b in bindings]
