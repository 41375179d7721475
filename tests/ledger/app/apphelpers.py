"""Shared pieces of the ledger application's tests: keys, a genesis, a block runner."""

from __future__ import annotations

from collections.abc import Sequence

from ledger.abci import (
    BLOCK_ID_FLAG_COMMIT,
    CommitInfo,
    Event,
    RequestFinalizeBlock,
    RequestInitChain,
    ResponseFinalizeBlock,
    VoteInfo,
)
from ledger.app import address, auth, client, deliver, tx
from ledger.app.app import LedgerApp
from ledger.app.blockctx import BlockContext
from ledger.app.msgs import Msg
from ledger.app.params import Params
from ledger.app.state import State
from ledger.app.store import VersionedStore
from ledger.crypto import PrivateKey

CHAIN = "communs-test"
ALICE, BOB, CAROL = (PrivateKey.from_secret(n) for n in (b"alice", b"bob", b"carol"))
VAL1, VAL2 = PrivateKey.from_secret(b"val1"), PrivateKey.from_secret(b"val2")


def text(key: PrivateKey) -> str:
    return address.to_text(key.address)


def genesis_state(**extra: object) -> dict[str, object]:
    state: dict[str, object] = {"balances": {text(ALICE): 1_000_000, text(BOB): 50_000}}
    state.update(extra)
    return state


def deliver_signed(state: State, block: BlockContext, signer: PrivateKey,
                   messages: Sequence[Msg], params: Params | None = None) -> list[Event]:
    """A signed transaction as the block runs it (ante, then its messages on a branch through
    the application's routes), raising the AppError of the first refusal."""
    params = params or Params()
    raw = client.sign(signer, block.chain_id, auth.sequence(state, signer.address),
                      list(messages), params=params)
    t = tx.decode_tx(raw, params)
    events = auth.ante(state, t, params, block.chain_id, check=False)
    branch = state.branch()
    for m in t.msgs:
        events += deliver.execute(branch, m, block)
    branch.write()
    return events


def staked(key: PrivateKey, self_bond: int = 10_000_000) -> dict[str, object]:
    """A founding validator whose consensus key and operator account are both `key`'s."""
    return {"operator": text(key), "pub_key": key.pub_key.hex(), "self_bond": self_bond,
            "commission_ppm": 100_000, "moniker": f"v-{key.address.hex()[:6]}"}


def new_app(app_state: object = None, store: VersionedStore | None = None) -> LedgerApp:
    app = LedgerApp(store or VersionedStore.open(None))
    app.init_chain(RequestInitChain(0, CHAIN, (), genesis_state() if app_state is None
                                    else app_state, 1))
    return app


def signed_by(*keys: PrivateKey, power: int = 10) -> CommitInfo:
    return CommitInfo(0, tuple(VoteInfo(k.address, power, BLOCK_ID_FLAG_COMMIT) for k in keys))


def run_block(app: LedgerApp, txs: Sequence[bytes], last_commit: CommitInfo = CommitInfo(),  # noqa: B008 (frozen)
              height: int | None = None) -> ResponseFinalizeBlock:
    h = (app.info().last_block_height + 1) if height is None else height
    res = app.finalize_block(RequestFinalizeBlock(tuple(txs), b"\x00" * 32, h, h, b"",
                                                  decided_last_commit=last_commit))
    app.commit()
    return res
