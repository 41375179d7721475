"""A validator (or full node) as a sans-IO replica: the consensus core plus block execution,
evidence, gossip, write-ahead log and block sync. Bytes and timer firings in, actions out.

The simulator and the real node drive the same class, so what the simulator proves is what
runs. Persist, then act: an accepted message is in the WAL before the core sees it; our own
votes are signed (and persisted) by the signer before they are sent.

Gossip (the paper assumes a correct process's messages reach every correct process): a vote or
proposal of the current height is relayed once when first accepted; when a quorum names a block
we lack, we ask the few peers that sent us those votes for it (ProposalRequest), at most once
per gossip interval per (round, block); when consensus is stuck, each gossip tick re-sends our own
messages and the others' proposals and votes that justify this round.
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
    WantProposal,
)
from .evidence import EvidencePool
from .fetch import FETCH_PER_TICK, ProposalFetch
from .messages import (
    BlockRequest,
    BlockResponse,
    EvidenceMsg,
    Message,
    ProposalMsg,
    ProposalRequest,
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
    synced: bool = False  # learnt by block sync, not decided by our consensus


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
        self._relayed: set[tuple[int, bytes]] = set()  # (round, block) relayed this height
        self._next: list[tuple[str, bytes]] = []  # (peer, message) of the next height
        self._fetch = ProposalFetch(gossip_interval)
        self._peer_height: dict[str, int] = {}
        self._requested: dict[int, int] = {}  # height -> clock time of the last request
        self._last_progress: tuple[int, int, int] = (0, -1, 0)
        self._replaying = False
        self._sync_turn = 0
        self.penalties: dict[str, int] = {}
        # Told of each block the start-up handshake re-executes, with its results (the node
        # indexes those its transaction index lacks: a crash can fall between the two).
        self.on_replayed: Callable[[Block, ResponseFinalizeBlock], None] | None = None

    # ----------------------------------------------------------------- public

    def start(self) -> list[Action]:
        state = self.states.load()
        if state is None:
            state = ex.genesis_state(self.genesis, self.app)
            self.states.save(state)
        else:
            self._handshake(state)
        self.state = state
        self.evidence.committed.update(self.blocks.evidence_since(
            self.blocks.height() - self.genesis.params.max_evidence_age))
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
        except DecodeError as e:
            self._penalize(peer, str(e))
            return self._flush()
        return self.on_decoded(peer, msg, data)

    def on_decoded(self, peer: str, msg: Message, data: bytes) -> list[Action]:
        """`on_message` for a caller that has already decoded `data` into `msg`."""
        try:
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
            res = self.app.finalize_block(ex.finalize_request(b, self.states.validators(h - 1)))
            self.app.commit()
            if self.on_replayed is not None:
                self.on_replayed(b, res)
        if self.app.info().last_block_app_hash != state.app_hash and state.last_block_height:
            raise LedgerError("replayed application state does not match the stored app hash")

    def _start_height(self) -> None:
        self._seen.clear()
        self._relayed.clear()
        self._fetch.clear()
        self._requested = {h: t for h, t in self._requested.items() if h > self.height}
        self._handle(self.core.start_height(self.state.next_height, self.state.validators,
                                            self.state.last_block_time + 1))
        # What came early is now handled like any message: logged before the core sees it
        # (a proposal that leads to a lock must survive a crash), then relayed.
        early, self._next = self._next, []
        for peer, data in early:
            try:
                self._dispatch(peer, decode_msg(data), data)
            except (DecodeError, InvalidError):
                pass  # checked only now against this height's validators: dropped, no offence

    def _keep_for_next_height(self, peer: str, data: bytes) -> None:
        """A proposal or vote of the next height, while we finish this one (bounded)."""
        if len(self._next) < 4 * len(self.state.validators.validators) + 16:
            self._next.append((peer, data))

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
                    self._keep_for_next_height(peer, data)
                return
            self._wal(encode(["msg", data]))
            if msg.vote.block_hash is not None and peer != "wal":  # noted first: this vote
                self._fetch.note_holder(peer, msg.vote.round, msg.vote.block_hash)  # may be
            self._handle(self.core.on_vote(msg.vote))  # the one that completes a quorum
            self._seen.add(data)
            if peer != "wal" and msg.vote.validator_address != self.address:
                self._out.append(Send(None, data, self.relay_fanout))
        elif isinstance(msg, ProposalMsg):
            self._proposal_msg(peer, msg, data)
        elif isinstance(msg, ProposalRequest):
            self._answer(peer, msg)
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

    def _proposal_msg(self, peer: str, msg: ProposalMsg, data: bytes) -> None:
        p = msg.proposal
        self._note_height(peer, p.height - 1)
        if p.height == self.core.height + 1:
            self._keep_for_next_height(peer, data)
            return
        key = (p.round, p.block_hash)
        if p.height != self.core.height or self.core.decided \
                or self.core.proposal_for(*key) is not None:
            return  # stale or a duplicate: normal under gossip
        self._wal(encode(["msg", data]))
        self._handle(self.core.on_proposal(p, msg.block))
        if peer != "wal" and key not in self._relayed \
                and self.core.proposal_for(*key) is not None:  # accepted: relay it, once
            self._relayed.add(key)
            self._out.append(Send(None, data, self.relay_fanout))

    def _ask(self, round_: int, block_hash: bytes) -> None:
        data = encode_msg(ProposalRequest(self.core.height, round_, block_hash))
        for target in self._fetch.ask(round_, block_hash, self.clock()):
            self._out.append(Send(target, data))

    def _answer(self, peer: str, req: ProposalRequest) -> None:
        """Send a proposal we hold to a peer that asks, at most once per gossip interval per
        (peer, round, block); anything we do not hold is quietly ignored."""
        if peer in ("wal", "self") or req.height != self.core.height:
            return
        prop = self.core.proposal_for(req.round, req.block_hash)
        if prop is None or not self._fetch.may_answer(peer, req.round, req.block_hash,
                                                      self.clock()):
            return
        self._out.append(Send(peer, encode_msg(ProposalMsg(*prop))))

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
        self._apply(block, commit, synced=True)
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
            elif isinstance(o, WantProposal):
                if o.height == self.core.height:
                    self._ask(o.round, o.block_hash)
            elif isinstance(o, Decided):
                self._apply(o.block, o.commit)
                self._out.append(SetTimer(self.timeouts.commit, ("next", self.state.next_height)))

    def _apply(self, block: Block, commit: Commit, save: bool = True,
               synced: bool = False) -> None:
        if save:
            self.blocks.save(block, commit)
        self.state, res = ex.apply_block(self.state, self.app, block, self.states.save)
        self.wal.end_height(block.height)
        self.mempool.update(block.height, block.txs, res.tx_results)
        for ev in self.evidence.update(block.height, block.evidence):
            self._out.append(Send(None, encode_msg(EvidenceMsg(ev))))
        self._out.append(Committed(block, commit, res, synced))

    def _gossip(self) -> None:
        """Periodic: tell peers our height and ask again for missing blocks; if consensus made
        no progress since the last tick, re-send our own messages of this height and the
        others' that this round needs (the paper assumes eventual delivery)."""
        self._out.append(Send(None, encode_msg(StatusMsg(self.height))))
        c = self.core
        for round_, block_hash in c.missing()[:FETCH_PER_TICK]:
            self._ask(round_, block_hash)
        progress = (c.height, c.round, c.step if not c.decided else 3)
        if progress == self._last_progress and not c.decided:
            self._resend(c)
        self._last_progress = progress
        for peer in sorted(self._peer_height):
            self._maybe_request(peer)

    def _resend(self, c: Core) -> None:
        for m in c.own:
            if isinstance(m, Vote):
                self._out.append(Send(None, encode_msg(VoteMsg(m))))
            else:
                prop = c.proposal_for(m.round, m.block_hash)
                if prop is not None:
                    self._out.append(Send(None, encode_msg(ProposalMsg(*prop))))
        # Others' messages too (their sender may have crashed, or reach only some of us): this
        # round's proposals, its votes, and the prevotes of the rounds that justify a lock or a
        # proposal's pol_round (the paper's line 28 needs them).
        fan = self.relay_fanout
        props = list(c.proposals.get(c.round, {}).values())
        for p, b in props:
            if p not in c.own:
                self._out.append(Send(None, encode_msg(ProposalMsg(p, b)), fan))
        rounds = {c.round, c.valid_round} | {p.pol_round for p, _ in props}
        wanted = [(r, PREVOTE) for r in sorted(rounds) if r >= 0] + [(c.round, PRECOMMIT)]
        for key in wanted:
            rv = c.votes.rounds.get(key)
            for v in [] if rv is None else rv.votes.values():
                if v.validator_address != self.address:
                    self._out.append(Send(None, encode_msg(VoteMsg(v)), fan))


def choose(rng: random.Random, peers: list[str], k: int | None) -> list[str]:
    """The peers a relay goes to (all, or k of them chosen with the injected randomness)."""
    if k is None or k >= len(peers):
        return peers
    return rng.sample(peers, k)
