"""The ledger application under the real consensus engine (the deterministic simulator):
signed sends are committed, fees are owed to the validators (bonded at genesis) that signed, every node computes the
same app hashes, and a crashed node that restarts on a fresh store replays to the same state."""

import json
import random
from dataclasses import replace

from ledger.app import bank, client
from ledger.app.app import LedgerApp
from ledger.app.store import VersionedStore
from ledger.crypto import PrivateKey
from ledger.sim import checkers
from ledger.sim.world import Faults, World
from tests.ledger.app.apphelpers import staked

SENDERS = [PrivateKey.from_secret(b"engine-sender-%d" % i) for i in range(400)]
DEST = PrivateKey.from_secret(b"engine-dest")


def _world(faults: Faults | None = None) -> World:
    apps: dict[int, LedgerApp] = {}

    def factory(i: int) -> LedgerApp:
        apps[i] = LedgerApp(VersionedStore.open(None))
        return apps[i]

    def tx(k: int, rng: random.Random) -> bytes | None:
        if k >= len(SENDERS):
            return None
        return client.send(SENDERS[k], w.genesis.chain_id, 0, DEST.address, 1000 + k)

    w = World(4, 11, app_factory=factory, tx_factory=tx, tx_interval=40, faults=faults)
    operators = [n.key for n in w.nodes]  # each validator's own key is its operator account
    w.genesis = replace(w.genesis, app_state={
        "balances": {**{client.account_address(k): 100_000 for k in SENDERS},
                     **{client.account_address(k): 10_000_000 for k in operators}},
        "staking": {"validators": [staked(k) for k in operators]}})
    w.apps = apps  # type: ignore[attr-defined]
    return w


def _balance(app: LedgerApp, addr: bytes) -> int:
    return int(json.loads(app.query("/bank/balance", addr).value)["balance"])


def test_sends_commit_and_fees_reach_the_signers() -> None:
    w = _world()
    assert w.run_until_height(8, 60_000)
    assert checkers.all_checks(w) == []
    apps = w.apps  # type: ignore[attr-defined]
    app = apps[0]
    h = min(a.info().last_block_height for a in apps.values())
    assert len({a.query("/store", b"supply", h).value for a in apps.values()}) == 1
    assert _balance(app, DEST.address) > 0
    owed = [json.loads(app.query("/distribution/outstanding", n.key.address).value)
            for n in w.nodes]
    assert all(o["outstanding"] > 0 for o in owed), owed
    assert _balance(app, bank.module(bank.COMMUNITY_POOL)) > 0
    assert all(a.invariant_problems() == [] for a in apps.values())


def test_a_restarted_node_replays_to_the_same_app_hash() -> None:
    w = _world(Faults(crashes=[(2, 1500, 2500)]))
    assert w.run_until_height(10, 60_000)
    assert checkers.all_checks(w) == []
    apps = w.apps  # type: ignore[attr-defined]
    h = min(a.info().last_block_height for a in apps.values())
    assert len({a.store.root_at(h) for a in apps.values()}) == 1
