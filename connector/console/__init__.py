"""The web console on the management port: server-rendered pages over the same services as the
management API and the CLI, signed in with the management token (see sessions.py, guard.py).

Mounted by the composition root with `mount(app, token)`."""

from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from connector.console.guard import SESSIONS
from connector.console.sessions import Sessions

STATIC = Path(__file__).parent / "static"
STATIC_PREFIX = "/static/console"


def mount(app: web.Application, token: str) -> None:
    """The console's pages at / of APP (the management app), its files under STATIC_PREFIX."""
    from connector.console import (
        chain,
        datasets,
        federation,
        ledger_page,
        overview,
        processes,
        signin,
        sparql,
    )

    env = aiohttp_jinja2.setup(
        app, loader=jinja2.PackageLoader("connector.console", "templates"),
        autoescape=True,
    )
    env.policies["json.dumps_kwargs"] = {"sort_keys": True}
    env.filters["com"] = chain.com
    app[SESSIONS] = Sessions(token)
    for module in (signin, overview, datasets, federation, sparql, processes, ledger_page):
        app.add_routes(module.routes)
    app.router.add_static(STATIC_PREFIX, STATIC)
