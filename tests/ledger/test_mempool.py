"""Mempool: CheckTx, limits, de-duplication, FIFO reaping, update/recheck, waiters."""

from __future__ import annotations

import asyncio

from ledger.mempool import COMMITTED, DUPLICATE, FULL, OK, REJECTED, TOO_LARGE, Mempool, tx_hash


class App:
    """A tiny app: txs are b'key=value'; a key may be used only once (per state)."""

    def __init__(self) -> None:
        self.used: set[bytes] = set()

    def check_tx(self, tx: bytes) -> tuple[bool, str]:
        if b"=" not in tx:
            return False, "malformed"
        key = tx.split(b"=", 1)[0]
        return (key not in self.used), "key already used" if key in self.used else ""


def test_add_limits_and_duplicates() -> None:
    app = App()
    gossiped: list[tuple[bytes, str | None]] = []
    mp = Mempool(
        app.check_tx,
        max_tx_bytes=16,
        max_txs=3,
        max_bytes=30,
        on_added=lambda h, tx, sender: gossiped.append((tx, sender)),
    )
    assert mp.add(b"a=1").code == OK
    assert mp.add(b"a=1").code == DUPLICATE
    assert mp.add(b"x" * 17).code == TOO_LARGE
    assert mp.add(b"nonsense").code == REJECTED and mp.add(b"nonsense").log == "malformed"
    assert mp.add(b"b=2", sender="peer1").ok
    assert mp.add(b"c=" + b"3" * 14).ok
    assert mp.add(b"d=4").code == FULL  # count limit
    assert (len(mp), mp.total_bytes) == (3, 3 + 3 + 16)
    assert gossiped == [(b"a=1", None), (b"b=2", "peer1"), (b"c=" + b"3" * 14, None)]
    crashing = Mempool(lambda tx: 1 / 0)  # type: ignore[arg-type,return-value]
    assert crashing.add(b"t").code == REJECTED  # an app bug does not crash the node


def test_reap_fifo_update_recheck() -> None:
    app = App()
    mp = Mempool(app.check_tx, max_bytes=1000)
    txs = [f"k{i}=v".encode() for i in range(10)]
    for tx in txs:
        assert mp.add(tx).ok
    assert mp.reap() == txs
    assert mp.reap(max_count=3) == txs[:3]
    assert mp.reap(max_bytes=11) == txs[:2]  # 4 bytes each
    # block 1 commits txs 0..2; the app state now also uses key k5 (from another tx)
    app.used |= {b"k0", b"k1", b"k2", b"k5"}
    mp.update(1, txs[:3] + [b"k5=other"])
    assert mp.reap() == txs[3:5] + txs[6:]  # k5=v evicted by the re-check
    assert mp.add(txs[0]).code == COMMITTED  # committed cache blocks replays
    assert mp.committed(tx_hash(txs[1])) is not None


def test_recheck_goes_through_the_recheck_function() -> None:
    app = App()
    rechecked: list[bytes] = []

    def recheck(tx: bytes) -> tuple[bool, str]:  # ABCI's CheckTx of type Recheck
        rechecked.append(tx)
        return app.check_tx(tx)

    mp = Mempool(app.check_tx, recheck_tx=recheck)
    for tx in (b"r0=v", b"r1=v", b"r2=v"):
        assert mp.add(tx).ok
    assert rechecked == []  # admission is a first check
    app.used |= {b"r0", b"r2"}
    mp.update(1, [b"r0=v"])
    assert rechecked == [b"r1=v", b"r2=v"] and mp.reap() == [b"r1=v"]


def test_committed_cache_is_bounded() -> None:
    mp = Mempool(lambda tx: (True, ""), cache_size=5)
    mp.update(1, [f"t{i}".encode() for i in range(10)])
    assert mp.add(b"t0").ok  # forgotten
    assert mp.add(b"t9").code == COMMITTED


async def test_wait_committed() -> None:
    app = App()
    mp = Mempool(app.check_tx)
    mp.add(b"w=1")
    mp.add(b"w2=1")
    waiter = asyncio.create_task(mp.wait_committed(tx_hash(b"w=1"), 5))
    evicted = asyncio.create_task(mp.wait_committed(tx_hash(b"w2=1"), 5))
    await asyncio.sleep(0)
    app.used.add(b"w2")
    mp.update(7, [b"w=1"], results=[{"code": 0}])
    got = await waiter
    assert got is not None and (got.height, got.index, got.result) == (7, 0, {"code": 0})
    lost = await evicted
    assert lost is not None and lost.height is None and lost.log == "key already used"
    # already committed: answered at once; unknown: None after the timeout
    assert (await mp.wait_committed(tx_hash(b"w=1"), 0)) == got
    assert await mp.wait_committed(tx_hash(b"nope"), 0.01) is None
    assert not mp._waiters
