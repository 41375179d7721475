"""An HTTP PULL transfer through the node's data plane against a plain aiohttp file server,
both on loopback and measured in the same run.

    .venv/bin/python bench/bench_transfer.py [--quick]

A 1 GiB file (64 MiB with --quick; real bytes, not sparse) is downloaded by the same client
(connector.transfer.client.download: streaming into a file, constant memory) from:
- the baseline: `web.FileResponse` in a bare aiohttp app, no checks;
- ours: GET /data/{transfer} on the data plane, with a transfer STARTED over DSP, its
  token checked (hash lookup, expiry, scope) and the agreement's ODRL policy evaluated on
  the access, then the file served with sendfile.
Each server and the client run in processes of their own, so that their peak RSS (VmHWM)
is theirs alone. Reported: MB/s of both (median of the interleaved rounds), the ratio
(target >= 0.5; also the ratio of the best rounds, steadier when other work shares the
machine), and the peak RSS of each server and of the client.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402

HERE = Path(__file__).resolve()
MIB = 1 << 20


def make_file(path: Path, size: int) -> None:
    block = os.urandom(MIB)
    with open(path, "wb") as handle:
        for _ in range(size // MIB):
            handle.write(block)


async def serve_plain(path: Path) -> None:
    app = web.Application()

    async def handler(request: web.Request) -> web.FileResponse:
        return web.FileResponse(path)

    app.router.add_get("/file", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    print(json.dumps({"endpoint": f"http://127.0.0.1:{port}/file", "token": "none"}), flush=True)
    await asyncio.Event().wait()


async def serve_node(path: Path, folder: Path) -> None:
    """The data plane as a node runs it, with one DSP-started PULL transfer over PATH."""
    from connector.auth.caller import Caller
    from connector.catalog.model import Access, Dataset, Distribution
    from connector.catalog.service import CatalogService
    from connector.catalog.sql import SqlCatalogStore
    from connector.identity.callbacks import Callbacks
    from connector.identity.did import Signer
    from connector.identity.keys import generate_key
    from connector.identity.resolver import DidResolver
    from connector.negotiation.model import ContractNegotiation, Role
    from connector.negotiation.model import State as NState
    from connector.negotiation.service import NegotiationService
    from connector.negotiation.sql import SqlNegotiationStore
    from connector.storage.database import Database
    from connector.transfer import codec, dataplane
    from connector.transfer.manager import TRANSFERS
    from connector.transfer.model import Message, MessageKind
    from connector.transfer.service import TransferService
    from connector.transfer.sql import SqlTransferStore

    me = Signer.for_did_key(generate_key("Ed25519"))
    consumer = "did:web:consumer.example"
    database = await Database.open(f"sqlite+aiosqlite:///{folder}/node.db")
    (folder / "data").mkdir(exist_ok=True)
    os.link(path, folder / "data" / "big.bin")
    iri = "urn:uuid:bench-dataset"
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    async with aiohttp.ClientSession() as session:
        catalog = CatalogService(SqlCatalogStore(database), home=folder, did=me.did, public_url=base)
        await catalog.store.put(Dataset(id="bench", iri=iri, title="Big", publisher=me.did, access=Access.PUBLIC,
                                        offers=(), distributions=(Distribution(iri=iri + "#d", file="big.bin"),)))
        negotiations = NegotiationService(SqlNegotiationStore(database), did=me.did, dsp_url=base + "/dsp",
                                          signer=me, session=session, resolver=DidResolver(session),
                                          callbacks=Callbacks(DidResolver(session), origins=frozenset({"http://127.0.0.1:9"})))
        moment = datetime.now(UTC)
        agreement = {"@id": "urn:uuid:bench-agreement", "@type": "Agreement", "target": iri, "assigner": me.did,
                     "assignee": consumer, "timestamp": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
                     "permission": [{"action": "use", "constraint": [
                         {"leftOperand": "count", "operator": "lteq", "rightOperand": 1000}]}]}
        await negotiations.store.create(ContractNegotiation(
            id="urn:uuid:n", role=Role.PROVIDER, state=NState.FINALIZED, consumer_pid="urn:uuid:nc",
            provider_pid="urn:uuid:n", counterparty_did=consumer, counterparty_address=None, dataset_id=iri,
            offer={}, agreement=agreement, created_at=moment, updated_at=moment))
        service = TransferService(SqlTransferStore(database), did=me.did, dsp_url=base + "/dsp", public_url=base,
                                  signer=me, session=session, negotiations=negotiations, catalog=catalog)
        request = Message(MessageKind.REQUEST, consumer_pid="urn:uuid:c", agreement_id=agreement["@id"],
                          format="HttpData-PULL", callback_address="http://127.0.0.1:9/cb")
        _, p = await service.receive(Role.PROVIDER, None, request, Caller(consumer))
        start = (await service.store.claim("bench", datetime.now(UTC), timedelta(minutes=5)))[0]
        props = codec.properties(service.reveal(start)["dataAddress"])
        app = web.Application()
        app.add_routes(dataplane.routes)
        app[TRANSFERS] = service
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.SockSite(runner, sock).start()
        print(json.dumps({"endpoint": start.payload["dataAddress"]["endpoint"], "token": props["authorization"],
                          "state": p.state.value}), flush=True)
        await asyncio.Event().wait()


async def fetch(endpoint: str, token: str, out: Path) -> None:
    from connector.transfer import codec
    from connector.transfer.client import download

    address = codec.data_address(endpoint, {"authorization": token, "authType": "bearer"})
    started = time.perf_counter()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None)) as session:
        got = await download(session, address, out)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"bytes": got.bytes, "seconds": seconds, "peak_rss": peak}), flush=True)


def peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def start_server(*argv: str) -> tuple[subprocess.Popen, dict]:
    server = subprocess.Popen([sys.executable, str(HERE), *argv], stdout=subprocess.PIPE, text=True)
    line = server.stdout.readline()  # type: ignore[union-attr]
    if not line:
        raise SystemExit(f"the server {argv[0]} did not start")
    return server, json.loads(line)


def download_once(info: dict, out: Path) -> dict:
    done = subprocess.run([sys.executable, str(HERE), "--fetch", info["endpoint"], info["token"], str(out)],
                          capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    out.unlink()
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--serve-plain", nargs=1, help=argparse.SUPPRESS)
    parser.add_argument("--serve-node", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--fetch", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_plain:
        return asyncio.run(serve_plain(Path(args.serve_plain[0])))
    if args.serve_node:
        return asyncio.run(serve_node(Path(args.serve_node[0]), Path(args.serve_node[1])))
    if args.fetch:
        return asyncio.run(fetch(args.fetch[0], args.fetch[1], Path(args.fetch[2])))
    size, rounds = (64 * MIB, 3) if args.quick else (1024 * MIB, 3)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        made = time.perf_counter()
        make_file(root / "big.bin", size)
        made = time.perf_counter() - made
        (root / "node").mkdir()
        plain, plain_info = start_server("--serve-plain", str(root / "big.bin"))
        try:
            node, node_info = start_server("--serve-node", str(root / "big.bin"), str(root / "node"))
        except BaseException:
            plain.terminate()
            raise
        try:
            assert node_info["state"] == "STARTED"
            ours, theirs, clients = [], [], []
            for _ in range(rounds):  # interleaved, so that both see the same machine
                base = download_once(plain_info, root / "plain.out")
                mine = download_once(node_info, root / "node.out")
                assert base["bytes"] == mine["bytes"] == size
                theirs.append(size / base["seconds"] / 1e6)
                ours.append(size / mine["seconds"] / 1e6)
                clients += [base["peak_rss"], mine["peak_rss"]]
            report = {
                "bytes": size, "rounds": rounds, "file_written_s": round(made, 1),
                "plain_aiohttp_MB_s": round(statistics.median(theirs), 1),
                "node_data_plane_MB_s": round(statistics.median(ours), 1),
                "ratio": round(statistics.median(ours) / statistics.median(theirs), 2),
                "ratio_of_best": round(max(ours) / max(theirs), 2),  # steadier on a shared machine
                "node_server_peak_rss_MiB": round(peak_rss(node.pid) / MIB, 1),
                "plain_server_peak_rss_MiB": round(peak_rss(plain.pid) / MIB, 1),
                "client_peak_rss_MiB": round(max(clients) / MIB, 1),
            }
            report["target_met"] = report["ratio"] >= 0.5
            print(json.dumps({"pull_transfer": report}))
        finally:
            for server in (plain, node):
                server.terminate()
                server.wait(timeout=10)


if __name__ == "__main__":
    main()
