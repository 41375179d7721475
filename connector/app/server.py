"""Run a node: both apps on their ports until SIGINT/SIGTERM, resources closed in order."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web

from connector.app.apps import build_management_app, build_public_app
from connector.catalog.resources import CATALOG, service_for
from connector.config import NodeConfig, read_token
from connector.identity.addresses import AddressPolicy
from connector.ledger.child import ledger_child
from connector.ledger.service import LEDGER, open_ledger
from connector.negotiation.manager import NEGOTIATIONS
from connector.negotiation.manager import service_for as negotiation_service
from connector.node import Node, open_node
from connector.selfdescription.publisher import preload_shapes
from connector.transfer.manager import TRANSFERS
from connector.transfer.manager import service_for as transfer_service

log = logging.getLogger("communs.server")


@dataclass
class Running:
    node: Node
    public_port: int
    management_port: int
    public_app: web.Application
    management_app: web.Application


@asynccontextmanager
async def running_node(config: NodeConfig, *, new_database: bool = False) -> AsyncIterator[Running]:
    """A node serving on its ports (port 0 picks free ones, which tests use)."""
    token = read_token(config.home)
    async with open_node(config, new_database=new_database) as node, \
            contextlib.AsyncExitStack() as stack:
        await preload_shapes()  # from the disk cache that `communs init` warmed
        public, management = build_public_app(node), build_management_app(node, token)
        if config.ledger.enabled:  # before the apps start: authentication asks it
            child = None
            if config.ledger.node:
                child = await stack.enter_async_context(
                    ledger_child(config.ledger.path(config.home, config.ledger.node)))
            ledger = await stack.enter_async_context(
                open_ledger(config, node.keys, node.did, metrics=node.metrics))
            ledger.child, ledger.resolver, ledger.session = child, node.resolver, node.session
            ledger.policy = AddressPolicy.for_node(config)
            public[LEDGER] = management[LEDGER] = ledger
        # one catalog for both: what the management API publishes reaches /sparql at once
        public[CATALOG] = management[CATALOG] = catalog = service_for(node)
        if LEDGER in public:  # a paid dataset is listed on the ledger as it is published
            catalog.published.append(public[LEDGER].market.on_published)
        # one negotiation and one transfer service: what the operator decides goes straight to
        # the public app's senders
        negotiations = negotiation_service(node, catalog)
        public[NEGOTIATIONS] = management[NEGOTIATIONS] = negotiations
        public[TRANSFERS] = management[TRANSFERS] = transfer_service(node, negotiations, catalog)
        runners = [
            web.AppRunner(public, access_log=None, shutdown_timeout=5),
            web.AppRunner(management, access_log=None, shutdown_timeout=5),
        ]
        binds = [(config.public_host, config.public_port), (config.management_host, config.management_port)]
        ports = []
        try:
            for runner, (host, port) in zip(runners, binds, strict=True):
                await runner.setup()
                site = web.TCPSite(runner, host, port)
                await site.start()
                ports.append(runner.addresses[0][1])
            node.metrics.up.set(1)
            log.info("serving", extra={"fields": {"did": node.did, "public": ports[0], "management": ports[1]}})
            yield Running(node, *ports, public, management)
        finally:
            node.metrics.up.set(0)
            for runner in reversed(runners):
                await runner.cleanup()


async def serve(config: NodeConfig, *, new_database: bool = False) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with running_node(config, new_database=new_database):
        await stop.wait()
    log.info("stopped")
