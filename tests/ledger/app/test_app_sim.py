"""The ledger application under the deterministic simulator, its invariants checked after
every committed block on every honest node (ledger.sim.bankcheck): many seeds with a random
mix of valid and failing transactions, crashes and restarts on persistent stores, Byzantine
validators up to f of n, a proposer that stuffs failing transactions into its blocks; and
proof that each check fails on a broken state."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import pytest

from ledger.abci import RequestFinalizeBlock, ResponseFinalizeBlock, ResponseQuery
from ledger.app import auth, bank
from ledger.app.app import LedgerApp
from ledger.app.store import VersionedStore
from ledger.consensus.execution import genesis_state
from ledger.encoding import encode
from ledger.sim import byzantine as byz
from ledger.sim import checkers
from ledger.sim.bank import KINDS, BankSim
from ledger.sim.bankcheck import (
    BankChecker,
    proof_problems,
    run_checked,
    run_until_height_checked,
)
from ledger.sim.scenario import make
from ledger.sim.world import Faults, World

FAST_SEEDS = range(20)
REGRESSION_SEEDS: list[int] = []  # seeds that once failed: kept forever
AFTER_HEAL = 5
BUDGET = 60_000
# The engine's validity checker also demands that every committed transaction passes
# CheckTx; a stuffing proposer's blocks break that on purpose (consensus accepts them).
STUFFED = "CheckTx refuses"


@dataclass
class Run:
    sim: BankSim
    world: World
    checker: BankChecker
    problems: list[str]


def run_scenario(seed: int) -> Run:
    """Scenario `seed` of the engine's sweep (network, faults, Byzantine validators), with
    the bank application and its load; one seed in three has a stuffing proposer."""
    sc = make(seed)
    stuffers = frozenset({seed % sc.n}) if seed % 3 == 0 else frozenset()
    sim = BankSim(seed, stuffers=stuffers)
    w = sim.world(sc.n, byzantine=sc.byzantine, faults=sc.faults, powers=sc.powers,
                  tx_interval=40)
    c = BankChecker(sim)
    run_checked(w, c, sc.faults.heal_at)
    target = max(w.heights(honest_only=True)) + AFTER_HEAL
    problems = []
    if not run_until_height_checked(w, c, target, sc.faults.heal_at + BUDGET):
        problems.append(f"seed {seed}: liveness: honest heights {w.heights(True)} < {target}")
    problems += c.observe(w)
    engine = checkers.all_checks(w)
    problems += [f"seed {seed}: {p}" for p in engine if not (stuffers and STUFFED in p)]
    problems += [f"seed {seed}: {r.node} restarted at store version {r.store_version}, "
                 f"info {r.info_height}, blocks {r.block_height}: more than one to replay"
                 for r in sim.restarts if r.block_height - r.info_height > 1]
    return Run(sim, w, c, problems)


def _final_roots(r: Run) -> set[bytes]:
    h = min(r.world.heights(honest_only=True))
    return {r.sim.stores[n.index].root_at(h) for n in r.world.honest()}


@pytest.mark.parametrize("seed", list(FAST_SEEDS) + REGRESSION_SEEDS)
def test_seed(seed: int) -> None:
    r = run_scenario(seed)
    assert r.problems == [], "\n".join(r.problems)
    assert r.checker.heights_checked >= AFTER_HEAL and r.checker.proofs_checked > 0
    assert len(_final_roots(r)) == 1  # restarted nodes included


@pytest.mark.slow
@pytest.mark.parametrize("block", range(10))
def test_many_seeds(block: int) -> None:
    problems: list[str] = []
    for seed in range(1000 + block * 20, 1000 + (block + 1) * 20):
        problems += run_scenario(seed).problems
    assert problems == [], "\n".join(problems)


def test_the_fast_seeds_cover_crashes_byzantine_kinds_and_stuffing() -> None:
    scs = [make(s) for s in FAST_SEEDS]
    assert {k for sc in scs for k in sc.byzantine.values()} == set(byz.KINDS)
    assert any(sc.faults.crashes for sc in scs) and any(sc.faults.partitions for sc in scs)
    assert any(len(sc.byzantine) == 2 for sc in scs)  # f of n = 7


def test_the_load_commits_valid_and_failing_transactions() -> None:
    r = run_scenario(0)  # a stuffing proposer, two crashes
    assert r.problems == []
    assert set(r.sim.generated) == set(KINDS)
    c = r.checker
    assert c.txs > 20 and 0 < c.past_ante < c.txs  # some failed in the ante handler
    app = r.sim.apps[r.world.honest()[0].index]
    # The stuffed sends to a module account and beyond the funds failed after the ante:
    # their fees were paid, their sequences advanced, the module received nothing.
    seqs = [json.loads(app.query("/auth/account", k.address).value)["sequence"]
            for k in r.sim.stuff_keys]
    assert sum(seqs) > 0
    gov = json.loads(app.query("/bank/balance", bank.module(bank.GOV)).value)["balance"]
    assert gov == 0
    assert len(r.sim.restarts) == 2 and len(_final_roots(r)) == 1


def test_the_bonded_set_at_genesis_is_the_engines_with_100_com_per_power() -> None:
    sc = make(1037)  # unequal powers [7, 21, 30, 10]
    sim = BankSim(1037)
    w = sim.world(sc.n, powers=sc.powers)
    bonded = genesis_state(w.genesis, sim.app_factory(-1)).validators
    assert {(v.address, v.voting_power) for v in bonded.validators} == \
        {(v.address, v.voting_power * 100) for v in w.genesis.validator_set().validators}


def test_stake_moves_and_an_equivocator_is_slashed_tombstoned_and_leaves_the_set() -> None:
    r = run_scenario(17)  # n5 equivocates, n1 is silent, 7 validators
    assert r.problems == [], "\n".join(r.problems)
    node = r.world.honest()[0]
    app = r.sim.apps[node.index]
    vals = {v["moniker"]: v for v in
            json.loads(app.query("/staking/validators", b"").value)["validators"]}
    cheat = vals["n5"]
    assert cheat["jailed"] and cheat["tombstoned"]
    assert cheat["tokens"] == 600_000_000 * 95 // 100  # genesis self-bond less 5%
    bonded_at_genesis = r.world.genesis.validator_set().total_power * 10**8
    slashed = 600_000_000 - cheat["tokens"]
    assert sum(v["tokens"] for v in vals.values()) > bonded_at_genesis - slashed  # delegations
    top = node.blocks.height()
    engine = {v.address for v in node.states.validators(top).validators}
    assert r.world.nodes[5].key.address not in engine
    assert all(r.world.nodes[i].key.address in engine for i in range(7) if i != 5)


@pytest.mark.parametrize("at", range(100, 700, 97))
def test_a_crashed_validator_reopens_its_store_and_replays_at_most_one_block(at: int) -> None:
    sim = BankSim(at)
    w = sim.world(4, faults=Faults(crashes=[(1, at, at + 700), (2, at + 900, at + 1300)]),
                  tx_interval=30)
    c = BankChecker(sim)
    run_checked(w, c, at + 1400)
    top = max(w.heights()) + 3
    assert run_until_height_checked(w, c, top, 40_000)
    assert c.observe(w) == [] and checkers.all_checks(w) == []
    assert [r.node for r in sim.restarts] == [1, 2]
    # The store already holds the last block, but Info cannot know whether Commit ran: the
    # engine replays exactly that block (none before the first).
    assert all(r.block_height - r.info_height == (1 if r.block_height else 0)
               for r in sim.restarts)
    assert any(r.block_height > 0 for r in sim.restarts)
    assert len({sim.stores[i].root_at(top) for i in range(4)}) == 1


@pytest.mark.parametrize("kind", [*byz.KINDS, byz.SPLIT_PROPOSAL])
def test_two_byzantine_validators_of_seven(kind: str) -> None:
    sim = BankSim(77, stuffers=frozenset({0}))
    w = sim.world(7, byzantine={2: kind, 5: kind},
                  faults=Faults(drop=0.05, delay=(1, 60), crashes=[(3, 800, 1800)],
                                heal_at=3000), tx_interval=30)
    c = BankChecker(sim)
    assert run_until_height_checked(w, c, 10, 40_000)
    assert c.observe(w) == []
    assert [p for p in checkers.all_checks(w) if STUFFED not in p] == []
    assert c.txs > 0


# ------------------------------------------------------------------ the checks can fail


class TamperingSim(BankSim):
    """Node 1's store receives, with block `at`, a write its application never made."""

    def __init__(self, seed: int, at: int, key: bytes, value: bytes) -> None:
        super().__init__(seed)
        self.at, self.key, self.value = at, key, value

    def app_factory(self, i: int) -> LedgerApp:
        app = super().app_factory(i)
        if i == 1:
            app.__class__ = Tampering
            app.tamper = (self.at, self.key, self.value)  # type: ignore[attr-defined]
        return app


class Tampering(LedgerApp):
    tamper: tuple[int, bytes, bytes]

    def finalize_block(self, req: RequestFinalizeBlock) -> ResponseFinalizeBlock:
        at, key, value = self.tamper
        store = self.store
        if req.height != at or (store.version or 0) >= at:
            return super().finalize_block(req)
        real = store.commit

        def commit(writes: Mapping[bytes, bytes | None], version: int) -> bytes:
            return real({**writes, key: value}, version)

        store.commit = commit  # type: ignore[method-assign]
        try:
            return super().finalize_block(req)
        finally:
            del store.commit  # type: ignore[method-assign]


def _tampered(key_of: str) -> list[str]:
    probe = BankSim(5)
    victim = probe.keys[3].address
    key = bank.BALANCE + victim if key_of == "balance" else auth.ACCOUNT + victim
    value = encode(10**15) if key_of == "balance" else auth.Account(bytes(32), 9).encode()
    sim = TamperingSim(5, 4, key, value)
    w = sim.world(4, tx_interval=40)
    c = BankChecker(sim)
    run_checked(w, c, 4000)
    return c.observe(w)


def test_a_balance_changed_behind_the_apps_back_is_caught() -> None:
    problems = _tampered("balance")
    assert any("n1 height 4: supply invariant broken" in p for p in problems), problems
    assert any("n1 height 4: app hash" in p for p in problems), problems
    assert all(p.startswith("seed 5 n1 ") for p in problems)


def test_a_sequence_changed_behind_the_apps_back_is_caught() -> None:
    problems = _tampered("sequence")
    assert any("n1 height 4: the sequence of" in p and "advanced by 9" in p
               for p in problems), problems


class Lying(LedgerApp):
    """Answers balance queries one ucom high (with the honest proof of the true value)."""

    def query(self, path: str, data: bytes, height: int = 0,
              prove: bool = False) -> ResponseQuery:
        res = super().query(path, data, height, prove)
        if path != "/bank/balance" or res.code:
            return res
        v = json.loads(res.value)
        v["balance"] += 1
        return ResponseQuery(res.code, json.dumps(v).encode(), res.log, res.height, res.key,
                             res.proof, res.proof_type)


def test_a_wrong_proof_or_a_wrong_answer_is_caught() -> None:
    sim = BankSim(9)
    w = sim.world(4, tx_interval=40)
    c = BankChecker(sim)
    assert run_until_height_checked(w, c, 6, 30_000) and c.observe(w) == []
    node = w.nodes[0]
    app, store = sim.apps[0], sim.stores[0]
    addr = sim.keys[0].address
    good = node.blocks.block(5)
    assert good is not None
    assert proof_problems(app, addr, 4, good.header.app_hash) == []
    assert proof_problems(app, addr, 4, bytes(32)) != []  # the wrong root
    liar = LedgerApp(store)
    liar.__class__ = Lying
    assert proof_problems(liar, addr, 4, good.header.app_hash) != []
    # And through the checker: a lying node's heights fail their proofs.
    sim.apps[0] = liar
    c.header_done[0] = 0
    assert any(p.startswith("seed 9 n0 height 1: the balance proof") for p in c.observe(w))


def test_each_node_keeps_one_store_across_restarts() -> None:
    """Sanity of the factory: each node's store survives its restarts (same object)."""
    sim = BankSim(3)
    w = sim.world(4, faults=Faults(crashes=[(0, 500, 900)]), tx_interval=40)
    w.run(600)
    store = sim.stores[0]
    w.run(3000)
    assert sim.stores[0] is store and isinstance(store, VersionedStore)
    assert sim.apps[0].store is store and len(sim.restarts) == 1
