"""A validator process: the sans-IO replica wired to the real world. Sqlite stores, the
fsyncing WAL and private validator, the mempool, authenticated p2p and the RPC come from their
modules; this file adapts them to `consensus.ports`, turns replica actions into sends and
event-loop timers, and serves `rpc.NodeApi`.

On start the replica replays stored blocks into the (in-memory) application, then the WAL of
the unfinished height; the private validator's persisted last-signed state guarantees that
nothing replayed is signed differently.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from . import crypto, privval, rpc, store, wal
from .abci import ExecTxResult
from .application import open_application
from .blocksigs import BlockSignatures
from .consensus import views
from .consensus.execution import ChainState
from .consensus.messages import Message, TxMsg, decode_msg, encode_msg
from .consensus.replica import Committed, Penalize, Replica, Send, SetTimer, Timer
from .consensus.timeouts import TimeoutConfig
from .encoding import decode, encode
from .errors import DecodeError, InvalidError, LedgerError, Reason
from .ingest import BUSY, Ingest
from .mempool import FULL, AddResult, Mempool, tx_hash
from .node_api import RpcApi
from .p2p import NodeKey, PeerAddress, PeerManager
from .types import PRECOMMIT, PREVOTE, Block, Commit, Genesis, Proposal, ValidatorSet, Vote

log = logging.getLogger("ledger.node")
CH_CONSENSUS = 0x20
CH_MEMPOOL = 0x30
PENALTY = {"decode": 25, "invalid": 20}
# A few blocks' worth: beyond it clients are told "busy" rather than wait many blocks.
MEMPOOL_TXS = 8000


# ---------------------------------------------------------------------- node folder


# Loopback validators exchange messages in milliseconds: keep rounds short.
LOOPBACK_TIMEOUTS = TimeoutConfig(propose=1000, propose_delta=500, prevote=500,
                                  prevote_delta=250, precommit=500, precommit_delta=250,
                                  commit=200)


@dataclass
class NodeConfig:
    moniker: str = "node"
    p2p_host: str = "127.0.0.1"
    p2p_port: int = 26656
    rpc_host: str = "127.0.0.1"
    rpc_port: int = 26657
    peers: list[str] = field(default_factory=list)  # id@host:port
    timeouts: dict[str, int] = field(default_factory=lambda: asdict(LOOPBACK_TIMEOUTS))
    block_tx_bytes: int = 256 * 1024  # transactions per proposal, in bytes
    application: str = "ledger"  # or "kvstore", the engine tests' application
    app_versions_kept: int = 100_000  # past states kept for queries at a height (0: all)

    @classmethod
    def load(cls, home: Path) -> NodeConfig:
        path = home / "ledger.json"
        try:
            doc = json.loads(path.read_text())
            return cls(**doc)
        except FileNotFoundError as e:
            raise LedgerError(f"{home} is not a ledger node folder (no ledger.json): run "
                              f"`communs ledger init` first", Reason.CONFIG) from e
        except (ValueError, TypeError) as e:
            raise LedgerError(f"{path} is malformed: {e}", Reason.CONFIG) from e

    def save(self, home: Path) -> None:
        (home / "ledger.json").write_text(json.dumps(asdict(self), indent=2) + "\n")

    @property
    def rpc_url(self) -> str:
        return f"http://{self.rpc_host}:{self.rpc_port}"


def load_genesis(home: Path) -> Genesis:
    try:
        return views.genesis_from_json(json.loads((home / "genesis.json").read_text()))
    except FileNotFoundError as e:
        raise LedgerError(f"{home} has no genesis.json", Reason.CONFIG) from e
    except ValueError as e:
        raise LedgerError(f"{home}/genesis.json is malformed: {e}", Reason.CONFIG) from e


def key_path(home: Path) -> Path:
    return home / "priv_validator_key.json"


def pv_state_path(home: Path) -> Path:
    return home / "data" / "priv_validator_state.json"


# ------------------------------------------------------------------------- adapters


def _without_time(sign_bytes: bytes) -> Any:
    d = decode(sign_bytes)
    d.pop("time", None)
    return d


class PVSigner:
    """`core.Signer` over the file private validator: persisted before any signature leaves.
    A vote that differs only by its timestamp from the last one gets the old signature back
    (CometBFT's rule), with the old timestamp so the signature matches."""

    def __init__(self, pv: privval.FilePV, chain_id: str) -> None:
        self.pv, self.chain_id = pv, chain_id

    def _sign(self, height: int, round_: int, step: int, sb: bytes) -> tuple[bytes, int] | None:
        try:
            sig = self.pv.sign(height, round_, step, sb)
        except privval.DoubleSignError as e:
            log.warning("refused to sign: %s", e)
            return None
        signed = self.pv.last_state.sign_bytes or sb
        return sig, decode(signed)["time"]

    def sign_vote(self, vote: Vote) -> Vote | None:
        step = privval.Step.PREVOTE if vote.type == PREVOTE else privval.Step.PRECOMMIT
        assert vote.type in (PREVOTE, PRECOMMIT)
        r = self._sign(vote.height, vote.round, step, vote.sign_bytes(self.chain_id))
        return None if r is None else replace(vote, signature=r[0], timestamp=r[1])

    def sign_proposal(self, p: Proposal) -> Proposal | None:
        r = self._sign(p.height, p.round, privval.Step.PROPOSE, p.sign_bytes(self.chain_id))
        return None if r is None else replace(p, signature=r[0], timestamp=r[1])


class SqlBlocks:
    def __init__(self, path: Path, durable: bool = True) -> None:
        self.db = store.BlockStore(path, durable)
        self._cache: dict[int, tuple[Block, Commit]] = {}

    def height(self) -> int:
        return self.db.height

    def save(self, block: Block, seen_commit: Commit) -> None:
        self.db.save_block(block.height, block.hash(), encode(block.to_obj()),
                           encode(seen_commit.to_obj()), [e.hash() for e in block.evidence])

    def evidence_since(self, height: int) -> list[bytes]:
        return self.db.evidence_since(height)

    def _load(self, height: int) -> tuple[Block, Commit] | None:
        hit = self._cache.get(height)
        if hit is None:
            sb = self.db.load(height)
            if sb is None:
                return None
            hit = (Block.from_obj(decode(sb.block)), Commit.from_obj(decode(sb.commit)))
            if len(self._cache) > 64:
                self._cache.pop(next(iter(self._cache)))
            self._cache[height] = hit
        return hit

    def block(self, height: int) -> Block | None:
        e = self._load(height)
        return None if e is None else e[0]

    def commit(self, height: int) -> Commit | None:
        e = self._load(height)
        return None if e is None else e[1]


class SqlStates:
    def __init__(self, path: Path, durable: bool = True) -> None:
        self.db = store.StateStore(path, durable)

    def load(self) -> ChainState | None:
        raw = self.db.get("state")
        return None if raw is None else ChainState.from_obj(decode(raw))

    def save(self, state: ChainState) -> None:
        h = state.next_height
        self.db.put_many([("state", encode(state.to_obj())),
                          (f"validators/{h:020d}", encode(state.validators.to_obj())),
                          (f"validators/{h + 1:020d}", encode(state.next_validators.to_obj()))])

    def validators(self, height: int) -> ValidatorSet | None:
        raw = self.db.get(f"validators/{height:020d}")
        return None if raw is None else ValidatorSet.from_obj(decode(raw))


class WalAdapter:
    def __init__(self, w: wal.WAL) -> None:
        self.w = w

    def append(self, record: bytes, sync: bool = False) -> None:
        try:
            (self.w.write_sync if sync else self.w.write)(record)
        except wal.WALError as e:  # what cannot be logged must not be acted upon
            raise InvalidError(f"message cannot be logged: {e}") from e

    def sync(self) -> None:
        self.w.sync()

    def end_height(self, height: int) -> None:
        self.w.write_end_height(height)

    def messages_after(self, height: int) -> list[bytes] | None:
        return self.w.messages_after(height)


class MempoolAdapter:
    def __init__(self, mp: Mempool) -> None:
        self.mp = mp

    def add(self, tx: bytes) -> bool:
        return self.mp.add(tx).ok

    def reap(self, max_bytes: int) -> list[bytes]:
        return self.mp.reap(max_bytes)

    def update(self, height: int, committed: Sequence[bytes],
               results: Sequence[ExecTxResult]) -> None:
        self.mp.update(height, committed, results)

    def __len__(self) -> int:
        return len(self.mp)


# ----------------------------------------------------------------------------- node


class Node:
    def __init__(self, home: Path) -> None:
        self.home = home
        self.config = NodeConfig.load(home)
        self.genesis = load_genesis(home)
        (home / "data").mkdir(exist_ok=True)
        self.pv = privval.FilePV(key_path(home), pv_state_path(home),
                                 equivalent=lambda a, b: _without_time(a) == _without_time(b))
        self.address = crypto.address(self.pv.public_key)
        self.app = open_application(home, self.config.application,
                                    self.config.app_versions_kept)
        self.mempool = Mempool(self._check_tx, recheck_tx=self._recheck_tx,
                               max_tx_bytes=self.genesis.params.max_tx_bytes,
                               max_txs=MEMPOOL_TXS)
        self.blocks = SqlBlocks(home / "data" / "blocks.db")
        self.states = SqlStates(home / "data" / "state.db")
        self.wal = wal.WAL(home / "data" / "wal")
        self.replica = Replica(self.genesis, self.app, self.address,
                               PVSigner(self.pv, self.genesis.chain_id), self.blocks,
                               self.states, WalAdapter(self.wal), MempoolAdapter(self.mempool),
                               lambda: int(time.time() * 1000),
                               TimeoutConfig(**self.config.timeouts),
                               gossip_interval=self.config.timeouts["propose"],
                               reap_bytes=self.config.block_tx_bytes)
        self.peers = PeerManager(
            NodeKey.load_or_generate(home / "node_key.json"), self._on_message,
            host=self.config.p2p_host, port=self.config.p2p_port,
            persistent_peers=[PeerAddress.parse(p) for p in self.config.peers],
            network=self.genesis.chain_id.encode(), on_connect=self._on_connect,
            bulk_channels=(CH_MEMPOOL,))
        # Transactions wait in a bounded queue and are checked in short slices, so that
        # proposals and votes never queue behind a flood of them.
        self.ingest = Ingest(self._admit, signatures=getattr(self.app, "signatures", None),
                             room=lambda: self.mempool.max_txs - len(self.mempool))
        self.block_sigs = BlockSignatures(getattr(self.app, "signatures", None), self._seen,
                                          self._consensus)
        self.api = RpcApi(self)
        self.rpc = rpc.RpcServer(self.api, self.config.rpc_host, self.config.rpc_port)
        self._timers: set[asyncio.TimerHandle] = set()
        self._tx_batch: list[bytes] = []
        self._stopping = False

    def _check_tx(self, tx: bytes) -> tuple[bool, str]:
        r = self.app.check_tx(tx)
        return r.ok, r.log

    def _recheck_tx(self, tx: bytes) -> tuple[bool, str]:
        r = self.app.check_tx(tx, True)
        return r.ok, r.log

    async def start(self) -> None:
        self.replica.on_replayed = self.api.replayed
        self._perform(self.replica.start())
        self.api.check_index()
        self.ingest.start()
        await self.peers.start()
        await self.rpc.start()
        log.info("node %s at height %d: p2p %s, rpc %s", self.config.moniker,
                 self.replica.height, self.config.p2p_port, self.rpc.url)

    async def stop(self) -> None:
        self._stopping = True
        for t in self._timers:
            t.cancel()
        self.api.close()
        await self.rpc.stop()
        await self.peers.stop()
        await self.ingest.stop()
        await self.block_sigs.stop()
        self.wal.close()

    # ------------------------------------------------------------ replica I/O

    def _on_connect(self, peer: str) -> None:
        self.peers.send(peer, CH_CONSENSUS, self.replica.hello())

    def _on_message(self, peer: str, channel: int, payload: bytes) -> None:
        if self._stopping:
            return
        if channel == CH_MEMPOOL:
            self._on_txs(peer, payload)
        elif not self.block_sigs.offer(peer, payload):
            self._perform(self.replica.on_message(peer, payload))

    def _consensus(self, peer: str, msg: Message, payload: bytes) -> None:
        """A block held for its signatures' check, now for the replica."""
        if not self._stopping:
            self._perform(self.replica.on_decoded(peer, msg, payload))

    def _seen(self, tx: bytes) -> bool:
        """Its signature was checked here: in the mempool, or recently committed."""
        h = tx_hash(tx)
        return h in self.mempool or self.mempool.committed(h) is not None

    def _on_txs(self, peer: str, payload: bytes) -> None:
        """Gossiped transactions go to the ingestion queue; beyond its bound they are dropped
        (the peer did nothing wrong: its own client's transaction stays in its mempool)."""
        try:
            msg = decode_msg(payload)
        except DecodeError as e:
            self.peers.penalize(peer, f"decode: {e}", PENALTY["decode"])
            return
        if not isinstance(msg, TxMsg):
            self.peers.penalize(peer, "decode: not a transaction batch", PENALTY["decode"])
            return
        for tx in msg.txs:
            if not self._seen(tx):  # a late copy of a committed one is not checked again
                self.ingest.offer(tx, peer)

    def _fire(self, handle_box: list[asyncio.TimerHandle], timer: Timer) -> None:
        self._timers.discard(handle_box[0])
        if not self._stopping:
            self._perform(self.replica.on_timer(timer))

    def _perform(self, actions: list[Any]) -> None:
        loop = asyncio.get_event_loop()
        for a in actions:
            if isinstance(a, Send):
                ch = CH_MEMPOOL if a.data.startswith(b"d\x02s\x01ts\x02tx") else CH_CONSENSUS
                if a.peer is None:
                    self.peers.broadcast(ch, a.data)
                else:
                    self.peers.send(a.peer, ch, a.data)
            elif isinstance(a, SetTimer):
                box: list[asyncio.TimerHandle] = []
                box.append(loop.call_later(a.delay / 1000, self._fire, box, a.timer))
                self._timers.add(box[0])
            elif isinstance(a, Penalize):
                weight = PENALTY["decode"] if "decode" in a.reason else PENALTY["invalid"]
                self.peers.penalize(a.peer, a.reason, weight)
            elif isinstance(a, Committed):
                b = a.block
                log.info("committed height %d (%d txs, round %d)", b.height, len(b.txs),
                         a.commit.round)
                self.api.committed(a.block, a.commit, a.result)

    def _flush_txs(self) -> None:
        batch, self._tx_batch = self._tx_batch, []
        if batch:
            self.peers.broadcast(CH_MEMPOOL, encode_msg(TxMsg(tuple(batch))))

    # ------------------------------------------------------------ the RPC's side

    def _admit(self, tx: bytes, sender: str | None) -> AddResult:
        """The ingestion worker's step: CheckTx and the mempool; a client's transaction is
        then gossiped in batches (one message per few milliseconds instead of one per tx)."""
        res = self.mempool.add(tx, sender)
        if res.ok and sender is None:
            if not self._tx_batch:
                asyncio.get_event_loop().call_later(0.01, self._flush_txs)
            self._tx_batch.append(tx)
        return res

    def waiting(self) -> int:
        """Transactions accepted or queued but not yet committed."""
        return len(self.ingest) + len(self.mempool)

    def busy_answer(self, h: bytes) -> dict[str, Any]:
        return {"ok": False, "code": BUSY, "hash": h.hex(), "pending": self.waiting(),
                "log": f"the node is busy ({self.waiting()} transactions waiting): "
                       f"retry later"}

    async def submit_tx(self, tx: bytes) -> dict[str, Any]:
        """Queue a client's transaction for CheckTx; its result, or a busy answer at once when
        the ingestion queue or the mempool is full."""
        h = tx_hash(tx)
        fut = self.ingest.offer(tx)
        if fut is None:
            return self.busy_answer(h)
        res = await fut
        if res.code == FULL:
            return self.busy_answer(h)
        return {"ok": res.ok, "code": "ok" if res.ok else "rejected", "hash": h.hex(),
                "log": res.log}

    def ingest_status(self) -> dict[str, int]:
        """For the RPC's status: how much is waiting to be checked and how much was refused."""
        return {"ingest_queue": len(self.ingest), "ingest_capacity": self.ingest.capacity,
                "ingest_busy": self.ingest.stats["busy"],
                "ingest_dropped": self.ingest.stats["dropped"]}


async def run_node(home: Path) -> None:
    """Run until SIGINT/SIGTERM."""
    import signal

    node = Node(home)
    await node.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await node.stop()
