"""What must hold after every block of the ledger application, on every honest node.

`BankChecker.observe(world)` checks the heights committed since its last call (call it after
each small step of `World.run`), each problem one sentence naming the seed, node and height:

  * the app's invariants (supply = genesis + minted - burned = the sum of all balances,
    module accounts included; every balance a positive integer) at that height's version,
    and the genesis count fixed while minted and burned never decrease;
  * every honest node's app hash at height H is the same, and is the app_hash of the header
    of block H+1 in its block store;
  * for a few seeded random accounts, the /bank/balance answer at H proves against that
    header's app_hash (`verify_proof`);
  * each account's sequence advances by exactly the number of its transactions in block H
    that pass the ante handler (signed, right chain, right running sequence, fee paid:
    accounts hold enough that a fee is always affordable), and no other account's moves."""

from __future__ import annotations

import json
import random

from ..app import auth, bank, invariants
from ..app.app import LedgerApp
from ..app.errors import AppError
from ..app.params import Params
from ..app.state import State
from ..app.store import verify_proof
from ..app.storeview import View
from ..app.tx import decode_tx
from ..encoding import encode
from .bank import BankSim, text
from .world import SimNode, World

PROBES = 3  # accounts whose balance proof is checked at each height


def proof_problems(app: LedgerApp, addr: bytes, height: int, app_hash: bytes) -> list[str]:
    """The balance answer for `addr` at `height`, with its proof, checked as a light client
    would: against `app_hash`, the header of block height+1."""
    res = app.query("/bank/balance", addr, height=height, prove=True)
    if res.code != 0:
        return [f"the balance query of {text(addr)} failed: {res.log}"]
    amount = int(json.loads(res.value)["balance"])
    raw = encode(amount) if amount else None  # absent when zero
    if not verify_proof(app_hash, res.key, raw, res.proof):
        return [f"the balance proof of {text(addr)} ({amount} ucom) does not verify"]
    return []


def ante_counts(txs: tuple[bytes, ...], before: State, chain_id: str) -> dict[bytes, int]:
    """How many of the block's transactions each signer gets past the ante handler."""
    p = Params()
    running: dict[bytes, int] = {}
    out: dict[bytes, int] = {}
    for raw in txs:
        try:
            tx = decode_tx(raw, p)
        except AppError:
            continue
        s = tx.signer
        seq = running.setdefault(s, auth.sequence(before, s))
        if tx.chain_id == chain_id and tx.sequence == seq and tx.fee >= auth.min_fee(tx, p):
            running[s] = seq + 1
            out[s] = out.get(s, 0) + 1
    return out


class BankChecker:
    def __init__(self, sim: BankSim) -> None:
        self.sim = sim
        self.problems: list[str] = []
        self.state_done: dict[int, int] = {}  # node -> last height whose state was checked
        self.header_done: dict[int, int] = {}  # node -> last height checked against H+1
        self.roots: dict[int, tuple[bytes, str]] = {}  # height -> (app hash, first node)
        self.others = sorted(bank.MODULE_ADDRESSES)
        self.heights_checked = 0
        self.proofs_checked = 0
        self.txs = 0  # committed transactions (counted on the first node to check a height)
        self.past_ante = 0  # of which got past the ante handler

    def _say(self, node: SimNode, h: int, what: str) -> None:
        self.problems.append(f"seed {self.sim.seed} {node.name} height {h}: {what}")

    def observe(self, w: World) -> list[str]:
        """Check what the honest nodes committed since the last call; all problems so far."""
        if len(self.others) == len(bank.MODULE_ADDRESSES):
            self.others += [n.key.address for n in w.nodes]
        for node in w.honest():
            top = node.blocks.height()
            store = self.sim.stores.get(node.index)
            if store is None:
                continue
            for h in range(self.state_done.get(node.index, 0) + 1, top + 1):
                self._state(w, node, h)
                self.state_done[node.index] = h
            for h in range(self.header_done.get(node.index, 0) + 1, top):
                self._header(node, h)
                self.header_done[node.index] = h
        return self.problems

    def _state(self, w: World, node: SimNode, h: int) -> None:
        store = self.sim.stores[node.index]
        if store.version is None or store.version < h:
            self._say(node, h, f"committed, but the app store holds only {store.version}")
            return
        self.heights_checked += 1
        state = State(View(store, h))
        for p in invariants.problems(state):
            self._say(node, h, p)
        root = store.root_at(h)
        first = self.roots.setdefault(h, (root, node.name))
        if first[0] != root:
            self._say(node, h, f"app hash {root.hex()[:12]} differs from {first[1]}'s "
                               f"{first[0].hex()[:12]}")
        block = node.blocks.block(h)
        if block is None:
            self._say(node, h, "block missing")
            return
        before = State(View(store, h - 1))
        was, now = bank.supply_parts(before), bank.supply_parts(state)
        if was["genesis"] != now["genesis"] or any(now[k] < was[k] for k in ("minted", "burned")):
            self._say(node, h, f"the supply counters went from {was} to {now}")
        counts = ante_counts(block.txs, before, w.genesis.chain_id)
        if first[1] == node.name:
            self.txs += len(block.txs)
            self.past_ante += sum(counts.values())
        after = {k: v for k, v in state.items(auth.ACCOUNT)}
        moved = {k[len(auth.ACCOUNT):] for k, v in after.items() if before.get(k) != v}
        for addr in sorted(moved | set(counts)):
            step = auth.sequence(state, addr) - auth.sequence(before, addr)
            if step != counts.get(addr, 0):
                self._say(node, h, f"the sequence of {text(addr)} advanced by {step}, but "
                                   f"{counts.get(addr, 0)} of its transactions passed the ante")

    def _header(self, node: SimNode, h: int) -> None:
        nxt = node.blocks.block(h + 1)
        store = self.sim.stores[node.index]
        app = self.sim.apps.get(node.index)
        if nxt is None or app is None or store.version is None or store.version < h:
            return
        if nxt.header.app_hash != store.root_at(h):
            self._say(node, h, "the app hash differs from the app_hash of the next header")
        rng = random.Random(f"{self.sim.seed}/{h}/{node.index}")
        probes = [k.address for k in rng.sample(self.sim.keys, PROBES - 1)]
        probes.append(rng.choice(self.others))  # a module account or a validator's rewards
        for addr in probes:
            self.proofs_checked += 1
            for p in proof_problems(app, addr, h, nxt.header.app_hash):
                self._say(node, h, p)


def run_checked(w: World, checker: BankChecker, until: int, step: int = 100) -> None:
    """Run the world to `until` in steps of `step` simulated ms, observing after each."""
    while w.time < until:
        w.run(min(until, w.time + step))
        checker.observe(w)


def run_until_height_checked(w: World, checker: BankChecker, height: int, deadline: int,
                             step: int = 100) -> bool:
    while min(w.heights(honest_only=True)) < height and w.time < deadline:
        run_checked(w, checker, min(deadline, w.time + step), step)
    return min(w.heights(honest_only=True)) >= height
