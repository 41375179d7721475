"""Grow a long, valid chain in validator folders without running consensus: every validator's
key (all in the folders given) signs each commit in process, blocks are executed by the real
application and saved in the real stores, the transaction index included. Tests and benchmarks use it to start validators on
a chain of 10,000 blocks or more in seconds instead of hours."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

from . import crypto, privval
from .abci import Application
from .consensus import execution as ex
from .node import SqlBlocks, SqlStates, key_path, load_genesis
from .txindex import TxIndex
from .types import FLAG_COMMIT, PRECOMMIT, Commit, CommitSig, Vote

BLOCK_INTERVAL_MS = 1000


def grow(homes: Sequence[Path], app: Application, blocks: int,
         txs: Callable[[int], Sequence[bytes]] = lambda height: ()) -> int:
    """Append `blocks` blocks to the chain in `homes[0]` (whose application is `app`) and
    return the new height. The validators must not be running."""
    home = homes[0]
    genesis = load_genesis(home)
    keys = {}
    for h in homes:
        k = crypto.PrivateKey(privval.load_or_generate_key(key_path(h)).private_bytes_raw())
        keys[k.address] = k
    # No fsync per block (7x faster): a folder left half-grown by a crash is thrown away
    # anyway, and closing the stores at the end writes everything out.
    store = SqlBlocks(home / "data" / "blocks.db", durable=False)
    states = SqlStates(home / "data" / "state.db", durable=False)
    index = TxIndex(home / "data" / "tx_index.db")
    state = states.load()
    if state is None:
        state = ex.genesis_state(genesis, app)
        states.save(state)
    for _ in range(blocks):
        height = state.next_height
        last = store.commit(state.last_block_height) if state.last_validators else None
        proposer = state.validators.proposer().address
        block = ex.make_block(state, app, proposer, list(txs(height)), (), last)
        commit = _sign(genesis.chain_id, state, keys, height, block.hash(),
                       block.header.time + BLOCK_INTERVAL_MS)
        store.save(block, commit)
        state, res = ex.apply_block(state, app, block, states.save)
        index.index_block(height, block.txs, res)
    store.db.close()
    states.db.close()
    index.close()
    return state.last_block_height


def copy_stores(homes: Sequence[Path]) -> None:
    """Give every folder the stores of the first (the signing state and WAL stay their own)."""
    for h in homes[1:]:
        for f in (homes[0] / "data").iterdir():
            if f.is_file() and f.suffix == ".db" or f.name.endswith((".db-wal", ".db-shm")):
                shutil.copy2(f, h / "data" / f.name)


def _sign(chain_id: str, state: ex.ChainState, keys: dict[bytes, crypto.PrivateKey],
          height: int, block_hash: bytes, time: int) -> Commit:
    sigs = []
    for i, v in enumerate(state.validators.validators):
        key = keys.get(v.address)
        if key is None:
            raise ValueError(f"no key for validator {v.address.hex()} in the folders given")
        vote = Vote(PRECOMMIT, height, 0, block_hash, time, v.address, i).signed(key, chain_id)
        sigs.append(CommitSig(FLAG_COMMIT, v.address, time, vote.signature))
    return Commit(height, 0, block_hash, tuple(sigs))
