"""`communs transfer PROVIDER_URL AGREEMENT_ID --out PATH` and `communs transfers list|show|
download|start|suspend|complete|terminate`.

`transfer` asks the running node (its management API) for a PULL transfer, waits for it to
start, downloads the data itself with the token the provider issued (streaming; a dropped
connection resumes with Range, an unreachable provider is retried for `--retry-for` seconds
with a countdown on stderr), completes the transfer and prints a summary. A download that
gave up leaves the transfer STARTED: `transfers download ID --out PATH` goes on with it.
Tokens are shown only with `--show-token`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

from connector.errors import ConnectorError, Reason
from connector.terminal.common import config, run
from connector.terminal.management import call
from connector.terminal.output import fields, print_json, table

LIVE = ("STARTED",)
ENDED = ("COMPLETED", "TERMINATED")
SECRETS = ("authorization", "refreshToken")  # the endpoint properties that are bearer tokens
REDACTED = "(redacted: --show-token shows it)"


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    pulling = argparse.ArgumentParser(add_help=False)
    pulling.add_argument("--out", required=True, metavar="PATH", help="where to write the data")
    pulling.add_argument("--force", action="store_true", help="overwrite PATH if it exists")
    pulling.add_argument("--retry-for", type=float, metavar="SECONDS",
                         help="how long to retry an unreachable provider (default 60)")
    tokens = argparse.ArgumentParser(add_help=False)
    tokens.add_argument("--show-token", action="store_true", help="print the data address's tokens")

    transfer = commands.add_parser("transfer", parents=[common, pulling, tokens],
                                   help="pull a dataset under one of our agreements")
    transfer.add_argument("provider", metavar="PROVIDER_URL")
    transfer.add_argument("agreement", metavar="AGREEMENT_ID")
    transfer.add_argument("--purpose", help="the purpose we declare (checked by the agreement's policy)")
    transfer.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the start (default 60)")
    transfer.set_defaults(func=cmd_transfer)

    transfers = commands.add_parser("transfers", parents=[common], help="list, show or steer transfers")
    actions = transfers.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", parents=[common], help="transfers, newest first")
    listing.add_argument("--state")
    listing.add_argument("--role", choices=("PROVIDER", "CONSUMER"))
    listing.set_defaults(func=cmd_list)
    resume = actions.add_parser("download", parents=[common, pulling, tokens],
                                help="pull (or go on pulling) the data of a STARTED transfer we consume")
    resume.add_argument("id")
    resume.set_defaults(func=cmd_download)
    for name, text in (("show", "one transfer"), ("suspend", "suspend a STARTED transfer"),
                       ("start", "start a requested transfer (provider) or resume one we suspended"), ("complete", "complete a transfer"),
                       ("terminate", "end a transfer")):
        action = actions.add_parser(name, parents=[common, tokens], help=text)
        action.add_argument("id")
        action.set_defaults(func=cmd_show if name == "show" else cmd_command)


def redacted(shown: dict[str, Any], show_token: bool) -> dict[str, Any]:
    """SHOWN (a transfer) with the bearer tokens of its data address hidden, unless asked."""
    address = shown.get("dataAddress")
    if show_token or not isinstance(address, dict):
        return shown
    properties = [{**p, "value": REDACTED} if isinstance(p, dict) and p.get("name") in SECRETS else p
                  for p in address.get("endpointProperties") or []]
    return {**shown, "dataAddress": {**address, "endpointProperties": properties}}


def _progress() -> Any:
    if not sys.stderr.isatty():
        return None
    started = time.monotonic()

    def show(done: int, total: int | None) -> None:
        rate = done / max(1e-6, time.monotonic() - started) / 1e6
        share = f" {100 * done / total:5.1f}%" if total else ""
        print(f"\r{done / 1e6:10.1f} MB{share} {rate:8.1f} MB/s", end="", file=sys.stderr, flush=True)

    return show


async def _countdown(seconds: float, left: float, why: str) -> None:
    """Wait SECONDS before the next attempt, saying so on stderr (every second on a terminal)."""
    def text(wait: float) -> str:
        return (f"the provider is not answering ({why[:120]}); retrying in {wait:.0f} s, "
                f"giving up in {left - seconds + wait:.0f} s")

    if not sys.stderr.isatty():
        print(text(seconds), file=sys.stderr, flush=True)
        await asyncio.sleep(seconds)
        return
    end = time.monotonic() + seconds
    while (wait := end - time.monotonic()) > 0:
        print(f"\r{text(wait)}\033[K", end="", file=sys.stderr, flush=True)
        await asyncio.sleep(min(wait, 1.0))
    print("\r\033[K", end="", file=sys.stderr, flush=True)


def _retry(args: argparse.Namespace) -> dict[str, float]:
    return {} if args.retry_for is None else {"retry_for": args.retry_for}


def _check_out(args: argparse.Namespace) -> Path:
    out = Path(args.out)
    if out.is_dir():
        raise ConnectorError(Reason.BAD_INPUT, f"{out} is a folder; give a file path")
    if not out.parent.is_dir():
        raise ConnectorError(Reason.BAD_INPUT, f"the folder {out.parent} does not exist")
    if out.exists() and not args.force:
        raise ConnectorError(Reason.CONFLICT, f"{out} already exists; pass --force to overwrite it")
    return out


async def _pull(args: argparse.Namespace, found: dict[str, Any], out: Path) -> dict[str, Any]:
    """Download the data of FOUND (a STARTED transfer we consume) into OUT, then complete it."""
    # what only a download needs is imported here: `transfers list` starts without it
    import aiohttp

    from connector.identity.addresses import AddressPolicy, AddressRefused
    from connector.transfer import codec
    from connector.transfer.client import download

    address = found["dataAddress"]
    policy = AddressPolicy.for_node(config(args))  # the provider chose these: our node's rules
    urls = (address.get("endpoint"), codec.properties(address).get("refreshEndpoint"))
    for url in [u for u in urls if u is not None]:
        try:
            await policy.check(url)
        except AddressRefused as exc:
            raise ConnectorError(Reason.FORBIDDEN, f"the provider's data address: {exc}") from None
    started = time.monotonic()
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, sock_read=60)) as session:
            got = await download(session, address, out, _progress(),
                                 pause=_countdown, **_retry(args))
    except ConnectorError as exc:
        hint = (f"; the transfer {found['id']} is still STARTED: "
                f"`communs transfers download {found['id']} --out {out}` goes on with it")
        raise ConnectorError(exc.reason, f"{exc}{hint}") from None
    finally:
        if sys.stderr.isatty():
            print(file=sys.stderr)
    seconds = time.monotonic() - started
    done = await call(args, "POST", f"/api/v1/transfers/{found['id']}/complete")
    return {**done, "path": str(got.path), "bytes": got.bytes, "seconds": round(seconds, 3),
            "resumed": got.resumed}


def _print(args: argparse.Namespace, shown: dict[str, Any]) -> int:
    if args.json:
        print_json(redacted(shown, args.show_token))
    else:
        fields((k, shown[k]) for k in ("id", "state", "agreementId", "datasetId", "path", "bytes", "seconds"))
    return 0


def cmd_transfer(args: argparse.Namespace) -> int:
    out = _check_out(args)

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
        return await _pull(args, found, out)

    return _print(args, run(work()))


def cmd_download(args: argparse.Namespace) -> int:
    out = _check_out(args)

    async def work() -> dict:
        found = await call(args, "GET", f"/api/v1/transfers/{args.id}")
        if found["role"] != "CONSUMER" or found["state"] != "STARTED" or not found.get("dataAddress"):
            raise ConnectorError(Reason.CONFLICT, f"the transfer {args.id} is not a STARTED one we consume "
                                 f"(it is a {found['role']} one, {found['state']})")
        return await _pull(args, found, out)

    return _print(args, run(work()))


def _show(args: argparse.Namespace, shown: dict) -> int:
    if args.json:
        print_json(redacted(shown, args.show_token))
    else:
        fields((k, v) for k, v in shown.items() if k != "dataAddress")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    params = {k: v for k, v in (("state", args.state), ("role", args.role)) if v}
    items = run(call(args, "GET", "/api/v1/transfers", params=params))["items"]
    if args.json:
        print_json([redacted(p, False) for p in items])
    else:
        table("transfers", ("id", "role", "state", "format", "counterparty", "dataset"),
              [(p["id"], p["role"], p["state"], p["format"], p["counterparty"], p["datasetId"]) for p in items])
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    return _show(args, run(call(args, "GET", f"/api/v1/transfers/{args.id}")))


def cmd_command(args: argparse.Namespace) -> int:
    return _show(args, run(call(args, "POST", f"/api/v1/transfers/{args.id}/{args.action}")))
