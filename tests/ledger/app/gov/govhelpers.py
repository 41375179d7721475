"""Shared pieces of the gov and registry tests: a small chain over a real in-memory versioned
store that delivers real signed transactions to the modules' handlers, an in-memory tally
source, and the gov executor."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ledger.abci import Event
from ledger.app import address, bank, deliver, gov, invariants, msgs, registry
from ledger.app.blockctx import BlockContext
from ledger.app.params import Params
from ledger.app.state import State
from ledger.app.store import VersionedStore
from ledger.app.storeview import View
from ledger.crypto import PrivateKey
from ledger.encoding import encode
from tests.ledger.app.apphelpers import deliver_signed

CHAIN = "communs-test"
PARAMS = Params()  # its gas table has every module's message types
GOV = bank.module(bank.GOV)
POOL = bank.module(bank.COMMUNITY_POOL)
COM = 1_000_000



def key(name: str) -> PrivateKey:
    return PrivateKey.from_secret(name.encode())


def text(k: PrivateKey | bytes) -> str:
    return address.to_text(k if isinstance(k, bytes) else k.address)


@dataclass(frozen=True)
class Val:
    operator: bytes
    tokens: int
    delegator_shares: int


class MemSource:
    """The tally source protocol over plain dicts (staking's stand-in)."""

    def __init__(self) -> None:
        self.vals: dict[bytes, Val] = {}
        self.dels: dict[bytes, list[tuple[bytes, int]]] = {}

    def delegate(self, delegator: bytes, operator: bytes, tokens: int) -> None:
        v = self.vals.get(operator) or Val(operator, 0, 0)
        shares = tokens if v.tokens == 0 else tokens * v.delegator_shares // v.tokens
        self.vals[operator] = replace(v, tokens=v.tokens + tokens,
                                      delegator_shares=v.delegator_shares + shares)
        self.dels.setdefault(delegator, []).append((operator, shares))

    def bonded_validators(self) -> list[Val]:
        return list(self.vals.values())

    def delegations_of(self, delegator: bytes) -> list[tuple[bytes, int]]:
        return self.dels.get(delegator, [])

    def total_bonded(self) -> int:
        return sum(v.tokens for v in self.vals.values())


class Chain:
    """Blocks over a real VersionedStore: `deliver` signs a transaction, decodes and verifies
    it as the node does, runs the ante handler (fee, sequence), then its messages on a branch
    with the modules' handlers; `end_block` runs governance's end of block and commits."""

    def __init__(self, balances: dict[bytes, int], gov_params: dict[str, Any] | None = None,
                 registry_section: Any = None) -> None:
        self.store = VersionedStore.open(None)
        self.ctx = BlockContext(1, 1_000_000, CHAIN)
        state = State(View(self.store, None))
        for addr, n in balances.items():
            state.set_int(bank.BALANCE + addr, n)
        state.set(bank.SUPPLY, encode({"genesis": sum(balances.values()), "minted": 0,
                                       "burned": 0}))
        gov.genesis(state, {"params": gov_params or {}}, self.ctx)
        registry.genesis(state, registry_section, self.ctx)
        self.store.commit(state.writes, 1)
        self.state = State(View(self.store, 1))
        self.source = MemSource()

    def deliver(self, signer: PrivateKey, *messages: Any) -> list[Event]:
        return deliver_signed(self.state, self.ctx, signer, messages, PARAMS)

    def execute(self, state: State, m: msgs.Msg) -> list[Event]:
        """What the application gives governance: one message run as the gov account."""
        return deliver.execute(state, m, self.ctx)

    def run(self, m: msgs.Msg) -> list[Event]:
        """A governance-only message run directly, as a passed proposal would."""
        return self.execute(self.state, m)

    def end_block(self, seconds: int = 0) -> list[Event]:
        """Advance the clock, run governance's end block, commit the block."""
        self.ctx = BlockContext(self.ctx.height + 1, self.ctx.time + seconds * 1000, CHAIN)
        events = gov.end_block(self.state, self.ctx, self.source, self.execute)
        self.store.commit(self.state.writes, self.ctx.height)
        self.state = State(View(self.store, self.ctx.height))
        return events

    def problems(self) -> list[str]:
        return (invariants.problems(self.state) + gov.problems(self.state)
                + registry.problems(self.state))


def attrs(events: list[Event], kind: str) -> list[dict[str, str]]:
    return [{a.key: a.value for a in e.attributes} for e in events if e.type == kind]
