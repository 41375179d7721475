"""The market's queries over a real application (genesis, signed transactions in blocks,
commits): each (proven) one is computed again, as the light client does, from store values
proven one key at a time against the app hash; the listing of every dataset cannot be."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ledger.app import client
from ledger.app import query as app_query
from ledger.app.app import LedgerApp
from ledger.app.market import client as mc
from ledger.app.store import PROOF_TYPE, verify_proof
from ledger.crypto import PrivateKey
from ledger.light import VerificationError, _Recorder
from tests.ledger.app.apphelpers import new_app, run_block, text
from tests.ledger.app.market.mkthelpers import ACME, ACME_DID, BETA, CAROL, EVE, H1, H2, member

KEYS = (ACME, BETA, CAROL, EVE)


def sign(app: LedgerApp, key: PrivateKey, *messages: object) -> bytes:
    seq = json.loads(app.query("/auth/account", text(key).encode()).value)["sequence"]
    return client.sign(key, "communs-test", seq, list(messages))  # type: ignore[arg-type]


def proven_answer(app: LedgerApp, height: int, path: str, data: bytes) -> bytes:
    """What ledger/light.py does with a node's proofs: answer from proven single keys."""
    root = app.store.root_at(height)
    proven: dict[bytes, bytes | None] = {}
    while True:
        reader = _Recorder(proven)
        expected = app_query.answer(reader, height, path, data, False, PROOF_TYPE)  # type: ignore[arg-type]
        if not reader.missing:
            assert expected.code == 0, expected.log
            return expected.value
        for key in sorted(reader.missing):
            value, proof = app.store.prove(key, height)
            assert verify_proof(root, key, value, proof)
            proven[key] = value


def build() -> LedgerApp:
    app = new_app({"balances": {text(k): 10_000_000 for k in KEYS},
                   "registry": {"members": [member(ACME, ACME_DID)]},
                   "market": {"params": {"unbonding_blocks": 5}}})
    res = run_block(app, [sign(app, ACME, mc.list_msg(ACME, "ds/1", ACME_DID, H1, 997,
                                                      [(ACME.address, 2), (BETA.address, 1)],
                                                      1_000))])
    assert [r.code for r in res.tx_results] == [0], res.tx_results
    res = run_block(app, [
        sign(app, CAROL, mc.stake_msg(CAROL, "ds/1", 500), mc.unstake_msg(CAROL, "ds/1", 100)),
        sign(app, EVE, mc.pay_msg(EVE, "ds/1", "agr 1", 997), mc.pay_msg(EVE, "ds/1", "agr 1", 997)),
        sign(app, ACME, mc.agreement_anchor_msg(ACME, "agr 1", H2, "ds/1", ACME_DID,
                                                "did:web:eve.example", H1))])
    assert [r.code for r in res.tx_results] == [0, 0, 0], [r.log for r in res.tx_results]
    assert app.invariant_problems() == []
    return app


@pytest.fixture(scope="module")
def app() -> LedgerApp:
    return build()  # read only: tests that change it build their own


@pytest.mark.parametrize("path, data", [
    ("/market/listing", "ds/1"), ("/market/stakes", "ds/1"), ("/market/payments", "agr 1"),
    ("/market/payments", "never paid"), ("/market/anchor", "agreement/agr 1"),
    ("/market/value", "ds/1"), ("/market/value", ""),
])
def test_each_proven_query_is_answered_from_single_proven_keys(app: LedgerApp, path: str,
                                                               data: str) -> None:
    h = app.height
    assert h is not None
    res = app.query(path, data.encode(), h, prove=True)
    assert res.code == 0, res.log
    assert proven_answer(app, h, path, data.encode()) == res.value


def test_the_answers_read_as_documented(app: LedgerApp) -> None:
    def q(path: str, data: str) -> dict[str, Any]:
        res = app.query(path, data.encode())
        assert res.code == 0, res.log
        return json.loads(res.value)  # type: ignore[no-any-return]

    assert q("/market/payments", "agr 1") == {
        "agreement_id": "agr 1", "dataset_id": "ds/1", "payer": text(EVE), "count": 2,
        "total": 1994, "last_height": 2}
    assert q("/market/payments", "never paid")["count"] == 0
    listing = q("/market/listing", "ds/1")
    assert (listing["provider_stake"], listing["curator_stake"], listing["unbonding"]) == (
        1_000, 400, 100)
    stakes = q("/market/stakes", "ds/1")
    assert stakes["curators"] == [{"account": text(CAROL), "bonded": 400,
                                   "unbonding": [{"amount": 100, "release_height": 7}]}]
    value = q("/market/value", "ds/1")
    assert value["paid"] == 1994 and value["payments"] == 2
    assert value["paid"] == value["contributors"] + value["curators"] + value["extracted"]
    assert q("/market/anchor", "agreement/agr 1")["height"] == 2
    assert [x["dataset_id"] for x in q("/market/listings", "")["listings"]] == ["ds/1"]


def test_the_list_of_listings_cannot_be_proven(app: LedgerApp) -> None:
    with pytest.raises(VerificationError, match="a query that lists keys cannot be proven"):
        proven_answer(app, app.height or 0, "/market/listings", b"")


def test_unbonding_stakes_return_at_their_height_through_the_app() -> None:
    app = build()
    while (app.height or 0) < 7:
        run_block(app, [])
    stakes = json.loads(app.query("/market/stakes", b"ds/1").value)
    assert stakes["unbonding"] == 0 and stakes["bonded"] == 1_400
    assert app.invariant_problems() == []
