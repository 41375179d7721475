"""A validator (or full node) as a sans-IO replica: the consensus core plus block execution,
evidence, gossip, write-ahead log and block sync. Bytes and timer firings in, actions out.

The simulator and the real node drive the same class, so what the simulator proves is what
runs. Persist, then act: an accepted message is in the WAL before the core sees it; our own
votes are signed (and persisted) by the signer before they are sent.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from ..abci import Application, ResponseCheckTx, ResponseFinalizeBlock
from ..encoding import decode, encode
from ..errors import DecodeError, InvalidError, LedgerError
from ..types import (
    PRECOMMIT,
    PREVOTE,
    Block,
    Commit,
    DuplicateVoteEvidence,
    Genesis,
    Proposal,
    Vote,
)
from . import execution as ex
from .core import (
    Core,
    Decided,
    Equivocation,
    Output,
    ScheduleTimeout,
    SendProposal,
    SendVote,
    Signer,
)
from .evidence import EvidencePool
from .messages import (
    BlockRequest,
    BlockResponse,
    EvidenceMsg,
    Message,
    ProposalMsg,
    StatusMsg,
    TxMsg,
    VoteMsg,
    decode_msg,
    encode_msg,
)
from .ports import WAL, BlockStore, Mempool, StateStore
from .timeouts import TimeoutConfig

Timer = tuple[object, ...]


@dataclass(frozen=True)
class Send:
    peer: str | None  # None: every peer
    data: bytes
    fanout: int | None = None  # with peer None: only this many random peers (gossip relay)


@dataclass(frozen=True)
class SetTimer:
    delay: int
    timer: Timer


@dataclass(frozen=True)
class Penalize:
    peer: str
    reason: str


@dataclass(frozen=True)
class Committed:
    block: Block
    commit: Commit
    result: ResponseFinalizeBlock


Action = Send | SetTimer | Penalize | Committed


class _DurableFirst:
    """Make the WAL durable before anything is signed: the messages that led the core to
    this vote (its lock, above all) must survive a crash, or a restarted validator could
    forget a lock it has already acted on."""

    def __init__(self, signer: Signer, wal: WAL) -> None:
        self.signer, self.wal = signer, wal

    def sign_vote(self, vote: Vote) -> Vote | None:
        self.wal.sync()
        return self.signer.sign_vote(vote)

    def sign_proposal(self, proposal: Proposal) -> Proposal | None:
        self.wal.sync()
        return self.signer.sign_proposal(proposal)


class Replica:
    def __init__(self, genesis: Genesis, app: Application, address: bytes | None,
                 signer: Signer, blocks: BlockStore, states: StateStore, wal: WAL,
                 mempool: Mempool, clock: Callable[[], int], timeouts: TimeoutConfig,
                 relay_fanout: int | None = None, gossip_interval: int = 1000,
                 reap_bytes: int | None = None) -> None:
        self.genesis, self.app, self.address = genesis, app, address
        self.blocks, self.states, self.wal, self.mempool = blocks, states, wal, mempool
        self.clock, self.timeouts = clock, timeouts
        self.relay_fanout, self.gossip_interval = relay_fanout, gossip_interval
        # Bytes of transactions per proposal: smaller blocks keep latency flat under load.
        self.reap_bytes = reap_bytes or genesis.params.max_block_bytes // 2
        self.core = Core(genesis.chain_id, address, _DurableFirst(signer, wal), self, clock,
                         timeouts)
        self.evidence = EvidencePool(genesis.chain_id, genesis.params.max_evidence_age,
                                     states.validators, self._time_at)
        self._out: list[Action] = []
        self._seen: set[bytes] = set()  # vote messages already handled at this height
        self._peer_height: dict[str, int] = {}
        self._requested: dict[int, int] = {}  # height -> clock time of the last request
        self._last_progress: tuple[int, int, int] = (0, -1, 0)
        self._replaying = False
        self._sync_turn = 0
        self.penalties: dict[str, int] = {}

    # ----------------------------------------------------------------- public

    def start(self) -> list[Action]:
        state = self.states.load()
        if state is None:
            state = ex.genesis_state(self.genesis, self.app)
            self.states.save(state)
        else:
            self._handshake(state)
        self.state = state
        for h in range(max(1, self.blocks.height() - self.genesis.params.max_evidence_age),
                       self.blocks.height() + 1):
            b = self.blocks.block(h)
            if b is not None:
                self.evidence.committed.update(e.hash() for e in b.evidence)
        if self.blocks.height() == state.last_block_height + 1:  # crashed between the saves
            b, c = self.blocks.block(self.blocks.height()), self.blocks.commit(self.blocks.height())
            if b is not None and c is not None:
                self._apply(b, c, save=False)
        self._start_height()
        self._replay_wal()
        self._out.append(SetTimer(self.gossip_interval, ("gossip",)))
        return self._flush()

    def on_message(self, peer: str, data: bytes) -> list[Action]:
        try:
            msg = decode_msg(data)
            self._dispatch(peer, msg, data)
        except (DecodeError, InvalidError) as e:
            self._penalize(peer, str(e))
        return self._flush()

    def on_timer(self, timer: Timer) -> list[Action]:
        kind = timer[0]
        if kind == "c":
            _, step, h, r = timer
            if h == self.core.height and not self.core.decided:
                self._wal(encode(["timeout", step, h, r]))
                self._handle(self.core.on_timeout(str(step), int(h), int(r)))  # type: ignore[call-overload]
        elif kind == "next" and timer[1] == self.state.next_height \
                and self.core.height < self.state.next_height:
            self._start_height()
        elif kind == "gossip":
            self._gossip()
            self._out.append(SetTimer(self.gossip_interval, ("gossip",)))
        return self._flush()

    def submit_tx(self, tx: bytes, gossip: bool = True) -> tuple[ResponseCheckTx, list[Action]]:
        """CheckTx and add to the mempool; gossip=False lets the caller batch the gossip."""
        res = self._check_tx(tx)
        if res.ok and self.mempool.add(tx) and gossip:
            self._out.append(Send(None, encode_msg(TxMsg((tx,)))))
        return res, self._flush()

    def hello(self) -> bytes:
        """What to send a newly connected peer: our height, so either side can sync."""
        return encode_msg(StatusMsg(self.height))

    @property
    def height(self) -> int:
        return self.state.last_block_height

    # ------------------------------------------------- the core's ValueSource

    def get_value(self, height: int, round_: int) -> Block | None:
        if self.address is None:
            return None
        last_commit = None
        if self.state.last_validators is not None:
            last_commit = self.blocks.commit(self.state.last_block_height)
            if last_commit is None:
                return None
        txs = self.mempool.reap(min(self.reap_bytes, self.state.params.max_block_bytes // 2))
        return ex.make_block(self.state, self.app, self.address, txs,
                             self.evidence.for_block(), last_commit)

    def valid(self, block: Block) -> bool:
        return ex.process_proposal(self.state, self.app, block, self._check_evidence)

    # ---------------------------------------------------------------- inner

    def _flush(self) -> list[Action]:
        out, self._out = self._out, []
        return out

    def _penalize(self, peer: str, reason: str) -> None:
        if peer in ("wal", "self"):
            return
        self.penalties[peer] = self.penalties.get(peer, 0) + 1
        self._out.append(Penalize(peer, reason))

    def _wal(self, record: bytes, sync: bool = False) -> None:
        if not self._replaying:
            self.wal.append(record, sync)

    def _check_tx(self, tx: bytes) -> ResponseCheckTx:
        if len(tx) > self.state.params.max_tx_bytes:
            return ResponseCheckTx(1, "transaction too large")
        return self.app.check_tx(tx)

    def _time_at(self, height: int) -> int | None:
        b = self.blocks.block(height)
        return None if b is None else b.header.time

    def _check_evidence(self, ev: DuplicateVoteEvidence) -> None:
        self.evidence.check(ev, self.state.next_height)

    def _handshake(self, state: ex.ChainState) -> None:
        """Bring a fresh application up to the stored state by replaying stored blocks."""
        info = self.app.info()
        if info.last_block_height == 0:
            ex.genesis_state(self.genesis, self.app)
        for h in range(info.last_block_height + 1, state.last_block_height + 1):
            b = self.blocks.block(h)
            if b is None:
                raise LedgerError(f"block {h} missing from the block store")
            self.app.finalize_block(ex.finalize_request(b, self.states.validators(h - 1)))
            self.app.commit()
        if self.app.info().last_block_app_hash != state.app_hash and state.last_block_height:
            raise LedgerError("replayed application state does not match the stored app hash")

    def _start_height(self) -> None:
        self._seen.clear()
        self._requested = {h: t for h, t in self._requested.items() if h > self.height}
        self._handle(self.core.start_height(self.state.next_height, self.state.validators,
                                            self.state.last_block_time + 1))

    def _replay_wal(self) -> None:
        """Feed the core what it had seen of the current height before a crash. Our own votes
        come back through the signer, which re-issues (never re-decides) what it signed."""
        raw = self.wal.messages_after(self.state.last_block_height) or []
        self._replaying = True
        try:
            for rec in raw:
                try:
                    r = decode(rec)
                    if r[0] == "msg":
                        self._dispatch("wal", decode_msg(r[1]), r[1])
                    elif r[0] == "timeout" and r[2] == self.core.height and not self.core.decided:
                        self._handle(self.core.on_timeout(r[1], r[2], r[3]))
                except (LedgerError, IndexError, TypeError):
                    continue  # a record we cannot use is skipped, not fatal
        finally:
            self._replaying = False

    def _dispatch(self, peer: str, msg: Message, data: bytes) -> None:
        if isinstance(msg, VoteMsg):
            self._note_height(peer, msg.vote.height - 1)
            if data in self._seen or msg.vote.height != self.core.height:
                if msg.vote.height == self.core.height + 1:
                    self._handle(self.core.on_vote(msg.vote))
                return
            self._wal(encode(["msg", data]))
            self._handle(self.core.on_vote(msg.vote))
            self._seen.add(data)
            if peer != "wal" and msg.vote.validator_address != self.address:
                self._out.append(Send(None, data, self.relay_fanout))
        elif isinstance(msg, ProposalMsg):
            self._note_height(peer, msg.proposal.height - 1)
            if msg.proposal.height == self.core.height and not self.core.decided:
                if msg.proposal.round not in self.core.proposals:
                    self._wal(encode(["msg", data]))
            elif msg.proposal.height != self.core.height + 1:
                return
            self._handle(self.core.on_proposal(msg.proposal, msg.block))
        elif isinstance(msg, EvidenceMsg):
            try:
                if self.evidence.add(msg.evidence, self.state.next_height):
                    self._out.append(Send(None, data))
            except InvalidError:
                if msg.evidence.height < self.state.next_height:
                    raise
        elif isinstance(msg, StatusMsg):
            self._note_height(peer, msg.height)
        elif isinstance(msg, BlockRequest):
            b, c = self.blocks.block(msg.height), self.blocks.commit(msg.height)
            if b is not None and c is not None:
                self._out.append(Send(peer, encode_msg(BlockResponse(b, c))))
        elif isinstance(msg, BlockResponse):
            self._synced_block(peer, msg.block, msg.commit)
        elif isinstance(msg, TxMsg):
            for tx in msg.txs:
                if self._check_tx(tx).ok:
                    self.mempool.add(tx)

    def _note_height(self, peer: str, height: int) -> None:
        if peer in ("wal", "self"):
            return
        if height > self._peer_height.get(peer, 0):
            self._peer_height[peer] = height
        self._maybe_request(peer)

    def _maybe_request(self, peer: str) -> None:
        want = self.state.next_height
        if self._peer_height.get(peer, 0) < want:
            return
        # A peer has committed what we lack; if consensus has not done it for us, ask. A retry
        # goes to the next such peer in turn, so one silent peer cannot stall us.
        last = self._requested.get(want)
        now = self.clock()
        if last is None or now - last >= self.gossip_interval:
            ahead = sorted(p for p, h in self._peer_height.items() if h >= want)
            self._sync_turn += 1
            target = ahead[self._sync_turn % len(ahead)] if last is not None else peer
            self._requested[want] = now
            self._out.append(Send(target, encode_msg(BlockRequest(want))))

    def _synced_block(self, peer: str, block: Block, commit: Commit) -> None:
        if block.height != self.state.next_height:
            return  # stale or too far ahead: not an offence
        if commit.block_hash != block.hash():
            raise InvalidError("synced commit is for another block")
        commit.verify(self.state.chain_id, self.state.validators, block.height, block.hash())
        ex.validate_block(self.state, block, self._check_evidence)
        self._apply(block, commit)
        self._start_height()
        self._maybe_request(peer)

    def _handle(self, outs: list[Output]) -> None:
        for o in outs:
            if isinstance(o, SendVote):
                data = encode_msg(VoteMsg(o.vote))
                self._seen.add(data)
                self._wal(encode(["msg", data]), sync=True)
                self._out.append(Send(None, data))
            elif isinstance(o, SendProposal):
                data = encode_msg(ProposalMsg(o.proposal, o.block))
                self._wal(encode(["msg", data]), sync=True)
                self._out.append(Send(None, data))
            elif isinstance(o, ScheduleTimeout):
                self._out.append(SetTimer(o.delay, ("c", o.kind, o.height, o.round)))
            elif isinstance(o, Equivocation):
                self.evidence.report(o.first, o.second)
            elif isinstance(o, Decided):
                self._apply(o.block, o.commit)
                self._out.append(SetTimer(self.timeouts.commit, ("next", self.state.next_height)))

    def _apply(self, block: Block, commit: Commit, save: bool = True) -> None:
        if save:
            self.blocks.save(block, commit)
        self.state, res = ex.apply_block(self.state, self.app, block)
        self.states.save(self.state)
        self.wal.end_height(block.height)
        self.mempool.update(block.height, block.txs, res.tx_results)
        for ev in self.evidence.update(block.height, block.evidence):
            self._out.append(Send(None, encode_msg(EvidenceMsg(ev))))
        self._out.append(Committed(block, commit, res))

    def _gossip(self) -> None:
        """Periodic: tell peers our height; if consensus made no progress since the last tick,
        re-send our own messages of this height (the paper assumes eventual delivery)."""
        self._out.append(Send(None, encode_msg(StatusMsg(self.height))))
        c = self.core
        progress = (c.height, c.round, c.step if not c.decided else 3)
        if progress == self._last_progress and not c.decided:
            for m in c.own:
                if isinstance(m, Vote):
                    self._out.append(Send(None, encode_msg(VoteMsg(m))))
                else:
                    prop = c.proposals.get(m.round)
                    if prop is not None:
                        self._out.append(Send(None, encode_msg(ProposalMsg(*prop))))
            # Others' votes of this round too: their sender may have crashed since.
            for t in (PREVOTE, PRECOMMIT):
                rv = c.votes.rounds.get((c.round, t))
                for v in [] if rv is None else rv.votes.values():
                    if v.validator_address != self.address:
                        self._out.append(Send(None, encode_msg(VoteMsg(v)), self.relay_fanout))
        self._last_progress = progress
        for peer in sorted(self._peer_height):
            self._maybe_request(peer)


def choose(rng: random.Random, peers: list[str], k: int | None) -> list[str]:
    """The peers a relay goes to (all, or k of them chosen with the injected randomness)."""
    if k is None or k >= len(peers):
        return peers
    return rng.sample(peers, k)
