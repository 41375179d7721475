"""A small chain for the staking, slashing, distribution and mint tests: a real in-memory
versioned store, real signed transactions (decoded and verified as the node does, ante handler
for fee and sequence), and each block's begin and end as the application will wire them:
mint, distribution, slashing at the start; staking at the end; a commit per block."""

from __future__ import annotations

from typing import Any

from ledger.abci import (
    BLOCK_ID_FLAG_ABSENT,
    BLOCK_ID_FLAG_COMMIT,
    CommitInfo,
    Event,
    Misbehavior,
    ValidatorUpdate,
    VoteInfo,
)
from ledger.app import (
    address,
    bank,
    distribution,
    invariants,
    mint,
    slashing,
    staking,
)
from ledger.app.blockctx import BlockContext
from ledger.app.params import Params
from ledger.app.state import State
from ledger.app.store import VersionedStore
from ledger.app.storeview import View
from ledger.crypto import PrivateKey
from ledger.encoding import encode
from tests.ledger.app.apphelpers import deliver_signed

CHAIN = "communs-test"
COM = 1_000_000
PARAMS = Params()
T0 = 1_700_000_000_000  # ms



def key(name: str) -> PrivateKey:
    return PrivateKey.from_secret(name.encode())


def cons_key(name: str) -> PrivateKey:
    return PrivateKey.from_secret(b"consensus/" + name.encode())


def text(k: PrivateKey | bytes) -> str:
    return address.to_text(k if isinstance(k, bytes) else k.address)


def genesis_validator(name: str, bond: int, commission_ppm: int = 100_000) -> dict[str, Any]:
    return {"operator": text(key(name)), "pub_key": cons_key(name).pub_key.hex(),
            "self_bond": bond, "commission_ppm": commission_ppm, "moniker": name}


class Chain:
    def __init__(self, balances: dict[bytes, int], validators: list[dict[str, Any]] = (),  # type: ignore[assignment]
                 staking_params: dict[str, Any] | None = None,
                 slashing_params: dict[str, Any] | None = None,
                 distribution_params: dict[str, Any] | None = None,
                 mint_params: dict[str, Any] | None = None) -> None:
        self.store = VersionedStore.open(None)
        self.ctx = BlockContext(1, T0, CHAIN)
        state = State(View(self.store, None))
        for addr, n in balances.items():
            state.set_int(bank.BALANCE + addr, n)
        state.set(bank.SUPPLY, encode({"genesis": sum(balances.values()), "minted": 0,
                                       "burned": 0}))
        mint.genesis(state, {"params": mint_params or {}}, self.ctx)
        distribution.genesis(state, {"params": distribution_params or {}}, self.ctx)
        slashing.genesis(state, {"params": slashing_params or {}}, self.ctx)
        self.init_updates: list[ValidatorUpdate] = staking.genesis(
            state, {"params": staking_params or {}, "validators": list(validators)}, self.ctx)
        self.store.commit(state.writes, 1)
        self.state = State(View(self.store, 1))
        self.updates: list[ValidatorUpdate] = []
        self.set_powers = {u.pub_key: u.power for u in self.init_updates}  # what consensus has
        # Updates of block H sign from H+2: the last commit of block H+3 is the first to show them.
        self.pending: list[list[ValidatorUpdate]] = [[], []]

    def deliver(self, signer: PrivateKey, *messages: Any) -> list[Event]:
        """A signed transaction: fee and sequence (ante), then its messages on a branch."""
        return deliver_signed(self.state, self.ctx, signer, messages, PARAMS)

    def commit_info(self, absent: tuple[bytes, ...] = ()) -> CommitInfo:
        """Every validator consensus has signs, except the consensus addresses in `absent`."""
        votes = []
        for pub, power in sorted(self.set_powers.items()):
            cons = address.of_pub_key(pub)
            votes.append(VoteInfo(cons, power, BLOCK_ID_FLAG_ABSENT if cons in absent
                                  else BLOCK_ID_FLAG_COMMIT))
        return CommitInfo(0, tuple(votes))

    def begin(self, seconds: int = 5, absent: tuple[bytes, ...] = (),
              misbehavior: tuple[Misbehavior, ...] = (),
              last_commit: CommitInfo | None = None) -> list[Event]:
        """Open the next block: its begin blockers run (transactions may follow)."""
        commit = self.commit_info(absent) if last_commit is None else last_commit
        self.ctx = BlockContext(self.ctx.height + 1, self.ctx.time + seconds * 1000, CHAIN)
        events = mint.begin_block(self.state, self.ctx)
        events += distribution.begin_block(self.state, self.ctx, commit)
        events += slashing.begin_block(self.state, self.ctx, commit, misbehavior)
        return events

    def end(self) -> list[Event]:
        """Close the block: staking's end block, then commit; updates apply at H+2."""
        self.updates, events = staking.end_block(self.state, self.ctx)
        self.store.commit(self.state.writes, self.ctx.height)
        self.state = State(View(self.store, self.ctx.height))
        self.pending.append(self.updates)
        for u in self.pending.pop(0):
            if u.power == 0:
                self.set_powers.pop(u.pub_key, None)
            else:
                self.set_powers[u.pub_key] = u.power
        return events

    def block(self, seconds: int = 5, absent: tuple[bytes, ...] = (),
              misbehavior: tuple[Misbehavior, ...] = ()) -> list[Event]:
        return self.begin(seconds, absent, misbehavior) + self.end()

    def problems(self) -> list[str]:
        return (invariants.problems(self.state) + staking.problems(self.state)
                + distribution.problems(self.state) + slashing.problems(self.state))


def attrs(events: list[Event], kind: str) -> list[dict[str, str]]:
    return [{a.key: a.value for a in e.attributes} for e in events if e.type == kind]
