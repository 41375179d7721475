"""The HTTP PULL data plane and usage enforcement over real HTTP: tokens (forged, expired,
foreign, revoked, for another dataset), refresh, Range resume, count / purpose / time limits,
the policy monitor, and a PUSH to the consumer's endpoint."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from aiohttp import web
from transfer_kit import CTX, DATA, KIT, Kit, Node, listener, running, send

from connector.errors import ConnectorError
from connector.negotiation.model import Role
from connector.transfer import codec, usage
from connector.transfer.client import download
from connector.transfer.model import MessageKind
from connector.transfer.store import Token, TokenKind


@pytest.fixture
async def setup(tmp_path):
    async with running(tmp_path) as started:
        yield started


async def _pull(node: Node, kit: Kit, n: int = 1, *, agreement: str | None = None, purpose: str | None = None,
                permission: list | None = None, **extra) -> tuple[str, dict]:
    """A PULL transfer asked by the kit: (our pid, the START's endpoint properties + endpoint)."""
    agreement = agreement or await node.agreement(permission=permission, **extra)
    body = {"@context": CTX, "@type": "TransferRequestMessage", "consumerPid": f"urn:uuid:kit-c-{n}",
            "agreementId": agreement, "format": "HttpData-PULL", "callbackAddress": kit.base + "/callback"}
    if purpose:
        body[codec.PURPOSE] = purpose
    status, answer = await send(f"{node.base}/dsp/transfers/request", body)
    assert status == 201, answer
    if answer["state"] == "TERMINATED":
        return answer["providerPid"], {}
    start = [b for _, b in kit.received if b.get("@type") == "TransferStartMessage" and b["consumerPid"] == body["consumerPid"]]
    for _ in range(200):
        if start:
            break
        await asyncio.sleep(0.03)
        start = [b for _, b in kit.received if b.get("@type") == "TransferStartMessage" and b["consumerPid"] == body["consumerPid"]]
    address = start[-1]["dataAddress"]
    return answer["providerPid"], {**codec.properties(address), "endpoint": address["endpoint"]}


async def _get(url: str, token: str | None, **headers: str) -> tuple[int, bytes]:
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with aiohttp.ClientSession() as s, s.get(url, headers=headers) as r:
        return r.status, await r.read()


async def test_pull_serves_the_file_and_answers_range(setup):
    node, kit, _ = setup
    pid, props = await _pull(node, kit)
    assert props["endpoint"] == f"{node.base}/data/{pid}"
    status, body = await _get(props["endpoint"], props["authorization"])
    assert status == 200 and body == DATA
    status, body = await _get(props["endpoint"], props["authorization"], Range="bytes=1000-1999")
    assert status == 206 and body == DATA[1000:2000]
    async with aiohttp.ClientSession() as s, s.head(props["endpoint"], headers={"Authorization": f"Bearer {props['authorization']}"}) as r:
        assert r.status == 200 and r.content_length == len(DATA)
    assert await node.service.store.uses((await node.service.store.get(pid)).agreement_id) == 1  # resumes, HEAD: no new use


async def test_forged_expired_and_missing_tokens_are_401_and_serve_nothing(setup):
    node, kit, _ = setup
    pid, props = await _pull(node, kit)
    url = props["endpoint"]
    for token in (None, "forged-" + props["authorization"][7:], "", props["refreshToken"]):
        status, body = await _get(url, token)
        assert status == 401 and DATA[:64] not in body
    expired = "expired-token-secret"
    stale = Token(usage.digest(expired), TokenKind.ACCESS, pid, (await node.service.store.get(pid)).agreement_id,
                  node.dataset_iri, datetime.now(UTC) - timedelta(seconds=1))
    assert await node.service.store.rotate(pid, usage.digest(props["refreshToken"]), [stale])
    status, body = await _get(url, expired)
    assert status == 401 and b"expired" in body
    status, _ = await _get(url, props["authorization"])  # rotated away
    assert status == 401


async def test_foreign_token_and_token_for_another_dataset_are_403(setup, tmp_path):
    node, kit, _ = setup
    first, a = await _pull(node, kit, 1)
    other_file = tmp_path / "auto" / "src" / "other.bin"
    other_file.write_bytes(b"secret" * 100)
    other = await node.service.catalog.publish(str(other_file), title="Other", policy="open")
    agreement = await node.agreement(target=other.iri)
    second, b = await _pull(node, kit, 2, agreement=agreement)
    assert (await node.service.store.get(second)).dataset_id == other.iri
    status, body = await _get(b["endpoint"], a["authorization"])  # A's token on B's transfer
    assert status == 403 and b"secret" not in body
    status, body = await _get(a["endpoint"], b["authorization"])
    assert status == 403 and DATA[:64] not in body
    status, body = await _get(b["endpoint"], b["authorization"])
    assert status == 200 and body == b"secret" * 100


async def test_tokens_die_with_termination_and_completion(setup):
    node, kit, _ = setup
    pid, props = await _pull(node, kit, 1)
    await node.service.command(pid, MessageKind.TERMINATION, "over")
    status, body = await _get(props["endpoint"], props["authorization"])
    assert status == 401 and DATA[:64] not in body
    pid, props = await _pull(node, kit, 2)
    status, _ = await send(f"{node.base}/dsp/transfers/{pid}/completion",
                           {"@context": CTX, "@type": "TransferCompletionMessage", "providerPid": pid, "consumerPid": "urn:uuid:kit-c-2"})
    assert status == 200
    assert (await _get(props["endpoint"], props["authorization"]))[0] == 401
    async with aiohttp.ClientSession() as s, s.post(props["refreshEndpoint"], json={"refresh_token": props["refreshToken"]}) as r:
        assert r.status == 401


async def test_suspension_revokes_access_and_refresh_works_once_resumed(setup):
    node, kit, _ = setup
    pid, props = await _pull(node, kit)
    suspend = {"@context": CTX, "@type": "TransferSuspensionMessage", "providerPid": pid, "consumerPid": "urn:uuid:kit-c-1"}
    assert (await send(f"{node.base}/dsp/transfers/{pid}/suspension", suspend))[0] == 200
    assert (await _get(props["endpoint"], props["authorization"]))[0] == 401
    refresh = {"refresh_token": props["refreshToken"]}
    async with aiohttp.ClientSession() as s:
        async with s.post(props["refreshEndpoint"], json=refresh) as r:
            assert r.status == 403  # not while suspended
        resume = {**suspend, "@type": "TransferStartMessage"}
        assert (await send(f"{node.base}/dsp/transfers/{pid}/start", resume))[0] == 200
        async with s.post(props["refreshEndpoint"], json=refresh) as r:
            assert r.status == 200
            fresh = await r.json()
        async with s.post(props["refreshEndpoint"], json=refresh) as r:
            assert r.status == 401  # a refresh token is single-use
    status, body = await _get(props["endpoint"], fresh["access_token"])
    assert status == 200 and body == DATA


async def test_count_limit_counts_fresh_downloads_not_resumes(setup):
    node, kit, _ = setup
    twice = [{"action": "use", "constraint": [{"leftOperand": "count", "operator": "lteq", "rightOperand": 2}]}]
    pid, props = await _pull(node, kit, permission=twice)
    url, token = props["endpoint"], props["authorization"]
    assert (await _get(url, token))[0] == 200
    assert (await _get(url, token, Range="bytes=5000-"))[0] == 206  # a resume of the first
    assert (await _get(url, token))[0] == 200
    status, body = await _get(url, token)
    assert status == 403 and b"agreement does not allow" in body and DATA[:64] not in body


async def test_purpose_and_elapsed_time_are_checked_when_a_transfer_starts(setup):
    node, kit, _ = setup
    research = [{"action": "use", "constraint": [{"leftOperand": "purpose", "operator": "isAnyOf",
                                                  "rightOperand": ["https://w3id.org/dpv#ResearchAndDevelopment"]}]}]
    agreement = await node.agreement(permission=research)
    pid, props = await _pull(node, kit, 1, agreement=agreement, purpose="https://w3id.org/dpv#Marketing")
    assert props == {} and (await node.service.store.get(pid)).state.value == "TERMINATED"
    pid, props = await _pull(node, kit, 2, agreement=agreement, purpose="https://w3id.org/dpv#ResearchAndDevelopment")
    assert (await _get(props["endpoint"], props["authorization"]))[0] == 200
    hour = [{"action": "use", "constraint": [{"leftOperand": "elapsedTime", "operator": "lteq",
                                              "rightOperand": {"@value": "PT1H", "@type": "xsd:duration"}}]}]
    pid, props = await _pull(node, kit, 3, permission=hour, timestamp="2020-01-01T00:00:00Z")
    assert props == {} and "agreement does not allow" in (await node.service.store.get(pid)).reason


async def test_the_policy_monitor_ends_transfers_whose_agreement_expired(setup):
    node, kit, manager = setup
    soon = (datetime.now(UTC) + timedelta(seconds=1.5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    window = [{"action": "use", "constraint": [{"leftOperand": "dateTime", "operator": "lt", "rightOperand": soon}]}]
    pid, props = await _pull(node, kit, permission=window)
    assert await manager.monitor_once() == 0
    assert (await _get(props["endpoint"], props["authorization"]))[0] == 200
    await asyncio.sleep(2.1)
    status, _ = await _get(props["endpoint"], props["authorization"])
    assert status == 403  # every access re-checks the policy
    assert await manager.monitor_once() == 1
    assert (await node.service.store.get(pid)).state.value == "TERMINATED"
    assert "expired" in (await kit.got("TransferTerminationMessage"))["reason"][0]
    assert (await _get(props["endpoint"], props["authorization"]))[0] == 401  # revoked


async def test_client_download_resumes_with_range_after_a_dropped_connection(setup, tmp_path):
    node, kit, _ = setup
    pid, props = await _pull(node, kit)
    drops = {"left": 1}

    async def flaky(request: web.Request) -> web.StreamResponse:
        """Forwards to the node; cuts the first response after 100 KB."""
        headers = {k: request.headers[k] for k in ("Authorization", "Range") if k in request.headers}
        async with aiohttp.ClientSession() as s, s.get(props["endpoint"], headers=headers) as upstream:
            response = web.StreamResponse(status=upstream.status, headers={
                k: upstream.headers[k] for k in ("Content-Length", "Content-Range") if k in upstream.headers})
            await response.prepare(request)
            sent = 0
            async for chunk in upstream.content.iter_chunked(16384):
                await response.write(chunk)
                sent += len(chunk)
                if drops["left"] and sent >= 100_000:
                    drops["left"] -= 1
                    request.transport.close()
                    return response
            await response.write_eof()
            return response

    sock, base = listener()
    app = web.Application()
    app.router.add_get("/data", flaky)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    try:
        address = codec.data_address(f"{base}/data", {"authorization": props["authorization"], "authType": "bearer"})
        out = tmp_path / "out.bin"
        async with aiohttp.ClientSession() as session:
            got = await download(session, address, out)
        assert got.resumed == 1 and out.read_bytes() == DATA and not (tmp_path / "out.bin.part").exists()
    finally:
        await runner.cleanup()
    with pytest.raises(ConnectorError):  # a refused download is an error, not an empty file
        async with aiohttp.ClientSession() as session:
            await download(session, codec.data_address(props["endpoint"], {"authorization": "forged"}), tmp_path / "x")
    assert not (tmp_path / "x").exists()


async def test_push_streams_to_the_consumer_endpoint_then_completes(setup):
    node, kit, manager = setup
    agreement = await node.agreement()
    destination = codec.data_address(kit.base + "/push", {"authorization": "kit-secret", "authType": "bearer"})
    body = {"@context": CTX, "@type": "TransferRequestMessage", "consumerPid": "urn:uuid:kit-push",
            "agreementId": agreement, "format": "HttpData-PUSH", "callbackAddress": kit.base + "/callback",
            "dataAddress": destination}
    status, answer = await send(f"{node.base}/dsp/transfers/request", body)
    assert status == 201 and answer["state"] == "STARTED"
    pusher = asyncio.create_task(manager.push_loop())
    try:
        await kit.got("TransferCompletionMessage")
    finally:
        pusher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pusher
    assert kit.pushed == [DATA]
    assert (await node.service.store.get(answer["providerPid"])).state.value == "COMPLETED"
    assert KIT.did  # the kit is the caller throughout


async def test_consumer_request_checks_its_input(setup):
    node, kit, _ = setup
    with pytest.raises(ConnectorError):
        await node.service.request(None, "urn:uuid:none")
    agreement = await node.agreement(role=Role.CONSUMER)
    for fmt, address in (("S3", None), ("HttpData-PUSH", None), ("HttpData-PUSH", {"endpoint": "x"})):
        with pytest.raises(ConnectorError):
            await node.service.request(None, agreement, fmt, address)
    assert await node.service.store.list() == []


async def test_client_download_refreshes_an_expired_access_token(setup, tmp_path):
    node, kit, _ = setup
    pid, props = await _pull(node, kit)
    agreement = (await node.service.store.get(pid)).agreement_id
    moment = datetime.now(UTC)
    stale = Token(usage.digest("stale"), TokenKind.ACCESS, pid, agreement, node.dataset_iri, moment - timedelta(seconds=1))
    refresh = Token(usage.digest("refresh-2"), TokenKind.REFRESH, pid, agreement, node.dataset_iri, moment + timedelta(hours=1))
    assert await node.service.store.rotate(pid, usage.digest(props["refreshToken"]), [stale, refresh])
    address = codec.data_address(props["endpoint"], {"authorization": "stale", "authType": "bearer",
                                                     "refreshEndpoint": props["refreshEndpoint"], "refreshToken": "refresh-2"})
    async with aiohttp.ClientSession() as session:
        got = await download(session, address, tmp_path / "fresh.bin")
    assert got.refreshed == 1 and (tmp_path / "fresh.bin").read_bytes() == DATA


async def test_a_remote_source_is_proxied_as_a_stream_with_range(setup, tmp_path):
    node, kit, _ = setup
    (tmp_path / "remote.bin").write_bytes(DATA)
    source = web.Application()
    async def remote(request: web.Request) -> web.FileResponse:
        return web.FileResponse(tmp_path / "remote.bin")

    source.router.add_get("/remote.bin", remote)
    sock, base = listener()
    runner = web.AppRunner(source)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    try:
        remote = await node.service.catalog.publish(f"{base}/remote.bin", title="Remote", policy="open")
        pid, props = await _pull(node, kit, agreement=await node.agreement(target=remote.iri))
        status, body = await _get(props["endpoint"], props["authorization"])
        assert status == 200 and body == DATA
        status, body = await _get(props["endpoint"], props["authorization"], Range="bytes=100-199")
        assert status == 206 and body == DATA[100:200]
    finally:
        await runner.cleanup()
    status, body = await _get(props["endpoint"], props["authorization"])
    assert status == 502 and DATA[:64] not in body  # the source is gone: a clear error


async def test_no_token_is_kept_in_clear_in_the_database(setup, tmp_path):
    node, kit, _ = setup
    pid, props = await _pull(node, kit)
    for _ in range(100):  # the START is sent, its stored copy scrubbed
        stored = b"".join(p.read_bytes() for p in (tmp_path / "auto").glob("test.db*"))
        if props["authorization"].encode() not in stored:
            break
        await asyncio.sleep(0.05)
    for secret in (props["authorization"], props["refreshToken"]):
        assert secret.encode() not in stored
    assert usage.digest(props["authorization"]).encode() in stored


async def test_a_consumer_cannot_resume_what_the_policy_no_longer_allows(setup):
    node, kit, _ = setup
    once = [{"action": "use", "constraint": [{"leftOperand": "count", "operator": "lteq", "rightOperand": 1}]}]
    pid, props = await _pull(node, kit, permission=once)
    assert (await _get(props["endpoint"], props["authorization"]))[0] == 200
    assert (await _get(props["endpoint"], props["authorization"], Range="bytes=9-"))[0] == 206  # the same use
    assert (await _get(props["endpoint"], props["authorization"]))[0] == 403  # a second one
    suspend = {"@context": CTX, "@type": "TransferSuspensionMessage", "providerPid": pid, "consumerPid": "urn:uuid:kit-c-1"}
    assert (await send(f"{node.base}/dsp/transfers/{pid}/suspension", suspend))[0] == 200
    status, body = await send(f"{node.base}/dsp/transfers/{pid}/start", {**suspend, "@type": "TransferStartMessage"})
    assert status == 400 and "agreement does not allow" in body["reason"][0]
    assert (await node.service.store.get(pid)).state.value == "SUSPENDED"
