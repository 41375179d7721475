"""Hostile bodies and headers against every route of a real node: never a 5xx.

The node under test and a consumer node (whose DID and credential service let DSP requests
carry a valid DCP token) serve from a thread of their own, so that hypothesis drives plain
synchronous examples and http.client sends bytes no friendly client would (headers that are
not UTF-8, bodies that are not the gzip they claim). Routes come from the two apps' routers.
"""

from __future__ import annotations

import asyncio
import copy
import gzip
import http.client
import json
import queue
import re
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote_from_bytes

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from connector.auth.client import authorization
from tests import nodes
from tests.nodes import init_node, serving

# per route: the budget that keeps the whole sweep within seconds
EXAMPLES = 4


@dataclass
class Live:
    provider: nodes.TestNode
    consumer: nodes.TestNode

    def routes(self) -> list[tuple[str, str, str]]:
        """(app, method, path) for every route, path parameters filled in."""
        found = set()
        for name, app in (("public", self.provider.running.public_app),
                          ("management", self.provider.running.management_app)):
            for route in app.router.routes():
                if route.resource is not None and route.method != "HEAD":
                    path = re.sub(r"\{[^}]+\}", "fuzz", route.resource.canonical)
                    found.add((name, route.method, path))
        return sorted(found)


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> Iterator[Live]:
    provider_dir = init_node(tmp_path_factory.mktemp("provider"), name="Provider SA")
    consumer_dir = init_node(tmp_path_factory.mktemp("consumer"), name="ACME SAS")
    started: queue.Queue = queue.Queue()
    stop: list = []

    async def serve() -> None:
        async with serving(provider_dir) as provider, serving(consumer_dir) as consumer:
            done = asyncio.Event()
            stop.append((asyncio.get_running_loop(), done))
            started.put(Live(provider, consumer))
            await done.wait()

    def run() -> None:
        try:
            asyncio.run(serve())
        except BaseException as exc:  # the test must learn why the nodes did not start
            started.put(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    live = started.get(timeout=120)
    if isinstance(live, BaseException):
        raise live
    try:
        yield live
    finally:
        loop, done = stop[0]
        loop.call_soon_threadsafe(done.set)
        thread.join(timeout=60)


@dataclass(frozen=True)
class Sent:
    status: int
    content_type: str
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


def send(live: Live, app: str, method: str, path: str, body: bytes = b"",
         headers: dict[str, str | bytes] | None = None, auth: str = "none") -> Sent:
    """One request on a fresh connection; `auth`: none, valid (the app's credential) or garbage."""
    node = live.provider
    port = node.running.public_port if app == "public" else node.running.management_port
    headers = dict(headers or {})
    if auth == "valid":
        headers["Authorization"] = (node.auth["Authorization"] if app == "management" else
                                    authorization(live.consumer.running.node.signer, node.did))
    elif auth == "garbage":
        headers["Authorization"] = b"Bearer \xff\xfe" + b"x" * 40
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return Sent(response.status, response.headers.get_content_type(), response.read())
    finally:
        connection.close()


# --- the explicit cases: one per class of malformed input -----------------------------------

NESTED = b"[" * 100_000 + b"]" * 100_000
CASES = {
    # name: (body, headers, expected status)
    "nested": (NESTED, {"Content-Type": "application/json"}, 400),
    "nested-object": (b'{"a":' * 900 + b"1" + b"}" * 900, {"Content-Type": "application/json"}, 400),
    "surrogate": (b'{"subject": "did:key:\\ud800", "type": "X", "offer": ["\\udfff"]}',
                  {"Content-Type": "application/json"}, 400),
    "not-utf8": (b'{"subject": "\xff\xfe"}', {"Content-Type": "application/json"}, 400),
    "not-utf16": (b'{\x00"\x00a', {"Content-Type": "application/json; charset=utf-16"}, 400),
    "unknown-charset": (b"{}", {"Content-Type": "application/json; charset=bogus"}, 415),
    "nan": (b'{"subject": NaN}', {"Content-Type": "application/json"}, 400),
    # compressed bodies are refused before anyone reads them (aiohttp would inflate gzip and
    # deflate, but waits forever on a stream cut short)
    "gzip": (gzip.compress(b"{}"), {"Content-Type": "application/json", "Content-Encoding": "gzip"}, 415),
    "not-gzip": (b"{}", {"Content-Type": "application/json", "Content-Encoding": "gzip"}, 415),
    "not-deflate": (b"not deflate", {"Content-Type": "application/json", "Content-Encoding": "deflate"}, 415),
    "unknown-coding": (b"{}", {"Content-Type": "application/json", "Content-Encoding": "bogus"}, 415),
}
TARGETS = {
    # a management route reading JSON, the DSP credential service, DSP routes behind DCP
    "management": ("management", "POST", "/api/v1/credentials/issue"),
    "credential-service": ("public", "POST", "/credentials/presentations/query"),
    "dsp-catalog": ("public", "POST", "/dsp/catalog/request"),
    "dsp-negotiation": ("public", "POST", "/dsp/negotiations/request"),
    "dsp-transfer": ("public", "POST", "/dsp/transfers/request"),
    "dsp-compute": ("public", "POST", "/dsp/compute/jobs"),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("target", sorted(TARGETS))
def test_malformed_input_is_a_clear_4xx_in_the_family_format(live, target, case):
    body, headers, expected = CASES[case]
    app, method, path = TARGETS[target]
    sent = send(live, app, method, path, body, headers, auth="valid")
    assert sent.status == expected, sent.body[:300]
    answer = sent.json()
    if path.startswith("/dsp/"):  # a DSP error message
        assert answer["code"] == str(expected) and answer["@type"].endswith("Error")
        assert answer["reason"] and answer["reason"][0]
    else:
        assert sent.content_type == "application/problem+json" and answer["status"] == expected


@pytest.mark.parametrize(("body", "content_type", "expected"), [
    (b"eyJhbGciOi\xff\xfe.e30.AA", "text/plain", 400),  # a handler's request.text() fails
    (b"e30.e30.AA", "text/plain; charset=bogus", 415),
    (b"{\x00\"", "text/plain; charset=utf-16", 400),  # an odd number of bytes
])
def test_text_routes_refuse_text_that_does_not_decode(live, body, content_type, expected):
    sent = send(live, "management", "POST", "/api/v1/credentials/verify", body,
                {"Content-Type": content_type}, auth="valid")
    assert sent.status == expected and sent.content_type == "application/problem+json", sent.body


def test_a_management_token_in_bytes_that_are_not_utf8_is_a_401(live):
    for auth in ("garbage", "none"):
        sent = send(live, "management", "GET", "/api/v1/node", auth=auth)
        assert sent.status == 401 and sent.content_type == "application/problem+json"


def test_an_unknown_path_stays_a_404_whatever_its_body(live):
    sent = send(live, "public", "POST", "/dsp/nowhere", NESTED, {"Content-Type": "application/json"},
                auth="valid")
    assert sent.status == 404


# --- the sweep: every route, hypothesis' bodies and headers ----------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
BODIES = st.one_of(
    _json.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=200),
    st.text(st.characters(codec="utf-16", categories=["Cs", "L", "P"]), max_size=30)
    .map(lambda text: json.dumps({"@type": text}, ensure_ascii=False).encode("utf-8", "surrogatepass")),
    st.integers(1, 5000).map(lambda depth: b"[" * depth + b"]" * depth),
)
CONTENT_TYPES = st.sampled_from([
    None, "application/json", "application/ld+json", "application/json; charset=utf-16",
    "application/json; charset=bogus", "text/plain", "text/turtle", "application/sparql-query",
    "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/vc+jwt",
])
CODINGS = st.sampled_from([None, "gzip", "deflate", "bogus", "identity"])
QUERIES = st.one_of(
    st.just(""),
    st.tuples(st.sampled_from(["limit", "offset", "wait", "state", "role", "pending", "variant", "query"]),
              st.binary(max_size=12)).map(lambda kv: f"?{kv[0]}={quote_from_bytes(kv[1])}"),
)


def _sweep(live: Live, route: tuple[str, str, str]) -> None:
    """EXAMPLES hostile requests to one route, from a seed of its own: deterministic, and each
    route meets other examples."""
    app, method, path = route

    @seed(zlib.crc32(" ".join(route).encode()))
    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(body=BODIES, content_type=CONTENT_TYPES, coding=CODINGS, query=QUERIES,
           auth=st.sampled_from(["none", "valid", "garbage"]))
    def no_5xx(body: bytes, content_type: str | None, coding: str | None, query: str, auth: str) -> None:
        headers = {name: value for name, value in (("Content-Type", content_type), ("Content-Encoding", coding))
                   if value is not None}
        sent = send(live, app, method, path + query, body, headers, auth)
        assert sent.status < 500, f"{method} {path}{query}: {sent.status} {sent.body[:300]!r}"

    no_5xx()


def test_no_route_answers_hostile_input_with_a_5xx(live):
    routes = live.routes()
    assert len(routes) > 60 and ("public", "POST", "/dsp/negotiations/request") in routes
    for route in routes:
        _sweep(live, route)


# --- DSP messages: the specification's examples, one value made hostile ------------------------

DSP_EXAMPLES = Path("/work/shared/specs/dsp/2025-1")
# the message a DSP route takes, by the last segment of its path
MESSAGES = {"request": "request-message", "events": "event-message", "verification": "verification-message",
            "termination": "termination-message", "offers": "offer-message", "agreement": "agreement-message",
            "start": "start-message", "completion": "completion-message", "suspension": "suspension-message"}
# where the node would send something: kept on a closed loopback port, never mutated
OUTBOUND = {"callbackAddress": "http://127.0.0.1:9/callback", "endpoint": "http://127.0.0.1:9/data"}
HOSTILE = _json | st.sampled_from(["", "x" * 70_000, "\ud800", "urn:uuid:fuzz", -1, 2**80, 1e308, [], {}])


def examples_for(path: str) -> list[dict]:
    family = next((f for f in ("catalog", "negotiation", "transfer") if f"/{f}" in path), None)
    kind = MESSAGES.get(path.rsplit("/", 1)[1])
    if not path.startswith("/dsp/") or family is None or kind is None or not DSP_EXAMPLES.is_dir():
        return []
    files = sorted((DSP_EXAMPLES / family / "example").glob(f"*{kind}*.json"))
    return [_outbound_pinned(json.loads(file.read_text())) for file in files]


def _outbound_pinned(value):
    if isinstance(value, dict):
        return {k: OUTBOUND[k] if k in OUTBOUND else _outbound_pinned(v) for k, v in value.items()}
    return [_outbound_pinned(v) for v in value] if isinstance(value, list) else value


def _places(value, at=()) -> list[tuple]:
    """Every path to a value that may be replaced (not the outbound addresses)."""
    found = [at] if at else []
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        if key not in OUTBOUND:
            found += _places(child, (*at, key))
    return found


@st.composite
def mutated(draw, examples: list[dict]) -> bytes:
    message = copy.deepcopy(draw(st.sampled_from(examples)))
    *parent, last = draw(st.sampled_from(_places(message)))
    holder = message
    for key in parent:
        holder = holder[key]
    holder[last] = draw(HOSTILE)
    return json.dumps(message, ensure_ascii=False).encode("utf-8", "surrogatepass")


def _sweep_messages(live: Live, route: tuple[str, str, str], examples: list[dict]) -> None:
    app, method, path = route

    @seed(zlib.crc32(path.encode()))
    @settings(max_examples=2 * EXAMPLES, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(body=mutated(examples))
    def no_5xx(body: bytes) -> None:
        sent = send(live, app, method, path, body, {"Content-Type": "application/json"}, "valid")
        assert sent.status < 500, f"{method} {path}: {sent.status} {sent.body[:300]!r} for {body[:300]!r}"

    no_5xx()


def test_no_dsp_route_answers_a_hostile_message_with_a_5xx(live):
    swept = [(route, examples) for route in live.routes()
             if route[1] == "POST" and (examples := examples_for(route[2]))]
    assert len(swept) >= 15 or not DSP_EXAMPLES.is_dir()
    for route, examples in swept:
        _sweep_messages(live, route, examples)
