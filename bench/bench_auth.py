"""The cost of one DCP-authenticated DSP request between two real nodes on loopback.

    .venv/bin/python bench/bench_auth.py [--quick]

Two nodes (`communs init` folders) serve their public app with the auth pieces wired, in this
process. The consumer holds a MembershipCredential (vc+jwt) from a did:key issuer that the
provider trusts. Measured, sequentially, in requests per second:

- baseline: an anonymous request to an open DSP route (HTTP + middleware, no token);
- warm: a fresh ID token per request, presentation cached at the provider (what a burst of
  negotiation messages costs: 2 signatures at the consumer, 1 verification + 1 jti insert);
- cold: the cache emptied before each request (plus the credential-service round trip: the
  access token, the presentation signed and verified, the credential verified).

Ratios to the baseline are what to compare between runs (the machines are noisy). Both nodes
share this process and its CPU, so the rates are those of the pair, not of one node.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402
from nodes import init  # noqa: E402

from connector.app.middleware import problems  # noqa: E402
from connector.auth import routes as auth_routes  # noqa: E402
from connector.auth.caller import caller_of  # noqa: E402
from connector.auth.client import authorization  # noqa: E402
from connector.auth.middleware import allow_anonymous, dcp_auth  # noqa: E402
from connector.auth.resources import AUTH, auth_context  # noqa: E402
from connector.auth.tokens import verify_id_token  # noqa: E402
from connector.config import load, save  # noqa: E402
from connector.credentials import service as credentials  # noqa: E402
from connector.identity import routes as identity  # noqa: E402
from connector.identity.did import Signer  # noqa: E402
from connector.identity.keys import generate_key  # noqa: E402
from connector.identity.service import issue_credential  # noqa: E402
from connector.node import NODE, Node, open_node  # noqa: E402

dsp = web.RouteTableDef()


@dsp.get("/dsp/open")
@allow_anonymous
async def open_route(request: web.Request) -> web.Response:
    return web.json_response({"did": None})


@dsp.get("/dsp/who")
async def who(request: web.Request) -> web.Response:
    caller = caller_of(request)
    assert caller is not None and caller.has_credential("MembershipCredential")
    return web.json_response({"did": caller.did})






@contextlib.asynccontextmanager
async def serve(folder: Path) -> AsyncIterator[tuple[Node, web.Application]]:
    config = load(folder)
    async with open_node(config) as node:
        app = web.Application(middlewares=[problems, dcp_auth("/dsp")])
        app[NODE] = node
        app.cleanup_ctx.append(auth_context)
        app.add_routes(identity.public)
        app.add_routes(auth_routes.public)
        app.add_routes(dsp)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, config.public_host, config.public_port).start()
        try:
            yield node, app
        finally:
            await runner.cleanup()


async def rate(step: Callable[[], Awaitable[None]], seconds: float) -> float:
    for _ in range(5):
        await step()
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        await step()
        count += 1
    return count / (time.perf_counter() - started)


async def run(seconds: float, consumer: Path, provider: Path, issuer: Signer) -> None:
    async with serve(consumer) as (a, _), serve(provider) as (b, b_app), aiohttp.ClientSession() as http:
        vc = issue_credential(issuer, a.did, ["MembershipCredential"], {"level": "full"}, "jwt")
        await credentials.hold(a.credentials, a.resolver, a.did, vc)
        base = b.config.public_url
        verifier = b_app[AUTH].verifier

        async def anonymous() -> None:
            async with http.get(f"{base}/dsp/open") as response:
                assert response.status == 200

        async def authenticated() -> None:
            async with http.get(f"{base}/dsp/who",
                                headers={"Authorization": authorization(a.signer, b.did)}) as response:
                assert response.status == 200, await response.text()

        async def cold() -> None:
            verifier.forget()
            await authenticated()

        async def token_only() -> None:
            await verify_id_token(authorization(a.signer, b.did), b.resolver, b.did)

        results = {
            "baseline (anonymous)": await rate(anonymous, seconds),
            "authenticated, warm cache": await rate(authenticated, seconds),
            "authenticated, cold (CS round trip)": await rate(cold, seconds),
            "ID token issue + verify (no HTTP)": await rate(token_only, seconds),
        }
    baseline = results["baseline (anonymous)"]
    print(f"{'case':40} {'req/s':>9} {'ms/req':>8} {'vs baseline':>12}")
    for case, value in results.items():
        print(f"{case:40} {value:9.0f} {1000 / value:8.2f} {value / baseline:11.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    seconds = 1.0 if parser.parse_args().quick else 4.0
    work = Path(tempfile.mkdtemp(prefix="communs-bench-auth-"))
    issuer = Signer.for_did_key(generate_key("Ed25519"))
    consumer, provider = init(work / "a", "Consumer"), init(work / "b", "Provider")
    save(dataclasses.replace(load(provider), trust_anchors=(issuer.did,)))
    logging.disable(logging.INFO)
    asyncio.run(run(seconds, consumer, provider, issuer))


if __name__ == "__main__":
    main()
