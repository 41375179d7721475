import json

import pytest

from ledger.abci import RequestInitChain, RequestPrepareProposal, RequestProcessProposal
from ledger.app import address, bank, client, msgs
from ledger.app.app import LedgerApp
from ledger.app.errors import (
    INSUFFICIENT_FEE,
    INSUFFICIENT_FUNDS,
    INVALID_REQUEST,
    TX_TOO_LARGE,
    UNAUTHORIZED,
    UNKNOWN_REQUEST,
    WRONG_CHAIN_ID,
    WRONG_SEQUENCE,
    AppError,
)
from ledger.app.store import PROOF_TYPE, VersionedStore, verify_proof
from ledger.encoding import decode, encode
from tests.ledger.app.apphelpers import (
    ALICE,
    BOB,
    CAROL,
    CHAIN,
    VAL1,
    genesis_state,
    new_app,
    run_block,
    signed_by,
    staked,
    text,
)


def text_of(addr: bytes) -> str:
    return address.to_text(addr)


def balance(app: LedgerApp, key: object, height: int = 0) -> int:
    data = key if isinstance(key, bytes) else key.address  # type: ignore[attr-defined]
    res = app.query("/bank/balance", data, height)
    assert res.code == 0, res.log
    return int(json.loads(res.value)["balance"])


def check(app: LedgerApp, tx: bytes) -> tuple[int, str]:
    r = app.check_tx(tx)
    return r.code, r.log


def test_send_succeeds_with_fee_sequence_events_and_gas() -> None:
    app = new_app()
    tx = client.send(ALICE, CHAIN, 0, text(BOB), 1000)
    assert check(app, tx) == (0, "")
    res = run_block(app, [tx]).tx_results[0]
    assert (res.code, res.gas_wanted, res.gas_used) == (0, 2000, 2000)
    attrs = {e.type: {a.key: a.value for a in e.attributes} for e in res.events}
    assert attrs["tx"] == {"fee": "2000ucom", "fee_payer": text(ALICE),
                           "acc_seq": f"{text(ALICE)}/0"}
    assert attrs["message"] == {"action": "bank/send", "sender": text(ALICE), "module": "bank"}
    assert attrs["transfer"] == {"recipient": text(BOB), "sender": text(ALICE),
                                 "amount": "1000ucom"}
    assert balance(app, ALICE) == 1_000_000 - 3000 and balance(app, BOB) == 51_000
    acc = json.loads(app.query("/auth/account", text(ALICE).encode()).value)
    assert acc == {"address": text(ALICE), "sequence": 1, "balance": 997_000,
                   "pub_key": ALICE.pub_key.hex()}
    assert app.invariant_problems() == []


def test_multi_send_in_a_block() -> None:
    app = new_app()
    m = client.multi_send_msg(ALICE, [(BOB.address, 10), (CAROL.address, 20)])
    res = run_block(app, [client.sign(ALICE, CHAIN, 0, [m])]).tx_results[0]
    assert res.code == 0 and res.gas_used == 3000
    assert balance(app, CAROL) == 20 and balance(app, BOB) == 50_010


REFUSALS = [
    ("wrong chain id", lambda: client.send(ALICE, "other-chain", 0, text(BOB), 1),
     WRONG_CHAIN_ID, "wrong chain id: this chain is communs-test, the transaction is for "
                     "other-chain"),
    ("future sequence", lambda: client.send(ALICE, CHAIN, 3, text(BOB), 1),
     WRONG_SEQUENCE, "account sequence mismatch: expected 0, got 3"),
    ("fee too low", lambda: client.send(ALICE, CHAIN, 0, text(BOB), 1, fee=100),
     INSUFFICIENT_FEE, "fee 100 ucom is below the minimum 2000 ucom for 1 message"),
    ("fee too low, 2 msgs", lambda: client.sign(
        ALICE, CHAIN, 0, [msgs.MsgSend(ALICE.address, BOB.address, 1)] * 2, fee=3999),
     INSUFFICIENT_FEE, "fee 3999 ucom is below the minimum 4000 ucom for 2 messages"),
    ("insufficient funds", lambda: client.send(CAROL, CHAIN, 0, text(BOB), 10),
     INSUFFICIENT_FUNDS, f"insufficient funds: {text(CAROL)} has 0 ucom, needs 2010 ucom"),
    ("fee plus amount", lambda: client.send(BOB, CHAIN, 0, text(ALICE), 48_001),
     INSUFFICIENT_FUNDS, f"insufficient funds: {text(BOB)} has 50000 ucom, needs 50001 ucom"),
    ("module account", lambda: client.send(ALICE, CHAIN, 0, bank.module(bank.GOV), 5),
     UNAUTHORIZED, f"{text_of(bank.module(bank.GOV))} is a module account (gov) and cannot "
                   f"receive sends"),
    ("bad signature", lambda: _forged(), UNAUTHORIZED, "invalid signature"),
]


def _forged() -> bytes:
    d = decode(client.send(ALICE, CHAIN, 0, text(BOB), 1))
    d["sig"] = bytes(64)
    return encode(d)


@pytest.mark.parametrize("name,make,code,log", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_check_tx_refuses_with_the_exact_reason(name: str, make, code: int, log: str) -> None:
    app = new_app()
    assert check(app, make()) == (code, log)


def test_oversized_and_malformed_transactions() -> None:
    app = new_app()
    big = client.send(ALICE, CHAIN, 0, text(BOB), 1, memo="x" * 10)
    big = big.replace(b"x" * 10, b"y" * 10)  # same size, sig now wrong, still decodes
    assert check(app, big) == (UNAUTHORIZED, "invalid signature")
    huge = encode({"body": {"pad": b"\x00" * 70_000}, "sig": b""})
    assert check(app, huge) == (TX_TOO_LARGE, f"transaction of {len(huge)} bytes exceeds 65536")
    code, log = check(app, b"\xff\xff")
    assert code == 2 and log.startswith("transaction is not canonically encoded")


def test_replayed_transaction_is_refused_after_it_committed() -> None:
    app = new_app()
    tx = client.send(ALICE, CHAIN, 0, text(BOB), 1)
    run_block(app, [tx])
    assert check(app, tx) == (WRONG_SEQUENCE, "account sequence mismatch: expected 1, got 0")
    res = run_block(app, [tx]).tx_results[0]  # a faulty proposer includes it anyway
    assert (res.code, res.log) == (WRONG_SEQUENCE,
                                   "account sequence mismatch: expected 1, got 0")
    assert balance(app, BOB) == 50_001


def test_check_tx_pipelines_sequences_and_rechecks_after_commit() -> None:
    app = new_app()
    txs = [client.send(ALICE, CHAIN, n, text(BOB), 1) for n in range(3)]
    assert [check(app, t)[0] for t in txs] == [0, 0, 0]
    run_block(app, txs[:1])  # only the first made it into the block
    # The mempool rechecks the rest in order against the freshly committed state.
    assert [app.check_tx(t, recheck=True).code for t in txs[1:]] == [0, 0]
    assert app.check_tx(txs[0], recheck=True).code == WRONG_SEQUENCE


def test_check_state_tracks_spending_across_pending_transactions() -> None:
    app = new_app()
    a = client.send(BOB, CHAIN, 0, text(ALICE), 30_000)
    b = client.send(BOB, CHAIN, 1, text(ALICE), 30_000)
    assert check(app, a)[0] == 0
    assert check(app, b) == (INSUFFICIENT_FUNDS, f"insufficient funds: {text(BOB)} has "
                                                 f"18000 ucom, needs 32000 ucom")


def test_failed_message_reverts_but_fee_and_sequence_stand() -> None:
    app = new_app()
    spend_all = client.send(BOB, CHAIN, 0, text(ALICE), 40_000)
    too_much = client.send(BOB, CHAIN, 1, text(ALICE), 40_000)
    res = run_block(app, [spend_all, too_much]).tx_results
    assert res[0].code == 0
    assert (res[1].code, res[1].log) == (
        INSUFFICIENT_FUNDS, f"insufficient funds: {text(BOB)} has 6000 ucom, needs 40000 ucom")
    assert res[1].gas_used == 2000 and [e.type for e in res[1].events][-1] == "tx"
    assert balance(app, BOB) == 50_000 - 40_000 - 2000 - 2000
    seq = json.loads(app.query("/auth/account", BOB.address).value)["sequence"]
    assert seq == 2 and app.invariant_problems() == []


def test_unpayable_fee_changes_nothing() -> None:
    app = new_app()
    res = run_block(app, [client.send(CAROL, CHAIN, 0, text(BOB), 1)]).tx_results[0]
    assert (res.code, res.log) == (
        INSUFFICIENT_FUNDS, f"insufficient funds: {text(CAROL)} has 0 ucom, needs 2000 ucom")
    assert json.loads(app.query("/auth/account", CAROL.address).value)["sequence"] == 0


def test_fees_of_a_block_are_burned_and_owed_to_the_signers_in_the_next() -> None:
    app = new_app(genesis_state(balances={text(ALICE): 1_000_000, text(BOB): 50_000,
                                          text(VAL1): 10_000_000},
                                staking={"validators": [staked(VAL1)]}))
    txs = [client.send(ALICE, CHAIN, n, text(BOB), 1) for n in range(5)]  # 10_000 ucom fees
    run_block(app, txs)
    fc = bank.module(bank.FEE_COLLECTOR)
    assert balance(app, fc) == 10_000
    res = run_block(app, [], signed_by(VAL1))
    assert balance(app, fc) == 0
    owed = json.loads(app.query("/distribution/outstanding", VAL1.address).value)
    assert owed["outstanding"] == 8000 - 160  # 20% burned, 2% of the rest taxed
    assert balance(app, bank.module(bank.DISTRIBUTION)) == 8000 - 160
    assert balance(app, bank.module(bank.COMMUNITY_POOL)) == 160
    supply = json.loads(app.query("/bank/supply", b"").value)
    assert supply == {"genesis": 11_050_000, "minted": 0, "burned": 2000, "total": 11_048_000,
                      "denom": "ucom"}
    assert [e.type for e in res.events].count("burn") == 1
    assert app.invariant_problems() == []


def test_prepare_keeps_valid_txs_in_order_within_bytes_and_process_checks_them() -> None:
    app = new_app()
    good = [client.send(ALICE, CHAIN, n, text(BOB), 1) for n in range(3)]
    gap = client.send(ALICE, CHAIN, 9, text(BOB), 1)
    txs = (good[0], gap, good[1], b"junk", good[2])
    chosen = app.prepare_proposal(RequestPrepareProposal(10**6, txs, 1, 1, b""))
    assert chosen == tuple(good)
    assert app.prepare_proposal(RequestPrepareProposal(len(good[0]) + len(good[1]), txs, 1, 1, b"")) \
        == tuple(good[:2])
    assert app.process_proposal(RequestProcessProposal(chosen, b"", 1, 1, b""))
    assert not app.process_proposal(RequestProcessProposal((good[0], b"junk"), b"", 1, 1, b""))
    assert not app.process_proposal(RequestProcessProposal((_forged(),), b"", 1, 1, b""))


def test_signatures_hook_returns_the_triple() -> None:
    app = new_app()
    tx = client.send(ALICE, CHAIN, 0, text(BOB), 1)
    [(pub, msg, sig)] = app.signatures(tx)
    from ledger import crypto
    assert pub == ALICE.pub_key and crypto.verify(pub, msg, sig)
    assert app.signatures(b"junk") == []


def test_queries_at_past_heights_and_errors() -> None:
    app = new_app()
    run_block(app, [client.send(ALICE, CHAIN, 0, text(BOB), 5)])
    assert balance(app, BOB, height=0) == 50_005 and balance(app, BOB, height=1) == 50_005
    r = app.query("/bank/balance", text(BOB).encode(), height=0)
    assert r.height == 1
    assert json.loads(app.query("/bank/balance", BOB.address, height=0).value)["balance"] \
        == 50_005
    old = app.query("/bank/balance", BOB.address, height=0)
    assert old.height == 1
    genesis = app.query("/store", bank.BALANCE + BOB.address, height=0)
    assert decode(genesis.value) == 50_005
    r = app.query("/bank/balance", b"nonsense")
    assert r.code == 7 and r.log == "'nonsense' is not an address (com1... in bech32)"
    r = app.query("/bank/balance", BOB.address, height=5)
    assert (r.code, r.log) == (INVALID_REQUEST, "height 5 is not available: the latest is 1")
    r = app.query("/nope", b"")
    assert r.code == UNKNOWN_REQUEST and r.log.startswith("unknown query path '/nope'")
    params = json.loads(app.query("/params", b"").value)
    assert params["gas"]["bank/send"] == 2000 and params["max_tx_bytes"] == 65536
    assert app.query("/store", b"no such key").value == b""


def test_two_apps_agree_on_every_app_hash() -> None:
    a, b = new_app(), new_app()
    assert a.info() == b.info()
    for n in range(3):
        txs = [client.send(ALICE, CHAIN, n, text(CAROL), 7)]
        assert run_block(a, txs, signed_by(VAL1)) == run_block(b, txs, signed_by(VAL1))
    assert a.info() == b.info() and a.info().last_block_height == 3


def test_restart_reopens_one_below_and_replays_the_last_block_idempotently() -> None:
    store = VersionedStore.open(None)
    app = new_app(store=store)
    b1 = [client.send(ALICE, CHAIN, 0, text(BOB), 5)]
    b2 = [client.send(ALICE, CHAIN, 1, text(BOB), 6)]
    run_block(app, b1)
    r2 = app.finalize_block(_req(b2, 2))  # killed before Commit
    reopened = LedgerApp(store)
    assert reopened.info().last_block_height == 1
    assert reopened.info().last_block_app_hash == app.info().last_block_app_hash
    again = reopened.finalize_block(_req(b2, 2))  # the engine replays block 2
    assert again == r2 and store.version == 2
    reopened.commit()
    assert reopened.info().last_block_height == 2
    assert balance(reopened, BOB) == 50_011
    # After a clean stop at 2 the store cannot tell Commit ran: it reopens at 1 again, and the
    # replay of block 2 is again a no-op on the store.
    third = LedgerApp(store)
    assert third.info().last_block_height == 1
    assert third.finalize_block(_req(b2, 2)) == r2


def _req(txs: list[bytes], h: int):  # type: ignore[no-untyped-def]
    from ledger.abci import RequestFinalizeBlock
    return RequestFinalizeBlock(tuple(txs), b"\x00" * 32, h, h, b"")


def test_init_chain_twice_is_harmless_and_genesis_is_validated() -> None:
    store = VersionedStore.open(None)
    app = new_app(store=store)
    root = app.info().last_block_app_hash
    again = LedgerApp(store).init_chain(RequestInitChain(0, CHAIN, (), {}, 1))
    assert again.app_hash == root and store.version == 0


GENESIS_ERRORS = [
    ([1], "genesis app_state: must be an object"),
    ({"bank": {}}, "genesis app_state: unknown section 'bank' (known: params, balances, "
                   "mint, distribution, slashing, staking, gov, registry, market)"),
    ({"balances": {"com1nope": 5}}, "genesis app_state: balances key 'com1nope': "
                                    "'com1nope' is not an address (com1... in bech32)"),
    ({"balances": {text(ALICE): -5}}, f"genesis app_state: the balance of {text(ALICE)} must "
                                      f"be a non-negative integer of ucom"),
    ({"balances": {text(ALICE): 1.5}}, f"genesis app_state: the balance of {text(ALICE)} must "
                                       f"be a non-negative integer of ucom"),
    ({"params": {"max_msgs": -1}},
     "genesis app_state: parameter max_msgs must be a non-negative integer"),
    ({"params": {"colour": 1}}, "genesis app_state: unknown parameter 'colour'"),
    ({"staking": {"validators": [staked(VAL1)]}},
     f"genesis app_state: staking: validator 0: insufficient funds: {text(VAL1)} has 0 ucom, "
     f"needs 10000000 ucom"),
    ({"gov": {"params": {"quorum_ppm": 2_000_000}}}, "genesis app_state: gov parameter quorum_ppm must be at most 1000000"),
]


@pytest.mark.parametrize("state,log", GENESIS_ERRORS)
def test_genesis_errors(state: object, log: str) -> None:
    app = LedgerApp(VersionedStore.open(None))
    with pytest.raises(AppError) as e:
        app.init_chain(RequestInitChain(0, CHAIN, (), state, 1))
    assert (e.value.code, str(e.value)) == (INVALID_REQUEST, log)


def test_genesis_amounts_as_text_and_params() -> None:
    app = new_app({"balances": {text(ALICE): "123456789012345678901234567890"},
                   "params": {"min_gas_price": 0}})
    assert balance(app, ALICE) == 123456789012345678901234567890
    res = run_block(app, [client.send(ALICE, CHAIN, 0, text(BOB), 1, fee=0)])
    assert res.tx_results[0].code == 0 and balance(app, BOB) == 1


def test_query_proofs_verify_against_the_app_hash_of_their_height() -> None:
    app = new_app()
    res = run_block(app, [client.send(ALICE, CHAIN, 0, text(BOB), 5)])
    for path, data, key in (("/bank/balance", text(BOB).encode(), bank.BALANCE + BOB.address),
                            ("/bank/supply", b"", bank.SUPPLY),
                            ("/auth/account", ALICE.address, b"acc/" + ALICE.address),
                            ("/params", b"", b"params"),
                            ("/store", bank.BALANCE + BOB.address, bank.BALANCE + BOB.address),
                            ("/store", bank.BALANCE + CAROL.address,
                             bank.BALANCE + CAROL.address)):
        q = app.query(path, data, prove=True)
        assert (q.code, q.height, q.key, q.proof_type) == (0, 1, key, PROOF_TYPE), path
        raw = app.query("/store", key).value or None
        assert verify_proof(res.app_hash, key, raw, q.proof), path
        assert not verify_proof(res.app_hash, key, b"forged", q.proof)
    old = app.query("/store", bank.BALANCE + BOB.address, height=0, prove=True)
    assert old.proof and app.query("/bank/balance", BOB.address).proof == b""


def test_restart_from_a_sqlite_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "app.sqlite"
    store = VersionedStore.open(path)
    app = new_app(store=store)
    txs = [[client.send(ALICE, CHAIN, n, text(BOB), 5)] for n in range(3)]
    results = [run_block(app, t) for t in txs]
    store.close()
    store = VersionedStore.open(path)
    again = LedgerApp(store)
    assert again.info().last_block_height == 2 and again.chain_id == CHAIN
    assert again.finalize_block(_req(txs[2], 3)) == results[2]  # the engine's replay
    again.commit()
    assert again.info().last_block_app_hash == results[2].app_hash
    assert balance(again, BOB) == 50_015
    assert check(again, client.send(ALICE, CHAIN, 3, text(BOB), 1)) == (0, "")
    store.close()


def test_a_pruned_height_is_not_found() -> None:
    app = new_app(store=VersionedStore.open(None, retain=2))
    for n in range(4):
        run_block(app, [client.send(ALICE, CHAIN, n, text(BOB), 1)])
    r = app.query("/bank/balance", BOB.address, height=1)
    assert r.code == 38 and "pruned" in r.log


def test_replaying_a_different_block_over_a_stored_height_is_an_error() -> None:
    from ledger.errors import LedgerError
    store = VersionedStore.open(None)
    app = new_app(store=store)
    app.finalize_block(_req([client.send(ALICE, CHAIN, 0, text(BOB), 5)], 1))
    reopened = LedgerApp(store)
    with pytest.raises(LedgerError, match="^re-executing block 1 does not give the state"):
        reopened.finalize_block(_req([client.send(ALICE, CHAIN, 0, text(BOB), 6)], 1))
