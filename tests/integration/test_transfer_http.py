"""Transfers between real nodes over real HTTP: a member negotiates an open dataset with
`communs negotiate`, pulls it with `communs transfer`, then has it pushed to an endpoint of
its own; someone else cannot use the member's agreement, and a used token is dead."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from aiohttp import web

from connector.auth.client import dsp_request
from connector.cli.main import main
from connector.transfer import codec
from tests.nodes import client, free_port, init_federation, serving

CTX = ["https://w3id.org/dspace/2025/1/context.jsonld"]


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    return init_federation(tmp_path_factory)


async def cli(capsys, *argv: str) -> dict:
    """`communs ARGV --json` in a thread (it runs its own event loop); its JSON output."""
    capsys.readouterr()
    code = await asyncio.to_thread(main, [*argv, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


async def until(http, node, transfer_id: str, states: tuple[str, ...], timeout: float = 20.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        async with http.get(f"{node.management}/api/v1/transfers/{transfer_id}", headers=node.auth) as response:
            found = await response.json()
        if found["state"] in states or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.1)


async def test_pull_and_push_between_real_nodes(folders, tmp_path, capsys):
    _, provider_dir, member_dir = folders
    data = (provider_dir / "data/air.csv").read_bytes()
    async with serving(provider_dir) as provider, serving(member_dir) as member, client() as http:
        body = {"source": str(provider_dir / "data/air.csv"), "title": "Air quality", "policy": "open"}
        async with http.post(f"{provider.management}/api/v1/datasets", json=body, headers=provider.auth) as response:
            assert response.status == 201, await response.text()
            dataset = await response.json()
        agreed = await cli(capsys, "negotiate", provider.public, dataset["id"], "--wait", "--dir", str(member_dir))
        assert agreed["state"] == "FINALIZED", agreed
        agreement = agreed["agreementId"]

        # PULL with the CLI: the file arrives whole, both sides end COMPLETED
        out = tmp_path / "air.csv"
        pulled = await cli(capsys, "transfer", provider.public, agreement, "--out", str(out), "--dir", str(member_dir))
        assert out.read_bytes() == data and pulled["bytes"] == len(data)
        assert pulled["state"] == "COMPLETED" and pulled["id"]
        async with http.get(f"{provider.management}/api/v1/transfers", headers=provider.auth) as response:
            theirs = (await response.json())["items"][0]
        assert theirs["consumerPid"] == pulled["id"] and theirs["role"] == "PROVIDER"
        assert (await until(http, provider, theirs["id"], ("COMPLETED",)))["state"] == "COMPLETED"
        listed = await cli(capsys, "transfers", "list", "--dir", str(member_dir))
        assert [t["id"] for t in listed] == [pulled["id"]]

        # the token of a completed transfer serves nothing
        shown = await cli(capsys, "transfers", "show", pulled["id"], "--show-token", "--dir", str(member_dir))
        token = codec.properties(shown["dataAddress"])["authorization"]
        async with http.get(shown["dataAddress"]["endpoint"], headers={"Authorization": f"Bearer {token}"}) as response:
            assert response.status == 401 and data not in await response.read()

        # PUSH to an endpoint the member runs, with the bearer token it gives
        received: list[tuple[str | None, bytes]] = []

        async def sink(request: web.Request) -> web.Response:
            received.append((request.headers.get("Authorization"), await request.read()))
            return web.Response(status=204)

        app = web.Application()
        app.router.add_post("/incoming", sink)
        runner = web.AppRunner(app)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            address = codec.data_address(f"http://127.0.0.1:{port}/incoming", {"authorization": "sink-secret", "authType": "bearer"})
            # the provider's DSP base given as is (providerAddress): no dspace-version lookup
            request = {"providerAddress": f"{provider.public}/dsp", "agreementId": agreement, "format": "HttpData-PUSH",
                       "dataAddress": address}
            async with http.post(f"{member.management}/api/v1/transfers", json=request, headers=member.auth) as response:
                assert response.status == 201, await response.text()
                push = await response.json()
            done = await until(http, member, push["id"], ("COMPLETED", "TERMINATED"))
            assert done["state"] == "COMPLETED", done
            assert received == [("Bearer sink-secret", data)]
        finally:
            await runner.cleanup()

        # the member's agreement is not the provider's to give to anyone else
        stranger = {"@context": CTX, "@type": "TransferRequestMessage", "consumerPid": "urn:uuid:stranger",
                    "agreementId": agreement, "format": "HttpData-PULL", "callbackAddress": f"{provider.public}/dsp/callback"}
        node = provider.running.node  # a caller that is not the assignee (the provider itself)
        async with dsp_request(node.session, "POST", f"{provider.public}/dsp/transfers/request", signer=node.signer,
                               json=stranger) as response:
            assert response.status == 400
            assert not codec.problems("TransferError", await response.json())
        async with http.post(f"{provider.public}/dsp/transfers/request", json=stranger) as response:
            assert response.status == 401  # no DCP token at all
        # the CLI says why in one sentence and exits 1
        capsys.readouterr()
        argv = ["transfer", provider.public, "urn:uuid:none", "--out", str(tmp_path / "none"), "--dir", str(member_dir)]
        assert await asyncio.to_thread(main, argv) == 1
        err = capsys.readouterr().err
        assert "no FINALIZED agreement" in err and "Traceback" not in err and not (tmp_path / "none").exists()
        # management API input errors
        for bad in ({"agreementId": 5}, {"agreementId": "urn:uuid:none"}, [1],
                    {"agreementId": agreement, "providerAddress": "ftp://x"},
                    {"agreementId": agreement, "providerAddress": f"{provider.public}/dsp", "providerUrl": provider.public}):
            async with http.post(f"{member.management}/api/v1/transfers", json=bad, headers=member.auth) as response:
                assert response.status in (400, 404)
                assert (await response.json())["detail"]
