"""The kvstore application and block execution: deterministic app hashes, signed
transactions with replay protection, validator updates, BFT time and header checks."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ledger.abci import RequestFinalizeBlock, RequestProcessProposal
from ledger.consensus import execution as ex
from ledger.crypto import PrivateKey
from ledger.errors import InvalidError
from ledger.kvstore import KVStore, make_signed_tx
from ledger.types import Genesis


def _finalize(app: KVStore, height: int, txs: list[bytes]) -> bytes:
    res = app.finalize_block(RequestFinalizeBlock(tuple(txs), b"", height, 0, b""))
    app.commit()
    return res.app_hash


def test_app_hash_is_deterministic_and_order_sensitive() -> None:
    a, b, c = KVStore(), KVStore(), KVStore()
    assert _finalize(a, 1, [b"x=1", b"y=2"]) == _finalize(b, 1, [b"x=1", b"y=2"])
    assert _finalize(c, 1, [b"x=1", b"x=2"]) != _finalize(KVStore(), 1, [b"x=2", b"x=1"])
    assert a.query("/key", b"y").value == b"2"
    assert a.query("/key", b"nope").code != 0


def test_signed_transactions_and_replays() -> None:
    k = PrivateKey.from_secret(b"alice")
    app = KVStore()
    tx = make_signed_tx(k, 1, b"k=v")
    assert app.check_tx(tx).ok
    forged = tx[:-1] + bytes([tx[-1] ^ 1])
    assert not app.check_tx(forged).ok
    assert not app.process_proposal(RequestProcessProposal((tx, tx), b"", 1, 0, b""))
    _finalize(app, 1, [tx])
    assert not app.check_tx(tx).ok  # the nonce is spent
    assert not app.process_proposal(RequestProcessProposal((tx,), b"", 2, 0, b""))


@pytest.mark.parametrize("tx", [b"", b"novalue", b"=v", b"\xff\xfe", b"val:zz!1",
                                b"val:" + b"00" * 32 + b"!x", b"stx:garbage", b"k=" + b"v" * 20000])
def test_invalid_transactions_are_refused(tx: bytes) -> None:
    assert not KVStore().check_tx(tx).ok


def test_validator_update_transaction_only_when_explicitly_enabled() -> None:
    pk = bytes(range(32))
    tx = b"val:" + pk.hex().encode() + b"!7"
    req = RequestFinalizeBlock((tx,), b"", 1, 0, b"")
    app = KVStore(validator_txs=True)  # the simulator's tests of validator-set changes
    assert app.check_tx(tx).ok
    assert [(u.pub_key, u.power) for u in app.finalize_block(req).validator_updates] == [(pk, 7)]


def test_validator_update_transaction_is_refused_by_default() -> None:
    """An unsigned transaction must never change who validates (only genesis, later staking)."""
    pk = bytes(range(32))
    tx = b"val:" + pk.hex().encode() + b"!7"
    KVStore(validator_txs=True).check_tx(tx)  # warm the shared parse cache first
    app = KVStore()
    res = app.check_tx(tx)
    assert res.code != 0 and "validator changes by transaction are disabled" in res.log
    assert not app.process_proposal(RequestProcessProposal((tx,), b"", 1, 0, b""))
    out = app.finalize_block(RequestFinalizeBlock((tx,), b"", 1, 0, b""))
    assert out.validator_updates == () and out.tx_results[0].code != 0


def test_block_validation_checks_every_header_field() -> None:
    keys = [PrivateKey.from_secret(bytes([i])) for i in range(4)]
    g = Genesis("chain", 5, tuple((k.pub_key, 10) for k in keys))
    app = KVStore()
    state = ex.genesis_state(g, app)
    block = ex.make_block(state, app, keys[0].address, [b"a=1"], [], None)
    ex.validate_block(state, block, lambda e: None)
    assert block.header.time == 5  # the initial height takes the genesis time
    h = block.header
    for bad in (replace(h, app_hash=b"x" * 32), replace(h, chain_id="other"),
                replace(h, height=2), replace(h, validators_hash=b"v" * 32),
                replace(h, time=6), replace(h, data_hash=b"d" * 32),
                replace(h, proposer_address=b"p" * 20)):
        with pytest.raises(InvalidError):
            ex.validate_block(state, replace(block, header=bad), lambda e: None)
    new, res = ex.apply_block(state, app, block)
    assert new.last_block_height == 1 and new.app_hash == res.app_hash
    assert new.last_validators is not None and new.validators.hash() == state.validators.hash()
