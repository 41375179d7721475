"""Peer manager: dial persistent peers, accept inbound, keep one connection per peer, score.

Integration points (core, ``ledger/node.py``)::

    pm = PeerManager(NodeKey.load_or_generate(dir / "node_key.json"), handler,
                     port=26656, persistent_peers=[PeerAddress.parse("id@127.0.0.1:26657")],
                     network=chain_id.encode())
    await pm.start(); pm.broadcast(CH_CONSENSUS, msg); pm.send(peer_id, ch, msg)
    pm.penalize(peer_id, "invalid vote", 50)   # after a message fails validation
    await pm.stop()

* ``handler(peer_id, channel, payload)`` is called synchronously on the event loop for every
  message (channels 1..255, payload bytes). It must be quick; if it raises, the peer is
  penalized (``handler_error_weight``) and the node goes on.
* ``on_connect(peer_id)`` / ``on_disconnect(peer_id)`` let reactors (re)send their state.
* Duplicate connections (both ends dialing at once, or a reconnect) are resolved the same way
  on both ends: keep the one dialed by the node with the smaller id; between two of the same
  direction keep the newer.
* A peer's score starts at 0; each penalty subtracts its weight and the score recovers by
  ``score_recovery`` per second. At ``ban_threshold`` the peer is disconnected and banned for
  ``ban_seconds`` (its inbound connections refused, no dialing).
  Bad frames (oversized, truncated, failing authentication) penalize automatically.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ledger.p2p.handshake import HandshakeError, NodeKey, handshake
from ledger.p2p.transport import Connection, FrameError, Handler

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeerAddress:
    node_id: str
    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> PeerAddress:
        """``<node id>@<host>:<port>``, as in CometBFT's persistent_peers."""
        try:
            nid, hostport = text.strip().split("@", 1)
            host, port = hostport.rsplit(":", 1)
            addr = cls(nid.lower(), host.strip("[]"), int(port))
        except ValueError as exc:
            raise ValueError(f"invalid peer address {text!r} (want id@host:port)") from exc
        if len(addr.node_id) != 40 or any(c not in "0123456789abcdef" for c in addr.node_id):
            raise ValueError(f"invalid node id in {text!r}")
        return addr

    def __str__(self) -> str:
        return f"{self.node_id}@{self.host}:{self.port}"


class PeerManager:
    def __init__(
        self,
        key: NodeKey,
        handler: Handler,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        persistent_peers: Iterable[PeerAddress] = (),
        network: bytes = b"",
        allowed_ids: Iterable[str] | None = None,
        max_frame: int = 8 << 20,
        max_inbound: int = 64,
        ban_threshold: int = -100,
        ban_seconds: float = 60.0,
        score_recovery: float = 1.0,
        handler_error_weight: int = 10,
        ping_interval: float = 5.0,
        idle_timeout: float = 20.0,
        handshake_timeout: float = 5.0,
        dial_backoff: tuple[float, float] = (0.1, 5.0),
        on_connect: Callable[[str], None] | None = None,
        on_disconnect: Callable[[str], None] | None = None,
        bulk_channels: Iterable[int] = (),
    ) -> None:
        self.key = key
        self.id = key.id
        self.handler = handler
        self.host = host
        self.port = port
        self.persistent = {p.node_id: p for p in persistent_peers if p.node_id != key.id}
        self.network = network
        self.allowed = None if allowed_ids is None else set(allowed_ids)
        self.max_frame = max_frame
        self.max_inbound = max_inbound
        self.ban_threshold = ban_threshold
        self.ban_seconds = ban_seconds
        self.score_recovery = score_recovery
        self.handler_error_weight = handler_error_weight
        self.ping_interval = ping_interval
        self.idle_timeout = idle_timeout
        self.handshake_timeout = handshake_timeout
        self.dial_backoff = dial_backoff
        self.on_connect = on_connect
        self.on_disconnect = on_disconnect
        self.bulk_channels = frozenset(bulk_channels)  # best-effort, after all other frames
        self.stats = {"handshake_failed": 0, "frame_errors": 0, "duplicates": 0, "bans": 0}
        self._conns: dict[str, Connection] = {}
        self._scores: dict[str, tuple[float, float]] = {}  # id -> (score, when)
        self._bans: dict[str, float] = {}
        self._changed: dict[str, asyncio.Event] = {}
        self._inbound = 0
        self._pending_writers: set[asyncio.StreamWriter] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._server: asyncio.Server | None = None
        self._running = False

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        self._running = True
        self._server = await asyncio.start_server(self._on_inbound, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        for addr in self.persistent.values():
            self._tasks.append(asyncio.create_task(self._dial_loop(addr)))
        self._tasks.append(asyncio.create_task(self._keepalive_loop()))

    def add_persistent_peer(self, addr: PeerAddress) -> None:
        """Dial (and keep redialing) ``addr``; usable before or after ``start``."""
        if addr.node_id in self.persistent or addr.node_id == self.id:
            return
        self.persistent[addr.node_id] = addr
        if self._running:
            self._tasks.append(asyncio.create_task(self._dial_loop(addr)))

    async def stop(self) -> None:
        self._running = False
        if self._server is not None:
            self._server.close()
        for t in self._tasks:
            t.cancel()
        for w in list(self._pending_writers):
            w.close()
        for conn in list(self._conns.values()):
            conn.close("shutting down")
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self._server is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)

    @property
    def address(self) -> PeerAddress:
        return PeerAddress(self.id, self.host, self.port)

    # -- public API ----------------------------------------------------------------------

    def peers(self) -> list[str]:
        return sorted(self._conns)

    def is_connected(self, peer_id: str) -> bool:
        return peer_id in self._conns

    def send(self, peer_id: str, channel: int, payload: bytes) -> bool:
        conn = self._conns.get(peer_id)
        return conn is not None and conn.send(channel, payload)

    def broadcast(self, channel: int, payload: bytes, exclude: str | None = None) -> int:
        """Send to every connected peer (but ``exclude``); returns how many were queued."""
        n = 0
        for pid, conn in list(self._conns.items()):
            if pid != exclude and conn.send(channel, payload):
                n += 1
        return n

    def score(self, peer_id: str) -> int:
        return int(self._score(peer_id))

    def _score(self, peer_id: str) -> float:
        # Scores drift back to 0 so that rare honest faults (a crash mid-frame) never add up.
        found = self._scores.get(peer_id)
        if found is None:
            return 0.0
        score, when = found
        now = asyncio.get_running_loop().time()
        return min(0.0, score + (now - when) * self.score_recovery)

    def is_banned(self, peer_id: str) -> bool:
        until = self._bans.get(peer_id)
        if until is None:
            return False
        if asyncio.get_running_loop().time() >= until:
            del self._bans[peer_id]
            return False
        return True

    def penalize(self, peer_id: str, reason: str, weight: int = 10) -> None:
        """Record misbehaviour; disconnect and ban once the score reaches the threshold."""
        score = self._score(peer_id) - max(0, weight)
        log.info("peer %s penalized by %d (%s): score %.0f", peer_id, weight, reason, score)
        if score > self.ban_threshold:
            self._scores[peer_id] = (score, asyncio.get_running_loop().time())
            return
        self._scores.pop(peer_id, None)  # a served ban wipes the slate
        self._bans[peer_id] = asyncio.get_running_loop().time() + self.ban_seconds
        self.stats["bans"] += 1
        log.warning("peer %s banned for %.0fs: %s", peer_id, self.ban_seconds, reason)
        conn = self._conns.get(peer_id)
        if conn is not None:
            conn.close(f"banned: {reason}")

    # -- connections ---------------------------------------------------------------------

    async def _on_inbound(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self._running or self._inbound >= self.max_inbound:
            writer.close()
            return
        self._inbound += 1
        self._pending_writers.add(writer)
        try:
            try:
                session = await handshake(
                    reader,
                    writer,
                    self.key,
                    initiator=False,
                    network=self.network,
                    timeout=self.handshake_timeout,
                )
            except HandshakeError as exc:
                self.stats["handshake_failed"] += 1
                log.info(
                    "inbound handshake from %s refused: %s", writer.get_extra_info("peername"), exc
                )
                writer.close()
                return
            finally:
                self._pending_writers.discard(writer)
            pid = session.peer_id
            if self.is_banned(pid) or (self.allowed is not None and pid not in self.allowed):
                log.info("inbound peer %s refused (banned or not allowed)", pid)
                writer.close()
                return
            conn = Connection(
                reader, writer, session, self.handler, outbound=False, max_frame=self.max_frame,
                bulk_channels=self.bulk_channels
            )
            await self._serve(conn)
        finally:
            self._inbound -= 1

    async def _serve(self, conn: Connection) -> None:
        """Register ``conn`` (resolving duplicates), pump it until it ends, unregister."""
        if not self._running:
            conn.close("shutting down")
            return
        pid = conn.peer_id
        existing = self._conns.get(pid)
        if existing is not None:
            self.stats["duplicates"] += 1
            if self._prefer(existing) and not self._prefer(conn):
                conn.close("duplicate connection")
                existing.ping()  # if the kept one is dead, find out now
                return
            existing.close("replaced by a newer connection")
            self._lost(pid, existing)
        conn.on_handler_error = self._handler_failed
        self._conns[pid] = conn
        self._notify(pid)
        if self.on_connect is not None:
            self.on_connect(pid)
        try:
            await conn.run()
        except FrameError as exc:
            self.stats["frame_errors"] += 1
            self.stats[f"frame_{exc.kind}"] = self.stats.get(f"frame_{exc.kind}", 0) + 1
            log.info("peer %s sent a bad frame: %s", pid, exc)
            conn.close(f"bad frame: {exc.kind}")
            self.penalize(pid, f"frame {exc.kind}", exc.weight)
        finally:
            conn.close(conn.close_reason or "connection ended")
            if self._conns.get(pid) is conn:
                del self._conns[pid]
                self._lost(pid, conn)

    def _prefer(self, conn: Connection) -> bool:
        """Both ends agree: the preferred connection was dialed by the smaller node id."""
        return conn.outbound == (self.id < conn.peer_id)

    def _lost(self, pid: str, conn: Connection) -> None:
        self._notify(pid)
        if self.on_disconnect is not None:
            self.on_disconnect(pid)

    def _notify(self, pid: str) -> None:
        ev = self._changed.get(pid)
        if ev is not None:
            ev.set()

    def _handler_failed(self, conn: Connection, exc: Exception) -> None:
        log.warning("handler failed on a message from %s: %r", conn.peer_id, exc)
        self.penalize(
            conn.peer_id, f"handler error: {type(exc).__name__}", self.handler_error_weight
        )

    async def _dial_loop(self, addr: PeerAddress) -> None:
        low, high = self.dial_backoff
        delay = low
        changed = self._changed.setdefault(addr.node_id, asyncio.Event())
        while self._running:
            if addr.node_id in self._conns:
                changed.clear()
                await changed.wait()
                continue
            if self.is_banned(addr.node_id):
                await asyncio.sleep(self._bans[addr.node_id] - asyncio.get_running_loop().time())
                continue
            opened: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
            try:
                opened = await asyncio.wait_for(
                    asyncio.open_connection(addr.host, addr.port), self.handshake_timeout
                )
                reader, writer = opened
                session = await handshake(
                    reader,
                    writer,
                    self.key,
                    initiator=True,
                    network=self.network,
                    expected_id=addr.node_id,
                    timeout=self.handshake_timeout,
                )
            except (OSError, TimeoutError, HandshakeError) as exc:
                if isinstance(exc, HandshakeError):
                    self.stats["handshake_failed"] += 1
                log.debug("dial %s failed: %s", addr, exc)
                if opened is not None:
                    opened[1].close()
                await asyncio.sleep(delay * random.uniform(0.5, 1.5))
                delay = min(high, delay * 2)
                continue
            delay = low
            conn = Connection(
                reader, writer, session, self.handler, outbound=True, max_frame=self.max_frame,
                bulk_channels=self.bulk_channels
            )
            await self._serve(conn)
            if not conn.close_reason.startswith("duplicate"):
                await asyncio.sleep(low * random.uniform(0.5, 1.5))  # no hot redial loop

    async def _keepalive_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.ping_interval)
            now = loop.time()
            for conn in list(self._conns.values()):
                if now - conn.last_recv > self.idle_timeout:
                    conn.close("idle timeout")
                else:
                    conn.ping()
