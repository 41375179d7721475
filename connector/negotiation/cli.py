"""`communs negotiate PROVIDER_URL DATASET_ID` and `communs negotiations list|show|offer|agree|terminate`.

They talk to the running node's management API with the token in the node's folder: the node
holds the negotiation's process and its outbox sender.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from connector.errors import ConnectorError, Reason
from connector.negotiation.model import Role, State
from connector.terminal.management import request
from connector.terminal.output import fields, print_json, table

FINAL = ("FINALIZED", "TERMINATED")


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    negotiate = commands.add_parser("negotiate", parents=[common], help="ask a provider for a contract on one of its datasets")
    negotiate.add_argument("provider", metavar="PROVIDER_URL")
    negotiate.add_argument("dataset", metavar="DATASET_ID")
    negotiate.add_argument("--offer", metavar="OFFER_ID", help="one of the dataset's offers (default: the first)")
    negotiate.add_argument("--wait", action="store_true", help="wait until it is FINALIZED or TERMINATED")
    negotiate.add_argument("--timeout", type=float, default=60.0, help="seconds --wait waits (default 60)")
    negotiate.set_defaults(func=cmd_negotiate)

    negotiations = commands.add_parser("negotiations", parents=[common],
                                       help="list, show, offer, agree or terminate negotiations")
    actions = negotiations.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", parents=[common], help="negotiations, newest first")
    listing.add_argument("--state", choices=[s.value for s in State], type=str.upper)
    listing.add_argument("--role", choices=[r.value for r in Role], type=str.upper)
    listing.add_argument("--pending", action="store_true", help="only those waiting for our decision")
    listing.set_defaults(func=cmd_list)
    show = actions.add_parser("show", parents=[common], help="one negotiation")
    show.add_argument("id")
    show.set_defaults(func=cmd_show)
    terminate = actions.add_parser("terminate", parents=[common], help="end a negotiation")
    terminate.add_argument("id")
    terminate.set_defaults(func=cmd_terminate)
    agree = actions.add_parser("agree", parents=[common], help="say yes where it is our turn (agree, accept, verify or finalize)")
    agree.add_argument("id")
    agree.set_defaults(func=cmd_agree)
    offer = actions.add_parser("offer", parents=[common], help="propose other terms (a counter-offer or counter-request)")
    offer.add_argument("id")
    offer.add_argument("--offer", metavar="FILE", help="an ODRL offer as JSON (a provider may leave it out: the dataset's first offer)")
    offer.set_defaults(func=cmd_offer)


def _show(args: argparse.Namespace, shown: dict) -> int:
    if args.json:
        print_json(shown)
    else:
        fields((k, v) for k, v in shown.items() if k not in ("offer", "agreement"))
    return 0 if shown.get("state") != "TERMINATED" or not getattr(args, "wait", False) else 1


def cmd_negotiate(args: argparse.Namespace) -> int:
    body = {"providerUrl": args.provider, "datasetId": args.dataset, "offerId": args.offer}
    found = request(args, "POST", "/api/v1/negotiations", body)
    deadline = time.monotonic() + args.timeout
    while args.wait and found["state"] not in FINAL and time.monotonic() < deadline:
        time.sleep(0.2)
        found = request(args, "GET", f"/api/v1/negotiations/{found['id']}")
    return _show(args, found)


def cmd_list(args: argparse.Namespace) -> int:
    params = {k: v for k, v in (("state", args.state), ("role", args.role)) if v}
    if args.pending:
        params["pending"] = "true"
    items = request(args, "GET", "/api/v1/negotiations", params=params)["items"]
    if args.json:
        print_json(items)
    else:
        table("negotiations", ("id", "role", "state", "agreement", "counterparty", "dataset"),
              [(n["id"], n["role"], n["state"], n["agreementId"], n["counterparty"], n["datasetId"])
               for n in items])
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    return _show(args, request(args, "GET", f"/api/v1/negotiations/{args.id}"))


def cmd_terminate(args: argparse.Namespace) -> int:
    return _show(args, request(args, "POST", f"/api/v1/negotiations/{args.id}/terminate"))


def cmd_agree(args: argparse.Namespace) -> int:
    return _show(args, request(args, "POST", f"/api/v1/negotiations/{args.id}/agree"))


def cmd_offer(args: argparse.Namespace) -> int:
    body: dict[str, Any] = {}
    if args.offer:
        try:
            body["offer"] = json.loads(Path(args.offer).read_text())
        except (OSError, ValueError) as exc:
            raise ConnectorError(Reason.BAD_INPUT, f"cannot read the offer {args.offer}: {exc}") from None
    return _show(args, request(args, "POST", f"/api/v1/negotiations/{args.id}/offer", body))
