"""`communs did show | resolve`, and the DID resolver every CLI command uses."""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from connector.config import CONFIG_FILE, load
from connector.identity.did import did_web_from_url, node_did_document
from connector.identity.resolver import DidResolver
from connector.node import http_session, open_keys, open_node
from connector.terminal.common import config, home, run
from connector.terminal.output import print_json


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    did = commands.add_parser("did", help="this node's DID, or resolve any DID").add_subparsers(dest="action", required=True, metavar="ACTION")
    did.add_parser("show", parents=[common], help="print this node's did:web document").set_defaults(func=cmd_did_show)
    resolve = did.add_parser("resolve", parents=[common], help="resolve a did:web or did:key")
    resolve.add_argument("did")
    resolve.set_defaults(func=cmd_did_resolve)


def cmd_did_show(args: argparse.Namespace) -> int:
    async def show() -> dict:
        async with open_node(config(args)) as node:
            return node_did_document(node.did, node.keys, node.config.public_url)

    print_json(run(show()))
    return 0


@asynccontextmanager
async def cli_resolver(args: argparse.Namespace) -> AsyncIterator[DidResolver]:
    """A resolver with the node's settings and its own DID pinned when run in a node's folder;
    elsewhere the safe defaults (private networks refused)."""
    folder = home(args)
    async with http_session() as session:
        resolver = DidResolver(session)
        if (folder / CONFIG_FILE).exists():
            cfg = load(folder)
            resolver.allow_private = cfg.allow_private_dids
            did = did_web_from_url(cfg.public_url)
            resolver.pin(node_did_document(did, open_keys(folder), cfg.public_url))
        yield resolver


def cmd_did_resolve(args: argparse.Namespace) -> int:
    async def resolve() -> dict:
        async with cli_resolver(args) as resolver:
            return await resolver.resolve(args.did)

    print_json(run(resolve()))
    return 0
