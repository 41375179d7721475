"""What every `communs ledger` command shares: the node folder, output, RPC calls, the signing
key, and queries (checked by the light client with `--prove`)."""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime
import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from .. import keys
from ..crypto import PrivateKey
from ..errors import LedgerError, Reason
from ..light import LightClient, Verified
from ..node import NodeConfig, load_genesis
from ..rpc import RpcClient

T = TypeVar("T")


def out(args: argparse.Namespace, doc: Any, human: str) -> None:
    print(json.dumps(doc, indent=2) if args.json else human)


def utc(ms: int) -> str:
    """A block time (ms since the epoch) as people read it."""
    t = datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC)
    return f"{t:%Y-%m-%d %H:%M:%S} UTC"


def home(args: argparse.Namespace) -> Path:
    return Path(getattr(args, "dir", None) or os.environ.get("COMMUNS_HOME", ".communs"))


def client_call(args: argparse.Namespace, fn: Callable[[RpcClient], Awaitable[T]]) -> T:
    cfg = NodeConfig.load(home(args))

    async def go() -> T:
        async with RpcClient(cfg.rpc_url, timeout=getattr(args, "timeout", 10.0) + 5) as c:
            return await fn(c)

    return asyncio.run(go())


def at_parser(common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options of a query: the state after block H, and the proof of its answer."""
    at = argparse.ArgumentParser(add_help=False, parents=[common])
    at.add_argument("--height", type=int, default=None, help="the state after block H")
    at.add_argument("--prove", action="store_true",
                    help="verify the answer against the chain's signed headers")
    return at


def signing_key(args: argparse.Namespace) -> PrivateKey:
    """`--key FILE`, or the account key of the node folder."""
    if getattr(args, "key", None) is not None:
        return keys.load_account_key(args.key)
    path = keys.account_key_path(home(args))
    if not path.exists():
        raise LedgerError(f"{home(args)} has no account key ({keys.ACCOUNT_KEY}): give --key "
                          f"FILE, or use a folder made by `communs ledger init`", Reason.CONFIG)
    return keys.load_account_key(path)


def query(args: argparse.Namespace, path: str, data: bytes) -> tuple[Any, int, Verified | None]:
    """(the decoded answer, its height, the light client's verdict when --prove)."""
    genesis = load_genesis(home(args)) if getattr(args, "prove", False) else None

    async def go(c: RpcClient) -> tuple[dict[str, Any], Verified | None]:
        r = await c.query(path, data, getattr(args, "height", None))
        if r["code"] != 0:
            raise LedgerError(r["log"] or f"the query failed (code {r['code']})",
                              Reason.NOT_FOUND if r["code"] == 38 else Reason.BAD_INPUT)
        if genesis is None:
            return r, None
        value = base64.b64decode(r["value"] or "")
        return r, await LightClient(c, genesis).verify(path, data, r["height"], value)

    r, verified = client_call(args, go)
    raw = base64.b64decode(r["value"] or "")
    return (raw if path == "/store" else json.loads(raw)), r["height"], verified


def emit(args: argparse.Namespace, doc: dict[str, Any], height: int,
         verified: Verified | None, human: str) -> int:
    """Print a query's answer with its height (and what the light client checked)."""
    doc = {**doc, "height": height}
    if verified is not None:
        doc["verified"] = {"block": verified.height + 1, "app_hash": verified.app_hash.hex(),
                           "signed_power": verified.signed_power,
                           "total_power": verified.total_power}
        human += f"\n{verified.sentence()}"
    out(args, doc, human)
    return 0


def show(args: argparse.Namespace, path: str, data: bytes,
         text: Callable[[dict[str, Any], int], str]) -> int:
    doc, height, verified = query(args, path, data)
    return emit(args, doc, height, verified, text(doc, height))
