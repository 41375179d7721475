"""`communs did ...` and `communs credential ...`."""

from __future__ import annotations

import argparse
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from connector.app.node import http_session, open_keys, open_node
from connector.cli.common import config, home, read_input, run
from connector.cli.output import fields, print_json
from connector.config import CONFIG_FILE, load
from connector.credentials import service as credentials
from connector.errors import ConnectorError, Reason
from connector.identity.did import did_web_from_url, node_did_document
from connector.identity.resolver import DidResolver
from connector.identity.service import verify_credential_file


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    did = commands.add_parser("did", help="this node's DID, or resolve any DID").add_subparsers(dest="action", required=True, metavar="ACTION")
    did.add_parser("show", parents=[common], help="print this node's did:web document").set_defaults(func=cmd_did_show)
    resolve = did.add_parser("resolve", parents=[common], help="resolve a did:web or did:key")
    resolve.add_argument("did")
    resolve.set_defaults(func=cmd_did_resolve)

    cred = commands.add_parser("credential", help="issue and verify verifiable credentials").add_subparsers(dest="action", required=True, metavar="ACTION")
    issue = cred.add_parser("issue", parents=[common], help="issue a credential signed by this node")
    issue.add_argument("--subject", required=True, help="the subject's DID")
    issue.add_argument("--type", required=True, help="e.g. MembershipCredential")
    issue.add_argument("--claims", default="{}", help="a JSON object of claims about the subject")
    issue.add_argument("--format", choices=["jwt", "ldp"], default="jwt", help="vc+jwt (VC 2.0) or an LD proof (VC 1.1)")
    issue.set_defaults(func=cmd_credential_issue)
    verify = cred.add_parser("verify", parents=[common], help="verify a credential or presentation file ('-' for stdin)")
    verify.add_argument("file")
    verify.set_defaults(func=cmd_credential_verify)


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


def cmd_credential_issue(args: argparse.Namespace) -> int:
    try:
        claims = json.loads(args.claims)
    except ValueError as exc:
        raise ConnectorError(Reason.BAD_INPUT, f"--claims is not valid JSON: {exc}") from None
    if not isinstance(claims, dict):
        raise ConnectorError(Reason.BAD_INPUT, "--claims must be a JSON object")

    async def issue() -> tuple:
        async with open_node(config(args)) as node:
            return await credentials.issue(node.credentials, node.signer, node.resolver, args.subject, args.type, claims, args.format)

    stored, issued = run(issue())
    if args.json:
        print_json(credentials.issued_view(stored, issued))
    elif isinstance(issued, str):
        print(issued)
    else:
        print_json(issued)
    return 0


def cmd_credential_verify(args: argparse.Namespace) -> int:
    text = read_input(args.file)

    async def verify():
        async with cli_resolver(args) as resolver:
            return await verify_credential_file(text, resolver)

    verification = run(verify())
    if args.json:
        print_json(credentials.verification_view(verification))
    elif verification.ok:
        fields([("result", "valid"), ("issuer", verification.issuer)])
    else:
        fields([("result", "INVALID"), *(("problem", p) for p in verification.problems)])
    return 0 if verification.ok else 1
