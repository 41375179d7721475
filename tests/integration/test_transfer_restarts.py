"""The PULL data plane and `communs transfer` between real nodes over real HTTP: Range and
If-Range as RFC 9110 says, access tokens revoked when the provider restarts (its refresh
token lets a download go on), a download that waits out a restarting provider and can be
resumed, and a CLI that overwrites nothing and shows no token unless asked."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

import pytest

from connector.cli.main import main
from connector.transfer import codec
from connector.transfer.cli import REDACTED
from tests.nodes import client, init_federation, serving

DATA_FILE = "data/air.csv"


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    return init_federation(tmp_path_factory)


async def management(http, node, method: str, path: str, body=None) -> dict:
    async with http.request(method, f"{node.management}/api/v1/{path}", json=body, headers=node.auth) as response:
        assert response.status in (200, 201), await response.text()
        return await response.json()


async def until(http, node, path: str, states: tuple[str, ...], timeout: float = 20.0) -> dict:
    deadline = time.monotonic() + timeout
    while (found := await management(http, node, "GET", path))["state"] not in states:
        assert time.monotonic() < deadline, found
        await asyncio.sleep(0.1)
    return found


async def agreement(http, provider, member, provider_dir) -> str:
    body = {"source": str(provider_dir / DATA_FILE), "title": "Air quality", "policy": "open"}
    dataset = await management(http, provider, "POST", "datasets", body)
    started = await management(http, member, "POST", "negotiations",
                               {"providerUrl": provider.public, "datasetId": dataset["id"]})
    return (await until(http, member, f"negotiations/{started['id']}", ("FINALIZED",)))["agreementId"]


async def pulling(http, provider, member, agreement_id: str) -> dict:
    """A STARTED PULL transfer of the member, as its management API shows it."""
    body = {"providerUrl": provider.public, "agreementId": agreement_id, "format": "HttpData-PULL"}
    started = await management(http, member, "POST", "transfers", body)
    return await until(http, member, f"transfers/{started['id']}", ("STARTED",))


async def get(http, endpoint: str, token: str, **headers: str) -> tuple[int, bytes, Any]:
    async with http.get(endpoint, headers={"Authorization": f"Bearer {token}", **headers}) as response:
        return response.status, await response.read(), response.headers.copy()


async def test_ranges_follow_rfc_9110_and_a_restart_revokes_access_tokens(folders):
    _, provider_dir, member_dir = folders
    data = (provider_dir / DATA_FILE).read_bytes()
    async with contextlib.AsyncExitStack() as stack:
        member = await stack.enter_async_context(serving(member_dir))
        http = await stack.enter_async_context(client())
        async with serving(provider_dir) as provider:
            transfer = await pulling(http, provider, member, await agreement(http, provider, member, provider_dir))
            props = codec.properties(transfer["dataAddress"])
            endpoint, token = transfer["dataAddress"]["endpoint"], props["authorization"]
            status, body, headers = await get(http, endpoint, token)
            assert (status, body) == (200, data)
            etag, modified = headers["ETag"], headers["Last-Modified"]
            for asked, expected in [
                ({"Range": "bytes=0-3"}, (206, data[:4])),
                ({"Range": "bytes=0-3", "If-Range": etag}, (206, data[:4])),
                ({"Range": "bytes=0-3", "If-Range": modified}, (206, data[:4])),
                ({"Range": "bytes=0-3", "If-Range": '"another"'}, (200, data)),  # changed since: all of it
                ({"Range": "bytes=0-3", "If-Range": "W/" + etag}, (200, data)),  # weak tags never match
                ({"Range": "bytes=0-3", "If-Range": "Thu, 01 Jan 2015 00:00:00 GMT"}, (200, data)),
                ({"Range": "bytes=0-1,4-5"}, (200, data)),  # several ranges: not supported, ignored
                ({"Range": "items=0-3"}, (200, data)),  # another unit: ignored
                ({"Range": "bytes=5-2"}, (200, data)),  # not a valid range: ignored
                ({"Range": "bytes=1000-"}, (416, None)),  # one byte range past the end
            ]:
                status, body, headers = await get(http, endpoint, token, **asked)
                assert status == expected[0], asked
                assert expected[1] is None or body == expected[1], asked
            assert headers["Content-Range"] == f"bytes */{len(data)}"

        async with serving(provider_dir) as provider:  # the same node, restarted
            status, body, _ = await get(http, endpoint, token)
            assert status == 401 and b"revoked" in body and data not in body
            async with http.post(props["refreshEndpoint"], json={"refresh_token": props["refreshToken"]}) as response:
                assert response.status == 200
                fresh = await response.json()
            assert (await get(http, endpoint, fresh["access_token"]))[:2] == (200, data)


async def cli(capsys, *argv: str) -> tuple[int, str, str]:
    """`communs ARGV` in a thread (it runs its own event loop): exit code, stdout, stderr."""
    capsys.readouterr()
    code = await asyncio.to_thread(main, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def test_the_cli_waits_out_a_restarting_provider_and_overwrites_nothing(folders, tmp_path, capsys):
    _, provider_dir, member_dir = folders
    data = (provider_dir / DATA_FILE).read_bytes()
    member_cli = ("--dir", str(member_dir), "--json")
    async with serving(member_dir) as member, client() as http:
        async with serving(provider_dir) as provider:
            agreement_id = await agreement(http, provider, member, provider_dir)
            transfer = await pulling(http, provider, member, agreement_id)
            # the operator suspends and resumes it: the reason goes with the suspension
            await management(http, member, "POST", f"transfers/{transfer['id']}/suspend")
            assert (await management(http, member, "GET", f"transfers/{transfer['id']}"))["reason"]
            await management(http, member, "POST", f"transfers/{transfer['id']}/start")
        # the provider is down when the download starts, and back two seconds later
        out = tmp_path / "air.csv"
        download = asyncio.create_task(cli(capsys, "transfers", "download", transfer["id"], "--out", str(out),
                                           "--retry-for", "30", *member_cli))
        await asyncio.sleep(2)
        async with serving(provider_dir) as provider:
            code, stdout, stderr = await download
            assert code == 0, stderr
            assert "retrying in" in stderr and "giving up in" in stderr
            assert out.read_bytes() == data
            shown = json.loads(stdout)
            assert shown["state"] == "COMPLETED" and shown["reason"] is None and shown["bytes"] == len(data)
            theirs = await management(http, provider, "GET", "transfers?role=PROVIDER")
            pid = next(p["id"] for p in theirs["items"] if p["consumerPid"] == transfer["id"])
            assert (await until(http, provider, f"transfers/{pid}", ("COMPLETED",)))["reason"] is None

            # a file that is there already is not overwritten without --force
            pull = ("transfer", provider.public, agreement_id, "--out", str(out))
            out.write_text("keep me")
            code, _, stderr = await cli(capsys, *pull, *member_cli)
            assert code != 0 and "already exists; pass --force" in stderr and out.read_text() == "keep me"
            code, stdout, _ = await cli(capsys, *pull, "--force", *member_cli)
            assert code == 0 and out.read_bytes() == data
            pulled = json.loads(stdout)
            secrets = {p["name"]: p["value"] for p in pulled["dataAddress"]["endpointProperties"]}
            assert secrets["authorization"] == secrets["refreshToken"] == REDACTED
            code, stdout, _ = await cli(capsys, "transfers", "show", pulled["id"], "--show-token", *member_cli)
            shown = codec.properties(json.loads(stdout)["dataAddress"])
            assert code == 0 and REDACTED not in (shown["authorization"], shown["refreshToken"])
