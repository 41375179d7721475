"""The simulated world: N replicas on a seeded, faulty network with simulated time.

Everything random comes from one `random.Random(seed)`, events are ordered by (time, sequence
number), so a seed replays exactly. Before `heal_at` the network drops, duplicates, delays
(hence reorders) and partitions messages and nodes crash and restart; from `heal_at` on it is
timely and reliable, so liveness can be checked.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from ..abci import Application
from ..consensus.messages import ProposalMsg, VoteMsg, decode_msg, encode_msg
from ..consensus.replica import Committed, Penalize, Replica, Send, SetTimer, choose
from ..consensus.timeouts import TimeoutConfig
from ..crypto import PrivateKey
from ..kvstore import KVStore
from ..types import Genesis
from . import byzantine as byz
from .memory import MemBlockStore, MemMempool, MemPrivVal, MemStateStore, MemWAL


@dataclass
class Faults:
    drop: float = 0.0
    duplicate: float = 0.0
    delay: tuple[int, int] = (1, 30)  # ms, uniform: different delays reorder messages
    partitions: list[tuple[int, int, list[set[int]]]] = field(default_factory=list)
    crashes: list[tuple[int, int, int | None]] = field(default_factory=list)  # node, at, back
    heal_at: int = 0
    # Links that never carry anything, healed or not (a topology, e.g. a proposer that can
    # reach only one validator directly): pairs of node indexes, both directions.
    cut_links: list[tuple[int, int]] = field(default_factory=list)


AppFactory = Callable[[int], Application]  # node index -> a fresh application
# (count of transactions so far, the world's seeded randomness) -> a transaction, or None
TxFactory = Callable[[int, random.Random], bytes | None]


def kv_tx(k: int, rng: random.Random) -> bytes:
    """The default load: kvstore writes over 50 keys, one in ten invalid."""
    return f"k{k % 50}=v{k}".encode() if k % 10 else b"\xff bad tx"


@dataclass
class SimNode:
    index: int
    name: str
    key: PrivateKey
    behaviour: str | None  # None: honest
    blocks: MemBlockStore = field(default_factory=MemBlockStore)
    states: MemStateStore = field(default_factory=MemStateStore)
    wal: MemWAL = field(default_factory=MemWAL)
    privval: MemPrivVal | None = None
    replica: Replica | None = None
    epoch: int = 0
    commit_times: dict[int, int] = field(default_factory=dict)
    synced_heights: set[int] = field(default_factory=set)  # committed by block sync


class World:
    def __init__(self, n: int, seed: int, byzantine: dict[int, str] | None = None,
                 faults: Faults | None = None, timeouts: TimeoutConfig | None = None,
                 tx_interval: int = 50, powers: list[int] | None = None,
                 relay_fanout: int | None = None, app_factory: AppFactory | None = None,
                 tx_factory: TxFactory = kv_tx) -> None:
        self.rng = random.Random(seed)
        self.app_factory: AppFactory = app_factory or (lambda i: KVStore())
        self.tx_factory = tx_factory
        self.seed = seed
        self.faults = faults or Faults()
        self.timeouts = timeouts or TimeoutConfig.fast()
        self.tx_interval = tx_interval
        self.relay_fanout = relay_fanout
        self.time = 0
        self._seq = 0
        self._queue: list[tuple[int, int, tuple[Any, ...]]] = []
        byzantine = byzantine or {}
        keys = [PrivateKey.from_secret(f"sim-{seed}-{i}".encode()) for i in range(n)]
        powers = powers or [10] * n
        self.genesis = Genesis(f"sim-{seed}", 1_700_000_000_000,
                               tuple((k.pub_key, p) for k, p in zip(keys, powers, strict=True)))
        self.nodes = [SimNode(i, f"n{i}", k, byzantine.get(i)) for i, k in enumerate(keys)]
        self.skew = [self.rng.randint(-50, 50) for _ in range(n)]
        self.messages = 0
        self.sent_votes: dict[tuple[bytes, int, int, int], set[bytes | None]] = {}
        self.equivocated: set[bytes] = set()
        self.penalized: list[tuple[int, str]] = []  # (by honest node, peer name)
        self.txs_submitted = 0
        self.twins: dict[bytes, bytes] = {}  # split-proposal: our block hash -> the twin's
        for node in self.nodes:
            node.privval = MemPrivVal(node.key, self.genesis.chain_id)
            self._push(0, ("start", node.index))
        for idx, at, back in self.faults.crashes:
            self._push(at, ("crash", idx))
            if back is not None:
                self._push(back, ("start", idx))
        if tx_interval:
            self._push(tx_interval, ("tx",))

    # ------------------------------------------------------------- running

    def _push(self, t: int, ev: tuple[Any, ...]) -> None:
        self._seq += 1
        heapq.heappush(self._queue, (t, self._seq, ev))

    def run(self, until: int) -> None:
        while self._queue and self._queue[0][0] <= until:
            t, _, ev = heapq.heappop(self._queue)
            self.time = t
            self._event(ev)
        self.time = until

    def run_until_height(self, height: int, deadline: int) -> bool:
        while self._queue and self._queue[0][0] <= deadline:
            if min(self.heights(honest_only=True)) >= height:
                return True
            t, _, ev = heapq.heappop(self._queue)
            self.time = t
            self._event(ev)
        return min(self.heights(honest_only=True)) >= height

    def heights(self, honest_only: bool = False) -> list[int]:
        return [n.blocks.height() for n in self.nodes
                if not honest_only or n.behaviour is None]

    def honest(self) -> list[SimNode]:
        return [n for n in self.nodes if n.behaviour is None]

    def _event(self, ev: tuple[Any, ...]) -> None:
        kind = ev[0]
        if kind == "deliver":
            _, to, frm, data = ev
            node = self.nodes[to]
            if node.replica is not None and not self._cut(frm, to):
                self._perform(node, node.replica.on_message(self.nodes[frm].name, data))
        elif kind == "timer":
            _, i, epoch, timer = ev
            node = self.nodes[i]
            if node.replica is not None and node.epoch == epoch:
                self._perform(node, node.replica.on_timer(timer))
        elif kind == "start":
            self._start(self.nodes[ev[1]])
        elif kind == "crash":
            node = self.nodes[ev[1]]
            node.replica = None  # volatile state is gone; blocks, state, WAL, privval remain
            node.epoch += 1
        elif kind == "tx":
            self._inject_tx()
            self._push(self.time + self.tx_interval, ("tx",))

    def _start(self, node: SimNode) -> None:
        node.epoch += 1
        clock = (lambda i: lambda: self.genesis.genesis_time + self.time + self.skew[i])(node.index)
        assert node.privval is not None
        node.replica = Replica(self.genesis, self.app_factory(node.index), node.key.address, node.privval,
                               node.blocks, node.states, node.wal, MemMempool(), clock,
                               self.timeouts, self.relay_fanout,
                               gossip_interval=self.timeouts.propose)
        self._perform(node, node.replica.start())

    def submit(self, index: int, tx: bytes) -> bool:
        node = self.nodes[index]
        if node.replica is None:
            return False
        res, actions = node.replica.submit_tx(tx)
        self._perform(node, actions)
        return res.ok

    def _inject_tx(self) -> None:
        live = [n for n in self.honest() if n.replica is not None]
        if not live:
            return
        node = self.rng.choice(live)
        self.txs_submitted += 1
        tx = self.tx_factory(self.txs_submitted, self.rng)
        if tx is None:
            return
        assert node.replica is not None
        _, actions = node.replica.submit_tx(tx)
        self._perform(node, actions)

    # ------------------------------------------------------------- network

    def _cut(self, a: int, b: int) -> bool:
        if (a, b) in self.faults.cut_links or (b, a) in self.faults.cut_links:
            return True
        if self.time >= self.faults.heal_at:
            return False
        for start, end, groups in self.faults.partitions:
            if start <= self.time < end and not any(a in g and b in g for g in groups):
                return True
        return False

    def _perform(self, node: SimNode, actions: list[Any]) -> None:
        for a in actions:
            if isinstance(a, Send):
                self._send(node, a)
            elif isinstance(a, SetTimer):
                self._push(self.time + a.delay, ("timer", node.index, node.epoch, a.timer))
            elif isinstance(a, Penalize):
                if node.behaviour is None:
                    self.penalized.append((node.index, a.peer))
            elif isinstance(a, Committed):
                node.commit_times.setdefault(a.block.height, self.time)
                if a.synced:
                    node.synced_heights.add(a.block.height)

    def _send(self, node: SimNode, a: Send) -> None:
        others = [n.name for n in self.nodes if n is not node]
        targets = [a.peer] if a.peer is not None else choose(self.rng, others, a.fanout)
        if node.behaviour is None:
            self._record(node, a.data)
            for t in targets:
                self._transmit(node.index, int(t[1:]), a.data)
            return
        b = node.behaviour
        if b == byz.SILENT:
            return
        if b == byz.EQUIVOCATE and a.peer is None:
            twin = byz.equivocate(a.data, node.key, self.genesis.chain_id)
            if twin is not None:
                left, right = byz.split(self.rng, targets)
                if isinstance(decode_msg(twin), VoteMsg):
                    self.equivocated.add(node.key.address)
                for t in left:
                    self._transmit(node.index, int(t[1:]), a.data)
                for t in right:
                    self._transmit(node.index, int(t[1:]), twin)
                return
        if b == byz.SPLIT_PROPOSAL and a.peer is None:
            self._split_proposal(node, a.data, targets)
            return
        data = a.data
        if b == byz.INVALID:
            if isinstance(decode_msg(data), ProposalMsg):
                data = byz.corrupt_proposal(data, node.key, self.genesis.chain_id, self.rng)
            elif self.rng.random() < 0.2:
                for t in targets:
                    self._transmit(node.index, int(t[1:]), byz.garbage(self.rng, data))
        for t in targets:
            self._transmit(node.index, int(t[1:]), data)

    def _split_proposal(self, node: SimNode, data: bytes, targets: list[str]) -> None:
        """Our proposal to one half of the peers, a valid twin to the other; then our own
        votes name the twin, to everyone, so the twin can gather a quorum of prevotes."""
        msg = decode_msg(data)
        chain = self.genesis.chain_id
        me = node.key.address
        if isinstance(msg, ProposalMsg) and msg.block.header.proposer_address == me \
                and msg.proposal.block_hash not in self.twins.values():
            twin = byz.equivocate(data, node.key, chain)
            assert twin is not None
            twin_msg = decode_msg(twin)
            assert isinstance(twin_msg, ProposalMsg)
            self.twins[msg.proposal.block_hash] = twin_msg.proposal.block_hash
            left, right = byz.split(self.rng, targets)
            for t in targets:
                self._transmit(node.index, int(t[1:]), data if t in left else twin)
            return
        if isinstance(msg, VoteMsg) and msg.vote.validator_address == me \
                and msg.vote.block_hash in self.twins:
            v = replace(msg.vote, block_hash=self.twins[msg.vote.block_hash])
            data = encode_msg(VoteMsg(v.signed(node.key, chain)))
        for t in targets:
            self._transmit(node.index, int(t[1:]), data)

    def _transmit(self, frm: int, to: int, data: bytes) -> None:
        self.messages += 1
        f = self.faults
        lo, hi = f.delay
        if self.time < f.heal_at:
            if self.rng.random() < f.drop:
                return
            copies = 2 if self.rng.random() < f.duplicate else 1
        else:
            copies, hi = 1, min(hi, lo + 20)
        for _ in range(copies):
            self._push(self.time + self.rng.randint(lo, hi), ("deliver", to, frm, data))

    def _record(self, node: SimNode, data: bytes) -> None:
        """Every vote an honest validator ever sends, for the no-double-sign check."""
        if not data.startswith(b"d\x02s\x01ts\x04vote") or node.key.address not in data:
            return
        msg = decode_msg(data)
        if isinstance(msg, VoteMsg) and msg.vote.validator_address == node.key.address:
            v = msg.vote
            self.sent_votes.setdefault((v.validator_address, v.height, v.round, v.type),
                                       set()).add(v.block_hash)
