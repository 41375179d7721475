"""`communs credential issue | revoke | verify | list | add` (also spelled `credentials`).

`issue`, `list` and `add` go through the management API when the node is serving (it holds
the database), and open the node's folder otherwise. Each command's `--json` output is
accepted by its counterpart: what `issue --json` prints, `verify` and `add` read.
Heavy modules are imported where they are used, so the API path starts quickly.
"""

from __future__ import annotations

import argparse
import json

from connector.errors import ConnectorError, Reason
from connector.terminal.common import config, read_input, run
from connector.terminal.management import request, serving
from connector.terminal.output import fields, print_document, print_json, table

# the proof suites of connector/identity/suites.py, named here so the CLI starts without crypto
SUITE_NAMES = ("Ed25519Signature2020", "Ed25519Signature2018", "JsonWebSignature2020",
               "eddsa-rdfc-2022", "ecdsa-rdfc-2019")


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    cred = commands.add_parser("credential", aliases=["credentials"],
                               help="issue, verify, list and add verifiable credentials")
    actions = cred.add_subparsers(dest="action", required=True, metavar="ACTION")
    issue = actions.add_parser("issue", parents=[common], help="issue a credential signed by this node")
    issue.add_argument("--subject", required=True, help="the subject's DID")
    issue.add_argument("--type", required=True, help="e.g. MembershipCredential")
    issue.add_argument("--claims", default="{}", help="a JSON object of claims about the subject")
    issue.add_argument("--format", choices=["jwt", "jwt11", "ldp"], default="jwt",
                       help="vc+jwt (VC 2.0), VC-JWT 1.1 (VC 1.1, DCP vc11-sl2021/jwt) or an LD proof (VC 1.1)")
    issue.add_argument("--suite", choices=SUITE_NAMES,
                       help="the proof suite of --format ldp (default Ed25519Signature2020)")
    issue.add_argument("--status", action="store_true",
                       help="revocable: give the credential an entry of this node's revocation list")
    issue.set_defaults(func=cmd_issue)
    revoke = actions.add_parser("revoke", parents=[common],
                                help="revoke a credential this node issued with --status")
    revoke.add_argument("id", help="the credential's id, as `credential list --role issued` shows it")
    revoke.set_defaults(func=cmd_revoke)
    verify = actions.add_parser("verify", parents=[common],
                                help="verify a credential or presentation file ('-' for stdin)")
    verify.add_argument("file")
    verify.set_defaults(func=cmd_verify)
    listing = actions.add_parser("list", parents=[common],
                                 help="the credentials this node holds and has issued")
    listing.add_argument("--role", choices=("held", "issued"))
    listing.add_argument("--type", help="only credentials of this type, e.g. MembershipCredential")
    listing.set_defaults(func=cmd_list)
    add = actions.add_parser("add", parents=[common],
                             help="keep a credential issued to this node ('-' for stdin)")
    add.add_argument("file", help="a vc+jwt or LD credential, bare or as `issue --json` prints it")
    add.set_defaults(func=cmd_add)


def cmd_issue(args: argparse.Namespace) -> int:
    try:
        claims = json.loads(args.claims)
    except ValueError as exc:
        raise ConnectorError(Reason.BAD_INPUT, f"--claims is not valid JSON: {exc}") from None
    if not isinstance(claims, dict):
        raise ConnectorError(Reason.BAD_INPUT, "--claims must be a JSON object")
    body = {"subject": args.subject, "type": args.type, "claims": claims, "format": args.format,
            "status": args.status}
    if args.suite:
        body["suite"] = args.suite
    if serving(args):
        shown = request(args, "POST", "/api/v1/credentials/issue", body)
    else:
        shown = run(_issued(args, body))
    print_document(shown, "credential", args.json)
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    # on the node's folder even while it serves: the revocation list is a file there, written
    # under a lock, and the issued credential is only read
    shown = run(_revoked(args))
    if args.json:
        print_json(shown)
    else:
        fields([("id", shown["id"]), ("revoked", "yes" if shown["changed"] else "yes (already)")])
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from connector.cli.identity import cli_resolver
    from connector.credentials import service as credentials

    text = read_input(args.file)

    async def verify():  # type: ignore[no-untyped-def]
        async with cli_resolver(args) as resolver:
            return await credentials.verify(text, resolver)

    verification = run(verify())
    if args.json:
        print_json(credentials.verification_view(verification))
    elif verification.ok:
        fields([("result", "valid"), ("issuer", verification.issuer)])
    else:
        fields([("result", "INVALID"), *(("problem", p) for p in verification.problems)])
    return 0 if verification.ok else 1


def cmd_list(args: argparse.Namespace) -> int:
    query = {k: v for k, v in (("role", args.role), ("type", args.type)) if v}
    if serving(args):
        items = request(args, "GET", "/api/v1/credentials", params=query)["items"]
    else:
        items = run(_listed(args, query))
    if args.json:
        print_json(items)
    else:
        table("credentials", ("id", "role", "type", "issuer", "subject", "expires"),
              [(c["id"], c["role"], ", ".join(t for t in c["types"] if t != "VerifiableCredential"),
                c["issuer"], c["subject"], c["expiresAt"]) for c in items])
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    text = read_input(args.file)
    if serving(args):
        shown = request(args, "POST", "/api/v1/credentials", text=text)
    else:
        shown = run(_held(args, text))
    if args.json:
        print_json(shown)
    else:
        fields(shown.items())
    return 0


async def _issued(args: argparse.Namespace, body: dict) -> dict:
    from connector.credentials import service as credentials
    from connector.credentials.status import StatusRegistry
    from connector.node import open_node

    async with open_node(config(args)) as node:
        registry = StatusRegistry(node.config.home, node.config.public_url) if body["status"] else None
        stored, issued = await credentials.issue(
            node.credentials, credentials.suite_signer(node.keys, node.did, body.get("suite")),
            node.resolver, body["subject"], body["type"], body["claims"], body["format"],
            status=registry, suite=body.get("suite"))
        return credentials.issued_view(stored, issued)


async def _revoked(args: argparse.Namespace) -> dict:
    from connector.credentials import service as credentials
    from connector.credentials.status import StatusRegistry
    from connector.node import open_node

    async with open_node(config(args)) as node:
        registry = StatusRegistry(node.config.home, node.config.public_url)
        stored, changed = await credentials.revoke(node.credentials, registry, args.id)
        return {**stored.summary(), "revoked": True, "changed": changed}


async def _listed(args: argparse.Namespace, query: dict[str, str]) -> list[dict]:
    from connector.credentials import service as credentials
    from connector.node import open_node

    async with open_node(config(args)) as node:
        return [c.summary() for c in await credentials.list_filtered(node.credentials, query)]


async def _held(args: argparse.Namespace, text: str) -> dict:
    from connector.credentials import service as credentials
    from connector.node import open_node

    async with open_node(config(args)) as node:
        stored, _ = await credentials.hold(node.credentials, node.resolver, node.did, text)
        return stored.summary()
