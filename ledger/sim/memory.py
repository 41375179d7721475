"""In-memory stores, WAL, mempool and private validator for the simulator. What a simulated
crash keeps is exactly what these objects hold (the node's "disk")."""

from __future__ import annotations

from collections.abc import Sequence

from ..consensus.execution import ChainState
from ..crypto import PrivateKey
from ..types import PRECOMMIT, PREVOTE, Block, Commit, Proposal, ValidatorSet, Vote

STEP_PROPOSAL, STEP_PREVOTE, STEP_PRECOMMIT = 1, 2, 3


class MemBlockStore:
    def __init__(self) -> None:
        self.blocks: dict[int, tuple[Block, Commit]] = {}

    def height(self) -> int:
        return max(self.blocks, default=0)

    def save(self, block: Block, seen_commit: Commit) -> None:
        self.blocks[block.height] = (block, seen_commit)

    def block(self, height: int) -> Block | None:
        e = self.blocks.get(height)
        return None if e is None else e[0]

    def commit(self, height: int) -> Commit | None:
        e = self.blocks.get(height)
        return None if e is None else e[1]

    def evidence_since(self, height: int) -> list[bytes]:
        return [ev.hash() for h, (b, _) in self.blocks.items() if h >= height
                for ev in b.evidence]


class MemStateStore:
    def __init__(self) -> None:
        self.state: ChainState | None = None
        self.vals: dict[int, ValidatorSet] = {}

    def load(self) -> ChainState | None:
        return self.state

    def save(self, state: ChainState) -> None:
        self.state = state
        self.vals[state.next_height] = state.validators
        self.vals[state.next_height + 1] = state.next_validators

    def validators(self, height: int) -> ValidatorSet | None:
        return self.vals.get(height)


class MemWAL:
    def __init__(self) -> None:
        self.marker = 0
        self.items: list[bytes] = []

    def append(self, record: bytes, sync: bool = False) -> None:
        self.items.append(record)

    def sync(self) -> None:
        pass

    def end_height(self, height: int) -> None:
        self.marker, self.items = height, []

    def messages_after(self, height: int) -> list[bytes] | None:
        return list(self.items) if height == self.marker else None


class MemMempool:
    def __init__(self, max_txs: int = 10_000) -> None:
        self.txs: dict[bytes, None] = {}  # insertion-ordered, de-duplicated
        self.max_txs = max_txs

    def add(self, tx: bytes) -> bool:
        if tx in self.txs or len(self.txs) >= self.max_txs:
            return False
        self.txs[tx] = None
        return True

    def reap(self, max_bytes: int) -> list[bytes]:
        out, size = [], 0
        for tx in self.txs:
            if size + len(tx) > max_bytes:
                break
            out.append(tx)
            size += len(tx)
        return out

    def update(self, height: int, committed: Sequence[bytes],
               results: Sequence[object] = ()) -> None:
        for tx in committed:
            self.txs.pop(tx, None)

    def __len__(self) -> int:
        return len(self.txs)


class MemPrivVal:
    """CometBFT's FilePV rules, in memory: refuse to sign at a lower height/round/step than the
    last signature; at the same one, re-issue the old signature only for the same data (the
    timestamp may differ and is then taken from the old vote)."""

    def __init__(self, key: PrivateKey, chain_id: str) -> None:
        self.key, self.chain_id = key, chain_id
        self.last: tuple[int, int, int] = (0, -1, 0)
        self.last_bytes: bytes = b""
        self.last_sig: bytes = b""
        self.last_time = 0

    def _check(self, hrs: tuple[int, int, int], sign_bytes_wo_time: bytes) -> bool | None:
        """None: sign fresh; True: reuse; False: refuse."""
        if hrs < self.last:
            return False
        if hrs == self.last:
            return sign_bytes_wo_time == self.last_bytes
        return None

    def sign_vote(self, vote: Vote) -> Vote | None:
        step = STEP_PREVOTE if vote.type == PREVOTE else STEP_PRECOMMIT
        assert vote.type in (PREVOTE, PRECOMMIT)
        ident = repr((vote.type, vote.height, vote.round, vote.block_hash)).encode()
        verdict = self._check((vote.height, vote.round, step), ident)
        if verdict is False:
            return None
        if verdict is True:
            return Vote(vote.type, vote.height, vote.round, vote.block_hash, self.last_time,
                        vote.validator_address, vote.validator_index, self.last_sig)
        signed = vote.signed(self.key, self.chain_id)
        self._persist((vote.height, vote.round, step), ident, signed.signature, vote.timestamp)
        return signed

    def sign_proposal(self, proposal: Proposal) -> Proposal | None:
        ident = repr((proposal.height, proposal.round, proposal.pol_round,
                      proposal.block_hash)).encode()
        hrs = (proposal.height, proposal.round, STEP_PROPOSAL)
        verdict = self._check(hrs, ident)
        if verdict is False:
            return None
        if verdict is True:
            return Proposal(proposal.height, proposal.round, proposal.pol_round,
                            proposal.block_hash, self.last_time, self.last_sig)
        signed = proposal.signed(self.key, self.chain_id)
        self._persist(hrs, ident, signed.signature, proposal.timestamp)
        return signed

    def _persist(self, hrs: tuple[int, int, int], ident: bytes, sig: bytes, t: int) -> None:
        self.last, self.last_bytes, self.last_sig, self.last_time = hrs, ident, sig, t
