"""The ABCI socket server over real TCP and unix sockets, driven by a client written from the
protocol: the ledger application answers as it does in process (same app hashes), the four
connections are served at once and each in order, and bad input gets an exception response."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ledger import abci
from ledger.app import bank, client
from ledger.app.app import LedgerApp
from ledger.app.store import VersionedStore, verify_proof
from ledger.cometbft import convert
from ledger.cometbft.client import AbciClient, AbciError
from ledger.cometbft.pb.tendermint.abci import types_pb2 as pb
from ledger.cometbft.server import MAX_CONNECTIONS, AbciServer, parse_listen
from ledger.cometbft.wire import MAX_MESSAGE, frame, split_frames, uvarint
from ledger.errors import LedgerError
from tests.ledger.app.apphelpers import ALICE, BOB, CHAIN, genesis_state, text

T0 = 1_700_000_000_123


@pytest.fixture(params=["tcp", "unix"])
async def served(request: pytest.FixtureRequest, tmp_path: Path
                 ) -> AsyncIterator[tuple[str, LedgerApp]]:
    app = LedgerApp(VersionedStore.open(None))
    server = AbciServer(app)
    listen = "tcp://127.0.0.1:0" if request.param == "tcp" else f"unix://{tmp_path}/app.sock"
    address = await server.start(listen)
    yield address, app
    await server.close()


def init_request() -> pb.Request:
    return pb.Request(init_chain=pb.RequestInitChain(
        time=convert.timestamp(T0), chain_id=CHAIN, initial_height=1,
        app_state_bytes=json.dumps(genesis_state()).encode()))


def finalize(txs: list[bytes], height: int) -> pb.Request:
    return pb.Request(finalize_block=pb.RequestFinalizeBlock(
        txs=txs, hash=b"\x07" * 32, height=height, time=convert.timestamp(T0 + height * 1000),
        proposer_address=b"\x01" * 20))


async def test_echo_flush_info_before_the_chain(served: tuple[str, LedgerApp]) -> None:
    c = await AbciClient.connect(served[0])
    echo = await c.call(pb.Request(echo=pb.RequestEcho(message="héllo")))
    assert echo.echo.message == "héllo"
    info = (await c.call(pb.Request(info=pb.RequestInfo(version="0.38.26")))).info
    assert info.last_block_height == 0 and info.last_block_app_hash == b""
    assert info.version == "communs-ledger-app/1"
    await c.close()


async def test_a_block_over_the_socket_matches_the_app_in_process(
        served: tuple[str, LedgerApp]) -> None:
    c = await AbciClient.connect(served[0])
    local = LedgerApp(VersionedStore.open(None))  # the same app, driven in process
    init = (await c.call(init_request())).init_chain
    local_init = local.init_chain(convert.init_chain(init_request().init_chain))
    assert init.app_hash == local_init.app_hash and len(init.app_hash) == 32
    send = client.send(ALICE, CHAIN, 0, text(BOB), 1234)
    checked = (await c.call(pb.Request(check_tx=pb.RequestCheckTx(tx=send)))).check_tx
    assert checked.code == 0, checked.log
    bad = (await c.call(pb.Request(check_tx=pb.RequestCheckTx(tx=b"junk")))).check_tx
    assert bad.code != 0 and bad.log and bad.codespace
    # a recheck runs against the check state: the same send is now a replayed sequence
    again = (await c.call(pb.Request(check_tx=pb.RequestCheckTx(
        tx=send, type=pb.RECHECK)))).check_tx
    assert again.code != 0
    prepared = (await c.call(pb.Request(prepare_proposal=pb.RequestPrepareProposal(
        max_tx_bytes=1 << 20, txs=[send, b"junk"], height=1,
        time=convert.timestamp(T0 + 1000))))).prepare_proposal
    assert list(prepared.txs) == [send]
    accept = (await c.call(pb.Request(process_proposal=pb.RequestProcessProposal(
        txs=[send], height=1)))).process_proposal
    reject = (await c.call(pb.Request(process_proposal=pb.RequestProcessProposal(
        txs=[b"junk"], height=1)))).process_proposal
    assert accept.status == pb.ResponseProcessProposal.ACCEPT
    assert reject.status == pb.ResponseProcessProposal.REJECT
    res = (await c.call(finalize([send], 1))).finalize_block
    local_res = local.finalize_block(convert.finalize_block(finalize([send], 1).finalize_block))
    assert res.app_hash == local_res.app_hash
    assert [r.code for r in res.tx_results] == [0]
    assert any(e.type == "transfer" for e in res.tx_results[0].events)
    commit = (await c.call(pb.Request(commit=pb.RequestCommit()))).commit
    assert commit.retain_height == 0
    info = (await c.call(pb.Request(info=pb.RequestInfo()))).info
    assert (info.last_block_height, info.last_block_app_hash) == (1, res.app_hash)
    # a proven query: the one ProofOp verifies against the app hash of height 1
    key = bank.BALANCE + BOB.address
    q = (await c.call(pb.Request(query=pb.RequestQuery(path="/store", data=key,
                                                       prove=True)))).query
    assert q.code == 0 and q.height == 1 and len(q.proof_ops.ops) == 1
    op = q.proof_ops.ops[0]
    assert op.key == key and verify_proof(res.app_hash, key, q.value, op.data)
    assert not verify_proof(res.app_hash, key, q.value + b"0", op.data)
    plain = (await c.call(pb.Request(query=pb.RequestQuery(
        path="/bank/balance", data=text(BOB).encode())))).query
    assert json.loads(plain.value)["balance"] == 50_000 + 1234 and not plain.proof_ops.ops
    await c.close()


async def test_a_large_request_is_read_whole_and_answered(
        served: tuple[str, LedgerApp]) -> None:
    c = await AbciClient.connect(served[0])
    big = (await c.call(pb.Request(check_tx=pb.RequestCheckTx(tx=b"\x01" * 3_000_000))))
    assert big.check_tx.code != 0
    echo = pb.Request(echo=pb.RequestEcho(message="m" * 1_000_000))
    assert (await c.call(echo)).echo.message == "m" * 1_000_000
    await c.close()


async def test_vote_extensions_are_empty(served: tuple[str, LedgerApp]) -> None:
    c = await AbciClient.connect(served[0])
    ext = (await c.call(pb.Request(extend_vote=pb.RequestExtendVote(height=3)))).extend_vote
    assert ext.vote_extension == b""
    v = pb.ResponseVerifyVoteExtension
    ok = await c.call(pb.Request(verify_vote_extension=pb.RequestVerifyVoteExtension()))
    no = await c.call(pb.Request(verify_vote_extension=pb.RequestVerifyVoteExtension(
        vote_extension=b"x")))
    assert ok.verify_vote_extension.status == v.ACCEPT
    assert no.verify_vote_extension.status == v.REJECT
    await c.close()


async def test_four_connections_at_once_each_answered_in_order(
        served: tuple[str, LedgerApp]) -> None:
    conns = [await AbciClient.connect(served[0]) for _ in range(4)]
    await conns[0].call(init_request())

    async def talk(i: int, c: AbciClient) -> list[str]:
        out = await c.pipeline([pb.Request(echo=pb.RequestEcho(message=f"{i}-{k}"))
                                for k in range(300)])
        return [r.echo.message for r in out]

    answers = await asyncio.gather(*(talk(i, c) for i, c in enumerate(conns)))
    for i, got in enumerate(answers):
        assert got == [f"{i}-{k}" for k in range(300)]
    # a mixed pipeline keeps its order too
    mixed = await conns[1].pipeline([
        pb.Request(info=pb.RequestInfo()), pb.Request(echo=pb.RequestEcho(message="a")),
        pb.Request(check_tx=pb.RequestCheckTx(tx=b"junk"))])
    assert [r.WhichOneof("value") for r in mixed] == ["info", "echo", "check_tx"]
    for c in conns:
        await c.close()


async def test_connections_beyond_the_cap_are_closed(served: tuple[str, LedgerApp]) -> None:
    conns = [await AbciClient.connect(served[0]) for _ in range(MAX_CONNECTIONS)]
    await conns[-1].call(pb.Request(echo=pb.RequestEcho(message="in")))  # all accepted
    extra = await AbciClient.connect(served[0])
    with pytest.raises((asyncio.IncompleteReadError, ConnectionError)):
        await extra.call(pb.Request(echo=pb.RequestEcho(message="one too many")))
    await conns[0].close()
    await asyncio.sleep(0.05)
    again = await AbciClient.connect(served[0])  # a freed place is taken again
    assert (await again.call(pb.Request(echo=pb.RequestEcho(message="x")))).echo.message == "x"
    for c in [*conns[1:], again]:
        await c.close()


async def test_an_application_error_is_an_exception_response(
        served: tuple[str, LedgerApp]) -> None:
    c = await AbciClient.connect(served[0])
    with pytest.raises(AbciError, match="finalize_block: FinalizeBlock before InitChain"):
        await c.call(finalize([], 1))
    # the connection stays usable after the app's refusal
    assert (await c.call(pb.Request(echo=pb.RequestEcho(message="ok")))).echo.message == "ok"
    with pytest.raises(AbciError, match="unsupported request None"):
        await c.call(pb.Request())
    await c.close()


async def _raw(address: str, data: bytes) -> bytes:
    host, where = parse_listen(address)
    if host == "unix":
        reader, writer = await asyncio.open_unix_connection(str(where))
    else:
        reader, writer = await asyncio.open_connection(host, int(where))
    writer.write(data)
    await writer.drain()
    got = await asyncio.wait_for(reader.read(), 5)  # until the server closes
    writer.close()
    return got


@pytest.mark.parametrize("data,message", [
    (frame(b"\xff\xff\xff"), "not a protobuf Request"),
    (uvarint(MAX_MESSAGE + 1), "exceeds the 104857600-byte limit"),
    (b"\x80" * 11, "longer than ten bytes"),
])
async def test_malformed_input_is_refused_and_the_connection_closed(
        served: tuple[str, LedgerApp], data: bytes, message: str) -> None:
    got = await _raw(served[0], data)
    frames, rest = split_frames(got)
    assert rest == b"" and len(frames) == 1
    res = pb.Response.FromString(frames[0])
    assert res.WhichOneof("value") == "exception" and message in res.exception.error
    # the server still serves others
    c = await AbciClient.connect(served[0])
    assert (await c.call(pb.Request(echo=pb.RequestEcho(message="x")))).echo.message == "x"
    await c.close()


def test_framing_round_trips_and_splits() -> None:
    msgs = [b"", b"a", b"b" * 200, b"c" * 70_000]
    data = b"".join(frame(m) for m in msgs)
    assert split_frames(data) == (msgs, b"")
    for cut in (1, 3, len(data) - 1):
        got, rest = split_frames(data[:cut])
        assert b"".join(frame(m) for m in got) + rest == data[:cut]
    assert uvarint(300) == b"\xac\x02"  # unsigned, not zigzag (v0.34's form would be \xd8\x04)


@pytest.mark.parametrize("bad", ["127.0.0.1:26658", "tcp://127.0.0.1", "tcp://:1",
                                 "unix://", "http://x:1", "tcp://h:99999"])
def test_listen_addresses_are_checked(bad: str) -> None:
    with pytest.raises(LedgerError, match="write tcp://HOST:PORT or unix://PATH"):
        parse_listen(bad)


def test_a_time_crosses_as_milliseconds() -> None:
    ts = convert.timestamp(T0)
    assert (ts.seconds, ts.nanos) == (T0 // 1000, 123_000_000) and convert.ms(ts) == T0
    req = abci.RequestFinalizeBlock((), b"", 1, T0, b"")
    assert req.time == convert.ms(ts)
