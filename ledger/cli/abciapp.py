"""`communs ledger app --listen tcp://127.0.0.1:26658`: the node folder's application served
to a CometBFT engine over the ABCI socket protocol (the same application our engine runs)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from typing import Any

from .. import gctune, logs
from ..application import open_application
from ..errors import LedgerError, Reason
from ..node import NodeConfig
from .base import home as _home

log = logging.getLogger("ledger.cometbft")


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("app", parents=[common],
                       help="serve the application to CometBFT over ABCI (tcp:// or unix://)")
    p.add_argument("--listen", default=None, metavar="ADDRESS",
                   help="tcp://HOST:PORT or unix://PATH (default: the node's cometbft.json, "
                        "else tcp://127.0.0.1:26658)")
    p.add_argument("--allow-remote", action="store_true",
                   help="listen on a TCP address other than loopback (ABCI has no "
                        "authentication: only for a network where nobody else can connect)")
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    p.set_defaults(func=cmd_app)


def cmd_app(args: argparse.Namespace) -> int:
    from ..cometbft.home import EngineConfig
    from ..cometbft.server import AbciServer, parse_listen

    home = _home(args)
    engine = EngineConfig.load(home)
    listen = args.listen or (engine.abci if engine else "tcp://127.0.0.1:26658")
    host, _ = parse_listen(listen)  # a bad address is a usage error before anything opens
    if host != "unix" and not args.allow_remote and not _loopback(host):
        raise LedgerError(f"{listen} is not a loopback address: whoever reaches an ABCI socket "
                          f"drives the application; pass --allow-remote to listen there anyway",
                          Reason.BAD_INPUT)
    cfg = NodeConfig.load(home)
    logs.configure(args.log_level)
    app = open_application(home, cfg.application, cfg.app_versions_kept)
    gctune.tune()

    snapshots = None
    if engine is not None and engine.snapshot_interval > 0:
        from ..app.app import LedgerApp
        from ..cometbft.statesync import StoreSnapshots

        if isinstance(app, LedgerApp):  # the kvstore keeps no state to sync
            snapshots = StoreSnapshots(app, home / "data" / "snapshots",
                                       engine.snapshot_interval, engine.snapshot_keep)

    async def serve() -> None:
        server = AbciServer(app, snapshots)
        try:
            bound = await server.start(listen)
        except OSError as e:
            raise LedgerError(f"cannot listen on {listen}: {e.strerror or e}",
                              Reason.UNAVAILABLE) from e
        info = app.info()
        log.info("ABCI application listening", extra={"fields": {
            "listen": bound, "height": info.last_block_height}})
        print(f"ABCI application ({cfg.application}) at height {info.last_block_height} "
              f"listening on {bound}", file=sys.stderr, flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        serving = asyncio.create_task(server.serve_forever())
        await stop.wait()
        serving.cancel()
        await server.close()

    asyncio.run(serve())
    return 0


def _loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
