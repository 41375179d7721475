"""`communs sparql ENDPOINT_URL QUERY`: query any SPARQL endpoint, print a table or the raw results."""

from __future__ import annotations

import argparse
import sys

import aiohttp

from connector.errors import ConnectorError, Reason
from connector.sparql import client
from connector.sparql.formats import SHORT_NAMES
from connector.terminal.common import read_input, run
from connector.terminal.output import print_json, table


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    sparql = commands.add_parser(
        "sparql", parents=[common], help="run a SPARQL query against an endpoint"
    )
    sparql.add_argument(
        "endpoint", metavar="ENDPOINT_URL", help="e.g. https://node.example.org/sparql"
    )
    sparql.add_argument(
        "query", metavar="QUERY", help="the query text, or @FILE ('@-' for standard input)"
    )
    sparql.add_argument(
        "--format",
        help="answer format: turtle, nt, jsonld, rdfxml for CONSTRUCT/DESCRIBE (default turtle); "
        "json, xml, csv, tsv to print SELECT/ASK results raw",
    )
    sparql.add_argument(
        "--default-graph",
        action="append",
        default=[],
        metavar="IRI",
        help="a graph to query as the default graph (default-graph-uri; replaces the query's "
        "FROM clauses); repeatable",
    )
    sparql.add_argument(
        "--named-graph",
        action="append",
        default=[],
        metavar="IRI",
        help="a graph that GRAPH may reach (named-graph-uri; replaces the query's FROM NAMED); "
        "repeatable",
    )
    sparql.add_argument(
        "--timeout", type=float, default=60.0, help="seconds to wait for the answer"
    )
    sparql.set_defaults(func=handler)


def _query_text(value: str) -> str:
    text = read_input(value[1:]) if value.startswith("@") else value
    if not text.strip():
        raise ConnectorError(Reason.BAD_INPUT, "the query is empty")
    return text


def _accept(args: argparse.Namespace) -> str:
    fmt = args.format
    if fmt and fmt.lower() not in SHORT_NAMES:
        raise ConnectorError(
            Reason.BAD_INPUT, f"unknown --format {fmt}: use one of {', '.join(SHORT_NAMES)}"
        )
    if fmt and SHORT_NAMES[fmt.lower()].startswith(
        ("application/sparql-results", "text/csv", "text/tab")
    ):
        return f"{SHORT_NAMES[fmt.lower()]}, text/turtle;q=0.9"
    if getattr(args, "json", False) and not fmt:
        return f"{client.RESULTS_JSON}, application/ld+json;q=0.9"
    return client.accept_for(fmt)


def handler(args: argparse.Namespace) -> int:
    text = _query_text(args.query)
    accept = _accept(args)

    async def ask() -> client.Reply:
        timeout = aiohttp.ClientTimeout(total=args.timeout, connect=10)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            return await client.query(
                session,
                args.endpoint,
                text,
                accept,
                default_graphs=args.default_graph,
                named_graphs=args.named_graph,
            )

    reply = run(ask())
    if not reply.is_results_json or args.format:
        sys.stdout.write(reply.body.decode("utf-8", "replace"))
        if not reply.body.endswith(b"\n"):
            sys.stdout.write("\n")
        return 0
    results = reply.results()
    if getattr(args, "json", False):
        print_json(results)
    elif "boolean" in results:
        print("true" if results["boolean"] else "false")
    else:
        variables, lines = client.rows(results)
        table(None, variables, lines)
        print(f"{len(lines)} row{'s' if len(lines) != 1 else ''}")
    return 0
