"""The SPARQL endpoints the console queries: the node's own /sparql and, when the node crawls,
the federation's /federation/sparql. Both live on the public app, so the console is their
client over loopback, as any SPARQL client is (the same code as `communs sparql`)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from connector.errors import ConnectorError, Reason
from connector.node import NODE
from connector.sparql import client

NO_CRAWLER = ("This node runs no crawler, so it has no federated catalog: enable [crawler] in "
              "communs.toml, or query a node of the federation that crawls.")
NAMES = {"node": "This node (/sparql)", "federation": "The federation (/federation/sparql)"}


def public_base(request: web.Request) -> str:
    config = request.config_dict[NODE].config
    host = config.public_host if config.public_host not in ("", "0.0.0.0", "::") else "127.0.0.1"
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{config.public_port}"


def crawls(request: web.Request) -> bool:
    return request.config_dict[NODE].config.crawler.enabled


def url_of(request: web.Request, name: str) -> str:
    if name == "federation":
        if not crawls(request):
            raise ConnectorError(Reason.NOT_FOUND, NO_CRAWLER)
        return public_base(request) + "/federation/sparql"
    if name == "node":
        return public_base(request) + "/sparql"
    raise ConnectorError(Reason.BAD_INPUT, "choose this node's endpoint or the federation's")


async def select(request: web.Request, name: str, query: str) -> dict[str, Any]:
    """SPARQL JSON results of QUERY at the endpoint NAME."""
    reply = await client.query(request.config_dict[NODE].session, url_of(request, name), query)
    return reply.results()


async def raw(request: web.Request, name: str, query: str, accept: str) -> client.Reply:
    return await client.query(request.config_dict[NODE].session, url_of(request, name), query, accept)
