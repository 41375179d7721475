"""Paid usage between real nodes on a real four-validator ledger: a dataset listed at a price,
a curator's stake, a consumer that pays for each use before it pulls; the split exact to the
unit; paying too little, using one payment twice and paying for another agreement refused
with the reason; the agreement anchored by the provider and audited by the consumer; a
tampered agreement fails its audit."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from connector.ledger.account import RefusedTx
from connector.ledger.service import LEDGER
from connector.transfer.manager import TRANSFERS
from tests.integration.ledgered import Federation, account, communs, until
from tests.nodes import client, serving

pytestmark = pytest.mark.timeout(240)
PRICE = 2_000_003  # ucom: a prime, so that every part of the split is rounded


@pytest.fixture(scope="module")
def federation(tmp_path_factory):
    fed = Federation(tmp_path_factory.mktemp("fed"), ["city", "acme"])
    (fed.nodes["city"] / "data").mkdir(exist_ok=True)
    (fed.nodes["city"] / "data" / "traffic.csv").write_text("road,cars\nN7,1200\nA6,5400\n")
    fed.start()
    yield fed
    fed.stop()


async def _transfer(http, node, transfer_id: str) -> dict:
    async with http.get(f"{node.management}/api/v1/transfers/{transfer_id}", headers=node.auth) as r:
        return await r.json()


async def _request(http, node, provider, agreement: str) -> dict:
    """A transfer asked through NODE's management API; its final state."""
    body = {"providerUrl": provider.public, "agreementId": agreement, "format": "HttpData-PULL"}
    async with http.post(f"{node.management}/api/v1/transfers", json=body, headers=node.auth) as r:
        assert r.status == 201, await r.text()
        transfer = (await r.json())["id"]

    async def settled():
        found = await _transfer(http, node, transfer)
        return found if found["state"] in ("STARTED", "TERMINATED", "COMPLETED") else None

    return await until("the transfer's answer", settled)


async def test_paid_use_split_refusals_anchor_and_audit(federation, capsys, tmp_path):
    city_dir, acme_dir = federation.nodes["city"], federation.nodes["acme"]
    async with serving(city_dir) as city, serving(acme_dir) as acme, client() as http:
        body = {"source": str(city_dir / "data" / "traffic.csv"), "title": "Traffic counts",
                "policy": f"paid:{PRICE}ucom"}
        async with http.post(f"{city.management}/api/v1/datasets", json=body, headers=city.auth) as r:
            assert r.status == 201, await r.text()
            dataset = await r.json()
        iri = dataset["iri"]
        market = city.running.public_app[LEDGER].market
        listing = await market.listing(iri)
        assert (listing["price"], listing["status"], listing["provider_did"]) == (PRICE, "listed", city.did)
        # two curators vouch for it: a validator's operator (5 com) and the consumer's node (1 com)
        await asyncio.to_thread(federation.net.ok, 2, "market", "stake", iri, "5com")
        staked = await communs(capsys, "stake", iri, "1com", "--dir", str(acme_dir))
        assert staked["amount"] == 1_000_000

        agreed = await communs(capsys, "negotiate", city.public, dataset["id"], "--wait",
                               "--dir", str(acme_dir))
        assert agreed["state"] == "FINALIZED", agreed
        agreement = agreed["agreementId"]

        # one paid use: the consumer pays, then pulls
        out = tmp_path / "traffic.csv"
        pulled = await communs(capsys, "transfer", city.public, agreement, "--out", str(out),
                               "--dir", str(acme_dir))
        assert pulled["state"] == "COMPLETED" and out.read_bytes() == (city_dir / "data" / "traffic.csv").read_bytes()

        value = await communs(capsys, "value", iri, "--dir", str(acme_dir))
        extracted = PRICE * 300 // 10_000
        share = (PRICE - extracted) * 1000 // 10_000  # the curators' share, by stake, floored each
        curators = share * 5 // 6 + share * 1 // 6
        returned = {r["account"]: r["amount"] for r in value["returned"]}
        assert returned[account(acme_dir)] == share // 6
        burned, validators = extracted * 2000 // 10_000, extracted * 4000 // 10_000
        assert (value["paid"], value["extracted"], value["curators"], value["contributors"],
                value["burned"], value["validators"], value["community"], value["payments"]) == (
            PRICE, extracted, curators, PRICE - extracted - curators, burned, validators,
            extracted - burned - validators, 1)
        assert value["balanced"] is True

        # the same payment used twice: a consumer that does not pay again is refused
        acme_transfers = acme.running.public_app[TRANSFERS]
        paying, acme_transfers.ledger = acme_transfers.ledger, None
        try:
            again = await _request(http, acme, city, agreement)
        finally:
            acme_transfers.ledger = paying
        assert again["state"] == "TERMINATED" and "1 paid use(s)" in again["reason"], again

        # too little: the ledger refuses the payment itself
        with pytest.raises(RefusedTx, match="asks"):
            await acme.running.public_app[LEDGER].market.pay(agreement, iri, PRICE - 1)

        # a payment for one agreement does not pay for another
        other = await communs(capsys, "negotiate", city.public, dataset["id"], "--wait",
                              "--dir", str(acme_dir))
        await acme.running.public_app[LEDGER].market.pay(agreement, iri, PRICE)
        acme_transfers.ledger = None
        try:
            refused = await _request(http, acme, city, other["agreementId"])
        finally:
            acme_transfers.ledger = paying
        assert refused["state"] == "TERMINATED" and "no payment for agreement" in refused["reason"], refused

        # the provider anchored the agreement; the consumer's audit verifies it
        city_ledger = city.running.public_app[LEDGER]
        await until("the agreement's anchor", lambda: city_ledger.anchor("agreement", agreement))
        audit = await communs(capsys, "audit", agreement, "--dir", str(acme_dir))
        assert audit["intact"] is True and audit["anchor"]["matches"] is True, audit
        assert audit["payments"]["count"] == 2 and "signed by" in audit["anchor"]["proof"]

    # a tampered agreement in the consumer's database no longer matches its anchor
    with sqlite3.connect(acme_dir / "communs.db") as db:
        (text,) = db.execute("SELECT agreement FROM negotiations WHERE agreement_id = ?",
                             (agreement,)).fetchone()
        db.execute("UPDATE negotiations SET agreement = ? WHERE agreement_id = ?",
                   (text.replace(str(PRICE), str(PRICE // 2)), agreement))
    code, _ = await communs(capsys, "audit", agreement, "--dir", str(acme_dir), ok=False)
    assert code == 1
