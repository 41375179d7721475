"""The crawler reads its members from a real ledger (one validator process): the member list,
each member proven against the genesis with --genesis, a foreign genesis refused; and
`communs crawl` end to end, as a user runs it, against a member served on loopback."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from connector.cli.main import main
from connector.crawler.config import CrawlerConfig
from connector.crawler.members import load_genesis, read_registry
from connector.crawler.routes import public
from connector.crawler.service import CRAWLER, crawler_context
from connector.errors import ConnectorError
from connector.sparql.engine import Limits
from connector.sparql.service import SparqlSettings
from tests.integration.ledgered import one_validator
from tests.nodes import free_port, init_node
from tests.unit.crawler.served import Member

SD_HASH = "ab" * 32


@pytest.fixture(scope="module")
def member_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def chain(tmp_path_factory, member_port):
    """One validator whose genesis lists one member, at 127.0.0.1:MEMBER_PORT."""
    folder = tmp_path_factory.mktemp("ledger")
    url = f"http://127.0.0.1:{member_port}"
    did = f"did:web:127.0.0.1%3A{member_port}"
    assert main(["ledger", "init", "--validators", "1", "--dir", str(folder / "b")]) == 0
    with one_validator(folder / "a", "--member", f"{did}={url}@{SD_HASH}") as (home, rpc):
        yield rpc, home / "genesis.json", folder / "b" / "node0" / "genesis.json", did


async def test_members_are_listed_and_each_one_proven(chain) -> None:
    rpc, genesis, _, did = chain
    listed = await read_registry(rpc)
    assert [(m.did, m.sd_hash, m.status, m.verified) for m in listed.members] == [
        (did, SD_HASH, "member", False)]
    proven = await read_registry(rpc, load_genesis(genesis))
    assert [(m.did, m.verified) for m in proven.active] == [(did, True)]


async def test_a_foreign_genesis_is_refused(chain) -> None:
    rpc, _, foreign, _ = chain
    with pytest.raises(ConnectorError, match="cannot read the registry"):
        await read_registry(rpc, load_genesis(foreign))


async def test_an_unreachable_ledger_is_a_sentence() -> None:
    with pytest.raises(ConnectorError, match="cannot read the registry from http://127.0.0.1:9"):
        await read_registry("http://127.0.0.1:9", timeout=2)


@pytest.fixture(scope="module")
def crawler_node(tmp_path_factory) -> Path:
    return init_node(tmp_path_factory.mktemp("crawler"), name="Crawler SAS")


async def test_communs_crawl_end_to_end(chain, crawler_node, member_port) -> None:
    rpc, genesis, _, did = chain
    member = Member()
    async with TestServer(member.app(), host="127.0.0.1", port=member_port):
        member.url = f"http://127.0.0.1:{member_port}"

        async def crawl(*extra: str) -> tuple[int, str, str]:
            child = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "connector.cli.main", "crawl", "--dir", str(crawler_node),
                "--rpc", rpc, *extra, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            out, err = await child.communicate()
            return child.returncode or 0, out.decode(), err.decode()

        code, out, err = await crawl("--genesis", str(genesis), "--json")
        report = json.loads(out)
        assert code == 1  # the member's self-description is not valid: scripts notice
        assert report["verified"] and report["datasets"] == 4 and report["failures"] == 0
        (m,) = report["members"]
        assert m["did"] == did and sorted(m["changed"]) == ["dcat", "did", "dsp-catalog", "self-description"]
        assert any("[registry]" in p or "[input]" in p for p in m["invalid"]["self-description"])
        member.titles["z"] = "Zoo"
        code, out, err = await crawl()
        assert "Zoo" not in out and did in out and "not verified (give --genesis)" in out
        assert "dcat, dsp-catalog" in out and "5" in out  # changed sources and the new count


def test_crawl_without_a_reachable_ledger_is_one_sentence(crawler_node, capsys) -> None:
    code = main(["crawl", "--dir", str(crawler_node), "--rpc", "http://127.0.0.1:9"])
    err = capsys.readouterr().err
    assert code == 1 and "cannot read the registry from http://127.0.0.1:9" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    code = main(["crawl", "--dir", str(crawler_node)])
    assert code == 1 and "give --rpc URL" in capsys.readouterr().err


async def test_the_scheduled_crawler_serves_the_federated_catalog(chain, crawler_node, member_port) -> None:
    """What a node wires: the cleanup context crawls on schedule, the route table serves."""
    rpc, genesis, _, did = chain
    member = Member()
    async with TestServer(member.app(), host="127.0.0.1", port=member_port):
        member.url = f"http://127.0.0.1:{member_port}"
        config = CrawlerConfig(enabled=True, rpc_url=rpc, genesis=str(genesis), interval=0.5)
        app = web.Application()
        app.cleanup_ctx.append(crawler_context(crawler_node, config, public_url="http://crawler.example",
                                               settings=SparqlSettings(limits=Limits(workers=1, replica_max_bytes=0))))
        app.add_routes(public)
        async with TestServer(app, host="127.0.0.1") as front, aiohttp.ClientSession() as http:
            service = app[CRAWLER]
            for _ in range(200):
                if service.last is not None:
                    break
                await asyncio.sleep(0.1)
            assert service.last is not None and service.last.verified
            member.titles["q"] = "Quays"  # the next scheduled crawl picks it up
            query = 'SELECT ?d WHERE { ?d <http://purl.org/dc/terms/title> "Quays" }'
            for _ in range(200):
                async with http.get(f"{front.make_url('/federation/sparql')}", params={"query": query},
                                    headers={"Accept": "application/sparql-results+json"}) as r:
                    assert r.status == 200
                    if (await r.json())["results"]["bindings"]:
                        break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("the scheduled crawl never saw the new dataset")
