"""Shared pieces of the market tests: a chain (govhelpers') whose end of block also pays back
the market's matured stakes, with two registry members (ACME, BETA) as providers."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.abci import Event
from ledger.app import bank, gov, market
from ledger.app.blockctx import BlockContext
from ledger.app.errors import AppError
from ledger.app.state import State
from ledger.app.storeview import View
from ledger.crypto import PrivateKey
from tests.ledger.app.gov.govhelpers import CHAIN, COM, Chain, key, text

ACME, BETA, CAROL, DAN, EVE = (key(n) for n in ("acme", "beta", "carol", "dan", "eve"))
ACME_DID, BETA_DID = "did:web:acme.example", "did:web:beta.example"
H1, H2 = b"\x01" * 32, b"\x02" * 32
MARKET = bank.module(bank.MARKET)


def member(k: PrivateKey, did: str) -> dict[str, str]:
    return {"did": did, "endpoint": f"https://{did[8:]}/dsp", "sd_hash": "11" * 32,
            "account": text(k)}


class MarketChain(Chain):
    def end_block(self, seconds: int = 0) -> list[Event]:
        """As the application's: governance's end of block, then the market's."""
        self.ctx = BlockContext(self.ctx.height + 1, self.ctx.time + seconds * 1000, CHAIN)
        events = gov.end_block(self.state, self.ctx, self.source, self.execute)
        events += market.end_block(self.state, self.ctx)
        self.store.commit(self.state.writes, self.ctx.height)
        self.state = State(View(self.store, self.ctx.height))
        return events

    def blocks(self, n: int) -> list[Event]:
        return [e for _ in range(n) for e in self.end_block(1)]


def chain(balances: dict[bytes, int] | None = None, **gov_params: Any) -> MarketChain:
    return MarketChain(balances or {k.address: 100 * COM for k in (ACME, BETA, CAROL, DAN, EVE)},
                       gov_params or None,
                       {"members": [member(ACME, ACME_DID), member(BETA, BETA_DID)]})


def refused(fn: Any, *args: Any) -> AppError:
    with pytest.raises(AppError) as e:
        fn(*args)
    return e.value
