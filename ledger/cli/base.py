"""What every `communs ledger` command shares: the node folder, output, and RPC calls."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from ..node import NodeConfig
from ..rpc import RpcClient

T = TypeVar("T")


def out(args: argparse.Namespace, doc: Any, human: str) -> None:
    print(json.dumps(doc, indent=2) if args.json else human)


def home(args: argparse.Namespace) -> Path:
    return Path(getattr(args, "dir", None) or os.environ.get("COMMUNS_HOME", ".communs"))


def client_call(args: argparse.Namespace, fn: Callable[[RpcClient], Awaitable[T]]) -> T:
    cfg = NodeConfig.load(home(args))

    async def go() -> T:
        async with RpcClient(cfg.rpc_url, timeout=getattr(args, "timeout", 10.0) + 5) as c:
            return await fn(c)

    return asyncio.run(go())
