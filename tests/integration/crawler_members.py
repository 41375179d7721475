"""Helpers of the federation crawler tests: seed a real node's catalog with many datasets
through its store (the bench's seeding), and stand in front of a real node as a slow or a
tampering proxy (the registry then points at the proxy: `communs ledger registry update`)."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
from pathlib import Path

import aiohttp
from aiohttp import web

from bench.bench_crawl import seed_catalog

__all__ = ["point_registry", "proxy", "seed_catalog", "tampered"]


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _payload(jwt: str) -> dict:
    part = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def tampered(self_description: str) -> str:
    """The vp+jwt with one credential's legal name changed and both signatures kept: neither
    verifies any more, and the claims no longer hash to the registry's digest."""
    header, _, signature = self_description.split(".")
    vp = _payload(self_description)
    envelope = vp["verifiableCredential"][0]
    token = envelope["id"].partition(",")[2]
    h, _, s = token.split(".")
    vc = _payload(token)
    subject = vc["credentialSubject"]
    subject["name"] = "Someone Else SA"
    envelope["id"] = envelope["id"].partition(",")[0] + "," + f"{h}.{_b64(vc)}.{s}"
    return f"{header}.{_b64(vp)}.{signature}"


def proxy(target: str, *, delay: float = 0.0, tamper: bool = False,
          seen: list[str] | None = None) -> web.Application:
    """Forwards every request to TARGET (a node's public URL) after DELAY seconds; Link
    headers are rewritten to the proxy's origin; with TAMPER the self-description is tampered;
    SEEN collects "METHOD path?query" of each request."""
    app = web.Application()

    async def forward(request: web.Request) -> web.Response:
        await asyncio.sleep(delay)
        if seen is not None:
            seen.append(f"{request.method} {request.path_qs}")
        headers = {k: v for k, v in request.headers.items()
                   if k.lower() in ("accept", "authorization", "content-type", "if-none-match")}
        async with aiohttp.ClientSession() as session, session.request(
                request.method, target + request.path_qs, headers=headers,
                data=await request.read(), allow_redirects=False) as answer:
            body = await answer.read()
            out = {k: v for k, v in answer.headers.items() if k.lower() in ("content-type", "etag")}
            if "Link" in answer.headers:
                out["Link"] = answer.headers["Link"].replace(target, f"{request.scheme}://{request.host}")
            if tamper and request.path == "/self-description":
                body = tampered(body.decode()).encode()
            return web.Response(status=answer.status, body=body, headers=out)

    app.router.add_route("*", "/{tail:.*}", forward)
    return app


def point_registry(folder: Path, slug: str, did: str, endpoint: str, sd_hash: str) -> None:
    """MEMBER's registry entry now names ENDPOINT (a transaction signed with its account)."""
    done = subprocess.run([sys.executable, "-m", "connector.cli.main", "ledger", "registry",
                           "update", did, endpoint, sd_hash, "--dir", str(folder / slug / "validator")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
