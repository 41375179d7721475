"""The console's door, over real HTTP to a real node (no browser): sign-in with the management
token gives an HttpOnly SameSite=Strict session cookie; a wrong token, a missing or wrong CSRF
token and an expired session are refused with a plain sentence; the API keeps its bearer token."""

from __future__ import annotations

import html
import re

import aiohttp
import pytest
import pytest_asyncio

from connector.console.guard import SESSIONS
from tests.nodes import init_node, serving

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return init_node(tmp_path_factory.mktemp("console"))  # `communs init` runs its own loop


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def node(folder):
    async with serving(folder) as running:
        yield running


def session_for(node) -> aiohttp.ClientSession:
    jar = aiohttp.CookieJar(unsafe=True)  # keeps cookies for 127.0.0.1
    return aiohttp.ClientSession(node.management, cookie_jar=jar, timeout=aiohttp.ClientTimeout(total=20))


async def signed_in(http: aiohttp.ClientSession, token: str) -> str:
    """Signs in, and returns the page's CSRF token."""
    async with http.post("/signin", data={"token": token, "next": "/"}, allow_redirects=False) as response:
        assert response.status == 303, await response.text()
        cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and token not in cookie
    async with http.get("/") as response:
        assert response.status == 200
        page = await response.text()
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


async def test_sign_in_shows_the_overview_with_a_strict_policy(node, caplog):
    caplog.set_level("DEBUG")
    async with session_for(node) as http:
        async with http.get("/") as response:  # not signed in: the sign-in form, 401
            assert response.status == 401
            assert "sign in with the management token" in html.unescape(await response.text())
        await signed_in(http, node.token)
        async with http.get("/") as response:
            page = await response.text()
            policy = response.headers["Content-Security-Policy"]
        assert node.did in page and "ACME SAS" in page and "datasets published" in page
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        assert "<script>" not in page  # no inline script at all
    assert node.token not in caplog.text  # never logged
    async with aiohttp.ClientSession(node.management) as api:  # the API still takes the bearer token
        async with api.get("/api/v1/datasets", headers=node.auth) as response:
            assert response.status == 200


async def test_a_wrong_token_is_refused(node):
    async with session_for(node) as http:
        async with http.post("/signin", data={"token": node.token + "x"}, allow_redirects=False) as response:
            assert response.status == 401
            assert "not this node's management token" in html.unescape(await response.text())
            assert "Set-Cookie" not in response.headers
        async with http.get("/datasets") as response:
            assert response.status == 401


async def test_a_missing_or_wrong_csrf_token_is_refused_and_changes_nothing(node):
    async with session_for(node) as http:
        csrf = await signed_in(http, node.token)
        for form in ({"title": "x"}, {"title": "x", "csrf": csrf[:-1] + "A"}):
            async with http.post("/datasets/nope/withdraw", data=form) as response:
                assert response.status == 403, await response.text()
                assert "security token (CSRF)" in html.unescape(await response.text())
        async with http.post("/signout", data={}, allow_redirects=False) as response:
            assert response.status == 403
        async with http.get("/") as response:  # still signed in
            assert response.status == 200
        async with http.post("/signout", data={"csrf": csrf}, allow_redirects=False) as response:
            assert response.status == 303
        async with http.get("/") as response:
            assert response.status == 401


async def test_an_expired_session_is_refused(node):
    sessions = node.running.management_app[SESSIONS]
    async with session_for(node) as http:
        csrf = await signed_in(http, node.token)
        clock = sessions.clock
        sessions.clock = lambda: clock() + sessions.idle + 1  # eight hours and a second later
        try:
            async with http.get("/datasets") as response:
                assert response.status == 401
                assert "session has expired" in html.unescape(await response.text())
            async with http.post("/signout", data={"csrf": csrf}) as response:
                assert response.status == 401
        finally:
            sessions.clock = clock


async def test_bad_input_reads_as_a_sentence(node):
    async with session_for(node) as http:
        csrf = await signed_in(http, node.token)
        async with http.get("/datasets/unknown") as response:
            assert response.status == 404
            assert "No dataset unknown." in html.unescape(await response.text())
        async with http.post("/policy/check", data={"csrf": csrf, "odrl": '{"permission": 3'},
                             headers={"HX-Request": "true"}) as response:
            assert "not valid JSON" in html.unescape(await response.text())
        async with http.get("/datasets?limit=0") as response:
            assert response.status == 400
