"""`communs transfer PROVIDER_URL AGREEMENT_ID --out PATH` and `communs transfers list|show|
start|suspend|complete|terminate`.

`transfer` asks the running node (its management API) for a PULL transfer, waits for it to
start, downloads the data itself with the token the provider issued (streaming; a dropped
connection resumes with Range), completes the transfer and prints a summary.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

from connector.cli.common import run
from connector.cli.management import call
from connector.cli.output import fields, print_json, table
from connector.errors import ConnectorError, Reason
from connector.transfer.client import download

LIVE = ("STARTED",)
ENDED = ("COMPLETED", "TERMINATED")


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    transfer = commands.add_parser("transfer", parents=[common], help="pull a dataset under one of our agreements")
    transfer.add_argument("provider", metavar="PROVIDER_URL")
    transfer.add_argument("agreement", metavar="AGREEMENT_ID")
    transfer.add_argument("--out", required=True, metavar="PATH", help="where to write the data")
    transfer.add_argument("--purpose", help="the purpose we declare (checked by the agreement's policy)")
    transfer.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the start (default 60)")
    transfer.set_defaults(func=cmd_transfer)

    transfers = commands.add_parser("transfers", parents=[common], help="list, show or steer transfers")
    actions = transfers.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", parents=[common], help="transfers, newest first")
    listing.add_argument("--state")
    listing.add_argument("--role", choices=("PROVIDER", "CONSUMER"))
    listing.set_defaults(func=cmd_list)
    for name, text in (("show", "one transfer"), ("suspend", "suspend a STARTED transfer"),
                       ("start", "start a requested transfer (provider) or resume one we suspended"), ("complete", "complete a transfer"),
                       ("terminate", "end a transfer")):
        action = actions.add_parser(name, parents=[common], help=text)
        action.add_argument("id")
        action.set_defaults(func=cmd_show if name == "show" else cmd_command)


def _progress() -> Any:
    if not sys.stderr.isatty():
        return None
    started = time.monotonic()

    def show(done: int, total: int | None) -> None:
        rate = done / max(1e-6, time.monotonic() - started) / 1e6
        share = f" {100 * done / total:5.1f}%" if total else ""
        print(f"\r{done / 1e6:10.1f} MB{share} {rate:8.1f} MB/s", end="", file=sys.stderr, flush=True)

    return show


def cmd_transfer(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.is_dir():
        raise ConnectorError(Reason.BAD_INPUT, f"{out} is a folder; give a file path")
    if not out.parent.is_dir():
        raise ConnectorError(Reason.BAD_INPUT, f"the folder {out.parent} does not exist")

    async def work() -> dict:
        body = {"providerUrl": args.provider, "agreementId": args.agreement, "format": "HttpData-PULL",
                "purpose": args.purpose}
        found = await call(args, "POST", "/api/v1/transfers", body)
        deadline = time.monotonic() + args.timeout
        while found["state"] not in LIVE + ENDED and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            found = await call(args, "GET", f"/api/v1/transfers/{found['id']}")
        if found["state"] != "STARTED" or not found.get("dataAddress"):
            why = f": {found['reason']}" if found.get("reason") else ""
            raise ConnectorError(Reason.BAD_INPUT, f"the transfer did not start (it is {found['state']}){why}")
        started = time.monotonic()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, sock_read=60)) as session:
            got = await download(session, found["dataAddress"], out, _progress())
        seconds = time.monotonic() - started
        if sys.stderr.isatty():
            print(file=sys.stderr)
        done = await call(args, "POST", f"/api/v1/transfers/{found['id']}/complete")
        return {**done, "path": str(got.path), "bytes": got.bytes, "seconds": round(seconds, 3),
                "resumed": got.resumed}

    shown = run(work())
    if args.json:
        print_json(shown)
    else:
        fields((k, shown[k]) for k in ("id", "state", "agreementId", "datasetId", "path", "bytes", "seconds"))
    return 0


def _show(args: argparse.Namespace, shown: dict) -> int:
    if args.json:
        print_json(shown)
    else:
        fields((k, v) for k, v in shown.items() if k != "dataAddress")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    params = {k: v for k, v in (("state", args.state), ("role", args.role)) if v}
    items = run(call(args, "GET", "/api/v1/transfers", params=params))["items"]
    if args.json:
        print_json(items)
    else:
        table("transfers", ("id", "role", "state", "format", "counterparty", "dataset"),
              [(p["id"], p["role"], p["state"], p["format"], p["counterparty"], p["datasetId"]) for p in items])
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    return _show(args, run(call(args, "GET", f"/api/v1/transfers/{args.id}")))


def cmd_command(args: argparse.Namespace) -> int:
    return _show(args, run(call(args, "POST", f"/api/v1/transfers/{args.id}/{args.action}")))
