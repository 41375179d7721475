"""The ledger application (`ledger.app.LedgerApp`) under the simulator: funded accounts in the
genesis, one persistent in-memory store per node, and a seeded load of signed transactions.

    sim = BankSim(seed)
    w = sim.world(4, byzantine={3: "silent"}, faults=Faults(crashes=[(1, 900, 2500)]))
    w.run(5000)

A node's `VersionedStore` is its disk: a crash loses the `LedgerApp` object (volatile state),
a restart opens a new one over the same store, whose Info makes the engine replay at most the
last block. The validators are bonded at genesis (staking decides the set from then on). The
load mixes valid sends, multi-sends and stake messages (delegate, undelegate, redelegate,
withdraw rewards) with transactions meant to fail (insufficient funds, wrong sequence, sends to
module accounts, bad signatures, oversized, undelegating more than delegated...).
A "stuffing" proposer (`stuffers`) appends well-formed transactions that fail in
FinalizeBlock to its own proposals, so blocks also hold transactions that fail after the
ante handler (fee paid, sequence advanced) or in it (nothing changes)."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field, replace

from ..abci import RequestPrepareProposal
from ..app import address, bank, client
from ..app.app import LedgerApp
from ..app.distribution.msgs import MsgWithdrawRewards
from ..app.msgs import Msg, MsgSend
from ..app.params import Params
from ..app.staking.msgs import MsgDelegate, MsgRedelegate, MsgUndelegate
from ..app.store import VersionedStore
from ..app.tx import Tx
from ..crypto import PrivateKey
from .world import World

FUNDS = 10**12  # per account: every fee of a run stays affordable, so only amounts fail
KINDS = ("send", "send", "send", "multi", "multi", "no_funds", "wrong_seq", "to_module",
         "bad_sig", "oversized", "delegate", "delegate", "undelegate", "redelegate", "withdraw")


@dataclass
class Restart:
    node: int
    store_version: int | None
    info_height: int
    block_height: int  # what the engine holds: it replays block_height - info_height blocks


@dataclass
class BankSim:
    seed: int
    accounts: int = 24
    stuffers: frozenset[int] = frozenset()  # node indexes whose proposals carry failing txs
    keys: list[PrivateKey] = field(init=False)
    stuff_keys: list[PrivateKey] = field(init=False)
    operators: list[PrivateKey] = field(init=False)  # the validators' operator accounts
    stores: dict[int, VersionedStore] = field(default_factory=dict)
    apps: dict[int, LedgerApp] = field(default_factory=dict)  # the latest app of each node
    restarts: list[Restart] = field(default_factory=list)
    generated: dict[str, int] = field(default_factory=dict)  # kind -> count
    _w: World | None = None
    _pending: dict[bytes, tuple[int, int]] = field(default_factory=dict)  # addr -> (seen, extra)

    def __post_init__(self) -> None:
        self.keys = [PrivateKey.from_secret(f"bank-{self.seed}-{i}".encode())
                     for i in range(self.accounts)]
        self.stuff_keys = [PrivateKey.from_secret(f"stuff-{self.seed}-{i}".encode())
                           for i in range(4)]

    def world(self, n: int, **kw: object) -> World:
        w = World(n, self.seed, app_factory=self.app_factory, tx_factory=self.tx_factory,
                  **kw)  # type: ignore[arg-type]
        # The validators are bonded at genesis with 100 com per unit of their engine power: the
        # stake decides the set from then on (slashing, jailing, delegations move it), and the
        # load's delegations (up to 1 com) shift powers a little, never past the fault bound
        # the scenario chose.
        self.operators = [node.key for node in w.nodes]
        power_of = dict(w.genesis.validators)  # consensus public key -> engine power
        balances = {client.account_address(k): FUNDS
                    for k in self.keys + self.stuff_keys + self.operators}
        validators = [{"operator": client.account_address(node.key),
                       "pub_key": node.key.pub_key.hex(), "self_bond": power * 10**8,
                       "commission_ppm": 50_000, "moniker": node.name}
                      for node, power in ((n, power_of[n.key.pub_key]) for n in w.nodes)]
        w.genesis = replace(w.genesis, app_state={"balances": balances,
                                                  "staking": {"validators": validators}})
        self._w = w
        return w

    @property
    def chain_id(self) -> str:
        assert self._w is not None
        return self._w.genesis.chain_id

    # ------------------------------------------------------------ applications

    def app_factory(self, i: int) -> LedgerApp:
        """Node i's application over its own store (-1: a fresh one, for the validity check)."""
        if i < 0:
            return LedgerApp(VersionedStore.open(None))
        store = self.stores.get(i)
        if store is None:
            store = self.stores[i] = VersionedStore.open(None)
        app = StuffingApp(store, self) if i in self.stuffers else LedgerApp(store)
        if i in self.apps:  # a restart: the store is all that survived
            assert self._w is not None
            self.restarts.append(Restart(i, store.version, app.info().last_block_height,
                                         self._w.nodes[i].blocks.height()))
        self.apps[i] = app
        return app

    def latest(self) -> LedgerApp | None:
        """The application with the highest committed height (ties: lowest index)."""
        best = None
        for i in sorted(self.apps):
            a = self.apps[i]
            if a.height is not None and (best is None or a.height > (best.height or 0)):
                best = a
        return best

    # ------------------------------------------------------------ transactions

    def _sequence(self, app: LedgerApp | None, addr: bytes) -> int:
        if app is None or app.height is None:
            return 0
        return int(json.loads(app.query("/auth/account", addr).value)["sequence"])

    def _next_sequence(self, addr: bytes) -> int:
        """The committed sequence plus what we sent since it moved; a lost transaction would
        block the account for good, so after two unconfirmed ones we start over."""
        committed = self._sequence(self.latest(), addr)
        seen, extra = self._pending.get(addr, (committed, 0))
        if seen != committed or extra >= 2:
            extra = 0
        self._pending[addr] = (committed, extra + 1)
        return committed + extra

    def tx_factory(self, k: int, rng: random.Random) -> bytes | None:
        kind = rng.choice(KINDS)
        self.generated[kind] = self.generated.get(kind, 0) + 1
        key = rng.choice(self.keys)
        other = rng.choice(self.keys).address
        if kind == "wrong_seq":
            return client.send(key, self.chain_id, self._next_sequence(key.address) + 7,
                               other, 1)
        seq = self._next_sequence(key.address)
        if kind == "send":
            return client.send(key, self.chain_id, seq, other, rng.randint(1, 10**6))
        if kind == "multi":
            outs = [(rng.choice(self.keys).address, rng.randint(1, 10**5))
                    for _ in range(rng.randint(1, 6))]
            return client.sign(key, self.chain_id, seq, [client.multi_send_msg(key, outs)])
        if kind == "no_funds":
            return client.send(key, self.chain_id, seq, other, FUNDS * 10)
        if kind == "to_module":
            return client.send(key, self.chain_id, seq, bank.module(rng.choice(bank.MODULES)), 5)
        if kind == "bad_sig":
            return forged(key, self.chain_id, seq, other)
        if kind in ("delegate", "undelegate", "redelegate", "withdraw"):
            return client.sign(key, self.chain_id, seq, [self._stake_msg(kind, key, rng)])
        return client.send(key, self.chain_id, seq, other, 1, memo="x" * 200) + \
            bytes(Params().max_tx_bytes)  # oversized (and no longer canonical)

    def _stake_msg(self, kind: str, key: PrivateKey, rng: random.Random) -> Msg:
        """A stake message; some fail (more than delegated, a redelegation that must wait)."""
        val, other = (rng.choice(self.operators).address for _ in range(2))
        amount = rng.randint(1, 10**6)
        if kind == "delegate":
            return MsgDelegate(key.address, val, amount)
        if kind == "undelegate":
            return MsgUndelegate(key.address, val, amount)
        if kind == "redelegate":
            return MsgRedelegate(key.address, val, other, amount)
        return MsgWithdrawRewards(key.address, val)

    def stuffing(self, app: LedgerApp, height: int) -> list[bytes]:
        """Well-formed, validly signed transactions that fail in FinalizeBlock: after the ante
        handler (module recipient, missing funds) or in it (wrong sequence)."""
        out = []
        for i, key in enumerate(self.stuff_keys):
            seq = self._sequence(app, key.address)
            how = (height + i) % 3
            if how == 0:
                out.append(client.send(key, self.chain_id, seq, bank.module(bank.GOV), 3))
            elif how == 1:
                out.append(client.send(key, self.chain_id, seq, self.keys[0].address,
                                       FUNDS * 10))
            else:
                out.append(client.send(key, self.chain_id, seq + 1, self.keys[0].address, 1))
        return out


def forged(key: PrivateKey, chain_id: str, seq: int, to: bytes) -> bytes:
    """A send whose signature is someone else's."""
    m = MsgSend(key.address, to, 1)
    tx = Tx(chain_id, (m,), client.min_fee([m]), seq, key.pub_key)
    return replace(tx, sig=PrivateKey.from_secret(b"forger").sign(tx.sign_bytes())).encode()


class StuffingApp(LedgerApp):
    """A proposer that adds failing transactions to its blocks (allowed: ProcessProposal only
    checks that each decodes and is validly signed, as the SDK's default)."""

    def __init__(self, store: VersionedStore, sim: BankSim) -> None:
        super().__init__(store)
        self.sim = sim

    def prepare_proposal(self, req: RequestPrepareProposal) -> tuple[bytes, ...]:
        return super().prepare_proposal(req) + tuple(self.sim.stuffing(self, req.height))


def text(addr: bytes) -> str:
    return address.to_text(addr)

