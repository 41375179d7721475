"""`communs trust list | add DID | remove DID`: the issuers whose credentials this node believes.

Trust anchors live in the node's communs.toml, which these commands edit whether or not the
node serves: a serving node rereads the file when it changes (connector/credentials/trust.py).
"""

from __future__ import annotations

import argparse

from connector.credentials import trust
from connector.terminal.common import config, home
from connector.terminal.output import print_json, table


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    actions = commands.add_parser("trust", help="the issuers whose credentials this node believes") \
        .add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", parents=[common], help="this node and its trust anchors") \
        .set_defaults(func=cmd_list)
    for name, text, func in (("add", "trust the credentials an issuer signs", cmd_add),
                             ("remove", "stop trusting an issuer", cmd_remove)):
        action = actions.add_parser(name, parents=[common], help=text)
        action.add_argument("did", metavar="DID", help="the issuer, e.g. a federation authority")
        action.set_defaults(func=func)


def _own(args: argparse.Namespace) -> str:
    from connector.identity.did import did_web_from_url

    return did_web_from_url(config(args).public_url)


def cmd_list(args: argparse.Namespace) -> int:
    own, anchors = _own(args), config(args).trust_anchors
    if args.json:
        print_json({"node": own, "trustAnchors": list(anchors)})
    else:
        table("trusted issuers", ("issuer", "why"),
              [(own, "this node (always)"), *((did, "trust anchor") for did in anchors)])
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    added = trust.add(home(args), args.did, _own(args))
    return _said(args, added, f"now trusting {args.did}" if added else f"{args.did} is already trusted")


def cmd_remove(args: argparse.Namespace) -> int:
    trust.remove(home(args), args.did, _own(args))
    return _said(args, True, f"no longer trusting {args.did}")


def _said(args: argparse.Namespace, changed: bool, sentence: str) -> int:
    if args.json:
        print_json({"did": args.did, "changed": changed, "trustAnchors": list(config(args).trust_anchors)})
    else:
        print(sentence)
    return 0
