"""p2p over real loopback sockets: handshake, frames, peer manager, penalties."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ledger.p2p import FrameError, HandshakeError, NodeKey, PeerAddress, PeerManager
from ledger.p2p import handshake as hs

NET = b"test-chain"
Msgs = list[tuple[str, int, bytes]]


async def until(cond: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


class Node:
    def __init__(self, key: NodeKey | None = None, **kw: object) -> None:
        self.msgs: Msgs = []
        self.pm = PeerManager(
            key or NodeKey.generate(),
            lambda pid, ch, data: self.msgs.append((pid, ch, data)),
            network=NET,
            dial_backoff=(0.05, 0.3),
            **kw,  # type: ignore[arg-type]
        )


@pytest.fixture
async def nodes() -> AsyncIterator[Callable[..., Node]]:
    made: list[Node] = []

    def make(**kw: Any) -> Node:
        n = Node(**kw)
        made.append(n)
        return n

    yield make
    for n in made:
        await n.pm.stop()


async def raw_session(pm: PeerManager, key: NodeKey | None = None):  # type: ignore[no-untyped-def]
    reader, writer = await asyncio.open_connection("127.0.0.1", pm.port)
    key = key or NodeKey.generate()
    session = await hs.handshake(
        reader, writer, key, initiator=True, network=NET, expected_id=pm.id
    )
    return reader, writer, session, key


async def test_mesh_broadcast_send_and_dedup(nodes: Callable[..., Node]) -> None:
    a, b, c = nodes(), nodes(), nodes()
    for n in (a, b, c):
        await n.pm.start()
    # everybody dials everybody: each pair dials both ways at the same time
    for n in (a, b, c):
        for m in (a, b, c):
            if m is not n:
                n.pm.add_persistent_peer(m.pm.address)
    await until(lambda: all(len(n.pm.peers()) == 2 for n in (a, b, c)))
    await asyncio.sleep(0.3)  # let duplicate resolution settle
    assert all(len(n.pm.peers()) == 2 for n in (a, b, c))
    assert a.pm.broadcast(7, b"hello") == 2
    assert b.pm.send(c.pm.id, 9, b"direct")
    assert not b.pm.send("0" * 40, 9, b"nobody")
    await until(lambda: len(b.msgs) == 1 and len(c.msgs) == 2)
    assert b.msgs == [(a.pm.id, 7, b"hello")]
    assert sorted(c.msgs) == sorted([(a.pm.id, 7, b"hello"), (b.pm.id, 9, b"direct")])


async def test_reconnect_after_restart(nodes: Callable[..., Node]) -> None:
    a, b = nodes(), nodes()
    await b.pm.start()
    a.pm.persistent[b.pm.id] = b.pm.address
    await a.pm.start()
    await until(lambda: a.pm.is_connected(b.pm.id))
    port = b.pm.port
    await b.pm.stop()
    await until(lambda: not a.pm.is_connected(b.pm.id))
    b2 = nodes(key=b.pm.key, port=port)
    await b2.pm.start()
    await until(lambda: a.pm.is_connected(b.pm.id))
    a.pm.send(b.pm.id, 1, b"again")
    await until(lambda: b2.msgs == [(a.pm.id, 1, b"again")])


async def test_unexpected_id_and_wrong_network_refused(nodes: Callable[..., Node]) -> None:
    b = nodes()
    await b.pm.start()
    impostor_id = NodeKey.generate().id
    a = nodes(persistent_peers=[PeerAddress(impostor_id, "127.0.0.1", b.pm.port)])
    await a.pm.start()
    await until(lambda: a.pm.stats["handshake_failed"] >= 1)
    assert a.pm.peers() == [] and b.pm.peers() == []
    reader, writer = await asyncio.open_connection("127.0.0.1", b.pm.port)
    with pytest.raises(HandshakeError, match="authentication failed"):
        await hs.handshake(reader, writer, NodeKey.generate(), initiator=True, network=b"other")
    writer.close()
    reader, writer = await asyncio.open_connection("127.0.0.1", b.pm.port)
    with pytest.raises(HandshakeError, match="unexpected peer id"):
        await hs.handshake(
            reader, writer, NodeKey.generate(), initiator=True, network=NET, expected_id=impostor_id
        )
    writer.close()


async def test_garbage_and_forged_handshakes_do_not_crash(nodes: Callable[..., Node]) -> None:
    b = nodes(handshake_timeout=0.5)
    await b.pm.start()
    # 1. garbage bytes instead of a hello
    reader, writer = await asyncio.open_connection("127.0.0.1", b.pm.port)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" + bytes(100))
    assert len(await asyncio.wait_for(reader.read(), 2)) == hs.HELLO_SIZE  # b's hello, then EOF
    # 2. a silent client is cut off by the handshake timeout
    reader, writer = await asyncio.open_connection("127.0.0.1", b.pm.port)
    assert len(await asyncio.wait_for(reader.read(), 2)) == hs.HELLO_SIZE
    # 3. claiming a victim's public key with a signature made by another key
    victim, attacker = NodeKey.generate(), NodeKey.generate()
    reader, writer = await asyncio.open_connection("127.0.0.1", b.pm.port)
    eph = X25519PrivateKey.generate()
    eph_pub = eph.public_key().public_bytes_raw()
    writer.write(hs.MAGIC + eph_pub)
    hello = await reader.readexactly(hs.HELLO_SIZE)
    peer_eph = hello[len(hs.MAGIC) :]
    transcript = hs._transcript(NET, eph_pub, peer_eph)
    shared = eph.exchange(X25519PublicKey.from_public_bytes(peer_eph))
    okm = HKDF(hashes.SHA256(), 64, salt=transcript, info=hs.DOMAIN + b"/keys").derive(shared)
    forged = victim.public_key + attacker.sign(hs.DOMAIN_AUTH + b"I" + transcript)
    writer.write(ChaCha20Poly1305(okm[:32]).encrypt(bytes(12), forged, b"auth"))
    await reader.readexactly(hs.AUTH_SIZE)  # b's own auth arrives, then it hangs up
    assert await asyncio.wait_for(reader.read(), 2) == b""
    # 4. a low-order (all zero) ephemeral key
    reader, writer = await asyncio.open_connection("127.0.0.1", b.pm.port)
    writer.write(hs.MAGIC + bytes(32))
    await reader.readexactly(hs.HELLO_SIZE)
    assert await asyncio.wait_for(reader.read(), 2) == b""
    await until(lambda: b.pm.stats["handshake_failed"] == 4)
    assert b.pm.peers() == []
    # the node still serves honest peers
    _, w, session, key = await raw_session(b.pm)
    await until(lambda: b.pm.is_connected(key.id))
    w.close()


@pytest.mark.parametrize(
    "attack, reason",
    [
        ("oversized", "oversized"),
        ("truncated", "truncated"),
        ("bad_mac", "bad_mac"),
        ("too_short", "malformed"),
    ],
)
async def test_bad_frames_penalize_and_drop(
    nodes: Callable[..., Node], attack: str, reason: str
) -> None:
    b = nodes(max_frame=1024, score_recovery=0.0)
    await b.pm.start()
    reader, writer, session, key = await raw_session(b.pm)
    await until(lambda: b.pm.is_connected(key.id))
    # one good frame first
    body = session.seal(b"\x05ok", (3 + 16).to_bytes(4, "big"))
    writer.write((3 + 16).to_bytes(4, "big") + body)
    await until(lambda: b.msgs == [(key.id, 5, b"ok")])
    if attack == "oversized":
        writer.write((1 << 30).to_bytes(4, "big"))  # b must not try to buffer 1 GiB
    elif attack == "truncated":
        writer.write((100).to_bytes(4, "big") + b"partial")
        await writer.drain()
        writer.close()
    elif attack == "bad_mac":
        writer.write((40).to_bytes(4, "big") + bytes(40))
    else:
        writer.write((3).to_bytes(4, "big") + b"abc")
    await until(lambda: not b.pm.is_connected(key.id))
    assert b.pm.score(key.id) == -FrameError.WEIGHTS[reason]
    assert b.pm.stats["frame_errors"] == b.pm.stats[f"frame_{reason}"] == 1
    assert b.pm.peers() == []


async def test_penalize_bans_and_handler_errors(nodes: Callable[..., Node]) -> None:
    def handler(pid: str, ch: int, data: bytes) -> None:
        if data == b"boom":
            raise ValueError("cannot decode")
        got.append(data)

    got: list[bytes] = []
    b = nodes(ban_seconds=0.5, score_recovery=0.0)
    b.pm.handler = handler
    await b.pm.start()
    reader, writer, session, key = await raw_session(b.pm)
    await until(lambda: b.pm.is_connected(key.id))

    def frame(payload: bytes) -> bytes:
        header = (len(payload) + 16).to_bytes(4, "big")
        return header + session.seal(payload, header)

    writer.write(frame(b"\x01boom") + frame(b"\x01fine"))
    await until(lambda: got == [b"fine"])
    assert b.pm.score(key.id) == -10 and b.pm.is_connected(key.id)
    b.pm.penalize(key.id, "invalid vote", 95)
    await until(lambda: not b.pm.is_connected(key.id))
    assert b.pm.is_banned(key.id) and b.pm.stats["bans"] == 1
    # banned: its reconnection is refused after the handshake
    r2, w2, _, _ = await raw_session(b.pm, key)
    assert await asyncio.wait_for(r2.read(), 2) == b""
    await asyncio.sleep(0.6)  # ban served
    _, w3, _, _ = await raw_session(b.pm, key)
    await until(lambda: b.pm.is_connected(key.id))
    assert b.pm.score(key.id) == 0
    w3.close()


async def test_throughput_small_messages(nodes: Callable[..., Node]) -> None:
    a, b = nodes(), nodes()
    await b.pm.start()
    a.pm.persistent[b.pm.id] = b.pm.address
    await a.pm.start()
    await until(lambda: a.pm.is_connected(b.pm.id))
    n, payload = 20_000, b"x" * 200
    t0 = time.perf_counter()
    for i in range(n):
        a.pm.send(b.pm.id, 3, payload)
        if i % 1000 == 999:
            await asyncio.sleep(0)
    await until(lambda: len(b.msgs) == n, timeout=20)
    rate = n / (time.perf_counter() - t0)
    print(f"p2p: {rate:,.0f} msgs/s of 200 bytes (encrypt + send + decrypt + deliver)")
    assert rate > 5_000
    big = bytes(range(256)) * (4 << 12)  # 4 MiB, reassembled from many reads
    a.pm.send(b.pm.id, 4, big)
    await until(lambda: len(b.msgs) == n + 1)
    assert b.msgs[-1] == (a.pm.id, 4, big)
    with pytest.raises(ValueError):
        a.pm.send(b.pm.id, 4, bytes(9 << 20))  # over the 8 MiB frame limit: caller's bug


async def test_keepalive_and_idle_timeout(nodes: Callable[..., Node]) -> None:
    fast = {"ping_interval": 0.1, "idle_timeout": 0.35}
    a, b = nodes(**fast), nodes(**fast)
    await b.pm.start()
    a.pm.add_persistent_peer(b.pm.address)
    await a.pm.start()
    await until(lambda: a.pm.is_connected(b.pm.id))
    _, writer, _, mute = await raw_session(b.pm)  # authenticates, then never speaks
    await until(lambda: b.pm.is_connected(mute.id))
    await asyncio.sleep(1.0)
    assert b.pm.peers() == [a.pm.id]  # pings kept a-b alive; the mute peer was dropped
    writer.close()


def test_peer_address_parsing() -> None:
    nid = NodeKey.generate().id
    addr = PeerAddress.parse(f"{nid.upper()}@127.0.0.1:26656")
    assert addr == PeerAddress(nid, "127.0.0.1", 26656) and str(addr) == f"{nid}@127.0.0.1:26656"
    assert PeerAddress.parse(f"{nid}@[::1]:1").host == "::1"
    for bad in ["", "nohost", f"{nid}@host", f"{nid}@host:port", "abc@127.0.0.1:1"]:
        with pytest.raises(ValueError):
            PeerAddress.parse(bad)


async def test_consensus_frames_overtake_a_backlog_of_bulk_gossip(
    nodes: Callable[..., Node],
) -> None:
    a, b = nodes(bulk_channels=(30,)), nodes()
    await b.pm.start()
    await a.pm.start()
    a.pm.add_persistent_peer(b.pm.address)
    await until(lambda: a.pm.is_connected(b.pm.id) and b.pm.is_connected(a.pm.id))
    blob = b"x" * (200 << 10)
    sent = sum(a.pm.send(b.pm.id, 30, blob) for _ in range(40))  # 8 MiB of tx gossip ...
    assert a.pm.send(b.pm.id, 0x20, b"vote")  # ... then one consensus message
    assert sent < 40  # the bulk backlog is bounded: the excess was dropped, not queued
    await until(lambda: any(ch == 0x20 for _, ch, _ in b.msgs))
    order = [ch for _, ch, _ in b.msgs]
    assert order.index(0x20) <= 2, order  # at most what was already on the wire went first
    await until(lambda: len(b.msgs) == sent + 1)
