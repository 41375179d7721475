"""The transaction index on a real sqlite file: lookups by hash, CometBFT event queries, block
results, idempotent re-indexing and persistence across reopening."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from ledger.abci import Event, EventAttribute, ExecTxResult, ResponseFinalizeBlock
from ledger.rpc.query import QueryError, parse
from ledger.txindex import TxIndex


def transfer(sender: str, recipient: str, amount: int, code: int = 0) -> ExecTxResult:
    ev = Event("transfer", (EventAttribute("sender", sender),
                            EventAttribute("recipient", recipient),
                            EventAttribute("amount", str(amount)),
                            EventAttribute("memo", "secret note", index=False)))
    fee = Event("fee", (EventAttribute("payer", sender), EventAttribute("amount", "1")))
    return ExecTxResult(code=code, log="" if code == 0 else "refused", gas_used=7,
                        events=(ev, fee))


def fill(index: TxIndex) -> None:
    index.index_block(1, [b"t1", b"t2"], ResponseFinalizeBlock(
        (transfer("com1a", "com1b", 5), transfer("com1a", "com1c", 50)),
        events=(Event("mint", (EventAttribute("amount", "9"),)),), app_hash=b"\x01" * 32))
    index.index_block(2, [], ResponseFinalizeBlock(()))
    index.index_block(3, [b"t3", b"t4"], ResponseFinalizeBlock(
        (transfer("com1b", "com1a", 500), transfer("com1c", "com1b", 7, code=5))))


@pytest.fixture
def index(tmp_path: Path) -> TxIndex:
    idx = TxIndex(tmp_path / "tx_index.db")
    fill(idx)
    return idx


def search(index: TxIndex, q: str, desc: bool = False) -> list[tuple[int, int]]:
    return index.search(parse(q), desc)


def test_get_by_hash_and_block_results(index: TxIndex) -> None:
    got = index.get(hashlib.sha256(b"t4").digest())
    assert got is not None and (got.height, got.index, got.tx) == (3, 1, b"t4")
    assert got.result["code"] == 5 and got.result["log"] == "refused"
    assert got.result["gas_used"] == "7" and got.result["events"][0]["type"] == "transfer"
    assert got.to_json()["hash"] == hashlib.sha256(b"t4").hexdigest().upper()
    assert index.get(hashlib.sha256(b"nope").digest()) is None
    r = index.block_results(1)
    assert r is not None and len(r["txs_results"]) == 2
    assert r["finalize_block_events"] == [{"type": "mint", "attributes": [
        {"key": "amount", "value": "9", "index": True}]}]
    assert index.block_results(2)["txs_results"] is None  # type: ignore[index]
    assert index.block_results(4) is None


def test_event_queries(index: TxIndex) -> None:
    assert search(index, "transfer.sender='com1a'") == [(1, 0), (1, 1)]
    assert search(index, "transfer.recipient='com1b' AND tx.height>=2") == [(3, 1)]
    assert search(index, "transfer.amount>5") == [(1, 1), (3, 0), (3, 1)]
    assert search(index, "transfer.amount<=7 AND transfer.amount>=5") == [(1, 0), (3, 1)]
    assert search(index, "transfer.recipient CONTAINS '1c'") == [(1, 1)]
    assert search(index, "transfer.sender EXISTS", desc=True) == [(3, 1), (3, 0), (1, 1), (1, 0)]
    assert search(index, "tx.height=3") == [(3, 0), (3, 1)]
    assert search(index, "tx.hash='" + hashlib.sha256(b"t2").hexdigest() + "'") == [(1, 1)]
    # Conditions on one event type hold in the same event: fee.amount is 1, not 500.
    assert search(index, "transfer.sender='com1b' AND transfer.amount=500") == [(3, 0)]
    assert search(index, "transfer.sender='com1b' AND transfer.amount=5") == []
    assert search(index, "fee.payer='com1b' AND transfer.amount=500") == [(3, 0)]
    assert search(index, "transfer.memo='secret note'") == []  # not marked `index`
    assert search(index, "transfer.amount=5.0") == [(1, 0)]  # numbers compare as numbers


@pytest.mark.parametrize("bad, says", [
    ("", "empty"), ("transfer.sender", "expected an operator"),
    ("transfer.sender = ", "expected a value"), ("transfer.sender='a' AND", "attribute"),
    ("transfer.sender='a' transfer.amount=1", "expected AND"),
    ("tx.time > TIME 2024-01-01T00:00:00Z", "not supported"), ("a.b = 'x' ; DROP", "';'"),
    ("tx.hash='zz'", "64-digit hex"), ("tx.height='5'", "compared to a number"),
    ("x.y CONTAINS 5", "expected a value"), ("q" * 600 + "=1", "longer than"),
])
def test_malformed_queries_are_refused_clearly(bad: str, says: str) -> None:
    with pytest.raises(QueryError) as e:
        parse(bad)
    assert says in str(e.value)


def test_reindexing_is_a_noop_and_the_index_persists(tmp_path: Path) -> None:
    path = tmp_path / "tx_index.db"
    first = TxIndex(path)
    fill(first)
    assert first.last_height() == 3
    assert not first.index_block(3, [b"other"], ResponseFinalizeBlock((ExecTxResult(),)))
    first.close()
    again = TxIndex(path)  # as after a restart
    fill(again)  # the node hands the same blocks again: nothing changes
    assert again.last_height() == 3 and again.indexed(2)
    assert search(again, "tx.height>0") == [(1, 0), (1, 1), (3, 0), (3, 1)]
    assert again.get(hashlib.sha256(b"other").digest()) is None
    # A tx committed twice (it left the mempool's cache): the successful one is kept first.
    again.index_block(4, [b"t4"], ResponseFinalizeBlock((ExecTxResult(),)))
    got = again.get(hashlib.sha256(b"t4").digest())
    assert got is not None and (got.height, got.result["code"]) == (4, 0)
    again.close()
