"""Paid usage on the ledger, the node's side: the price an ODRL offer asks (a `compensate` duty
refined by `payAmount` in ucom), listing a paid dataset, paying for one use, and the provider's
check that a use was paid before it serves it. Payments are read proven; the provider counts
the uses it served, so one payment buys one use and a replayed one buys nothing."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterable, Iterator
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from connector.errors import ConnectorError, Reason
from connector.negotiation.codec import agreement_policy
from ledger.app.market import client as market
from policies import terms as T
from policies.errors import PolicyError
from policies.model import AnyConstraint, Constraint, Literal, LogicalConstraint, Policy, Rule

log = logging.getLogger("communs.ledger")
UCOM = T.communs("ucom")  # the unit of prices paid on the ledger (10^6 ucom = 1 com)
PAYMENT_WAIT = 3.0  # seconds a provider waits for a just-committed payment to be provable
ZERO_HASH = bytes(32)


def _rules(policy: Policy) -> Iterator[Rule]:
    for rule in (*policy.permissions, *policy.prohibitions, *policy.obligations):
        yield rule
        yield from rule.duties


def _constraints(items: Iterable[AnyConstraint]) -> Iterator[Constraint]:
    for c in items:
        if isinstance(c, LogicalConstraint):
            yield from _constraints(c.operands)
        else:
            yield c


def price_of(policy: dict[str, Any]) -> int | None:
    """The ucom per use a policy's compensate duty asks (payAmount in ucom), None when it asks
    nothing payable on the ledger. A price that is not a whole number of ucom is an error."""
    return _price(json.dumps(policy, sort_keys=True))


@lru_cache(maxsize=1024)  # asked on every data access and monitor pass: parsed once
def _price(text: str) -> int | None:
    try:
        parsed = agreement_policy(json.loads(text))
    except PolicyError:
        return None  # not a usable policy: the evaluator refuses it on its own
    for rule in _rules(parsed):
        for action in rule.actions:
            if action.iri != T.odrl("compensate"):
                continue
            for c in _constraints((*action.refinements, *rule.constraints)):
                if c.left != T.odrl("payAmount") or c.unit != UCOM or not c.right:
                    continue
                value = c.right[0].value if isinstance(c.right[0], Literal) else None
                try:
                    amount = Decimal(str(value))
                except InvalidOperation:
                    raise ConnectorError(Reason.BAD_INPUT, f"the price {value!r} is not a number") from None
                if amount < 0 or amount != amount.to_integral_value():
                    raise ConnectorError(Reason.BAD_INPUT, f"the price {value} is not a whole number of ucom")
                return int(amount)
    return None


def parse_price(text: str) -> int:
    """'5com', '2.5com', '1500ucom' or '7' (com) as ucom (prices, deposits, stakes)."""
    from ledger.cli.amounts import parse_amount
    from ledger.errors import LedgerError

    try:
        return int(parse_amount(text, bare_unit="com", allow_zero=True))
    except LedgerError as exc:
        raise ConnectorError(Reason.BAD_INPUT, f"the amount {text[:40]!r}: {exc}") from None


class Market:
    """The node's market operations over its LedgerService."""

    def __init__(self, service: Any) -> None:  # connector.ledger.service.LedgerService
        self.service = service

    @property
    def key(self):  # type: ignore[no-untyped-def]
        return self.service.account.key

    async def listing(self, dataset_id: str) -> dict[str, Any] | None:
        return (await self.service.ledger.read("/market/listing", dataset_id.encode())).doc

    async def list_dataset(self, dataset_id: str, price: int, content_hash: str | None,
                           contributors: list[tuple[str, int]] | None = None,
                           stake: int = 0) -> dict[str, Any]:
        """List DATASET_ID at PRICE ucom per use, or bring its listing up to date."""
        digest = bytes.fromhex(content_hash) if content_hash else ZERO_HASH
        shares = contributors or []
        current = await self.listing(dataset_id)
        if current is None or current.get("status") != "listed":
            msg: Any = market.list_msg(self.key, dataset_id, self.service.did, digest, price,
                                       shares, stake)
        elif current["price"] != price or current["content_hash"] != digest.hex() or shares:
            msg = market.update_listing_msg(self.key, dataset_id, price, digest, shares)
        else:
            return current
        committed = await self.service.account.submit([msg])
        await self.service.ledger.reach(committed["height"])
        return await self.listing(dataset_id) or {}

    async def on_published(self, dataset: Any) -> None:
        """A dataset published or changed (connector.catalog.model.Dataset): list it when its
        offer asks a price in ucom. The dataset stays published if the ledger refuses."""
        offer = json.loads(dataset.offers[0]) if dataset.offers else {}
        price = price_of(offer)
        if price is None:
            return
        checksum = next((d.checksum for d in dataset.distributions if d.checksum), None)
        try:
            await self.list_dataset(dataset.iri, price, checksum)
        except ConnectorError as exc:
            log.warning("dataset %s is not listed on the ledger: %s", dataset.iri, exc)

    async def stake(self, dataset_id: str, amount: int, *, withdraw: bool = False) -> dict[str, Any]:
        """Vouch for a listed dataset with AMOUNT ucom (WITHDRAW: start taking it back)."""
        build = market.unstake_msg if withdraw else market.stake_msg
        committed = await self.service.account.submit([build(self.key, dataset_id, amount)])
        return {"datasetId": dataset_id, "amount": amount, "withdraw": withdraw,
                "height": committed["height"]}

    async def pay(self, agreement_id: str, dataset_id: str, amount: int) -> dict[str, Any]:
        """Pay for one use of DATASET_ID under AGREEMENT_ID; the committed transaction."""
        committed = await self.service.account.submit(
            [market.pay_msg(self.key, dataset_id, agreement_id, amount)])
        log.info("paid %d ucom for a use of %s under %s (height %s)", amount, dataset_id,
                 agreement_id, committed["height"])
        return committed

    async def payment_refusal(self, agreement_id: str, dataset_id: str, consumer_did: str,
                              price: int, uses: int, wait: float = PAYMENT_WAIT) -> str | None:
        """Why use number USES+1 under the agreement is not paid for (None: it is). Waits up
        to WAIT seconds for a payment committed just before the request to become provable."""
        deadline = time.monotonic() + wait
        ledger = self.service.ledger
        while True:
            target = await ledger.refresh() + 1  # the state after the latest block
            paid = (await ledger.read("/market/payments", agreement_id.encode())).doc
            refusal = await self._unpaid(paid, agreement_id, dataset_id, consumer_did, price,
                                         uses)
            if refusal is None or time.monotonic() > deadline:
                return refusal
            try:  # a payment committed in the latest block is provable from the next one on
                await ledger.reach(target, max(0.0, deadline - time.monotonic()))
            except ConnectorError:
                return refusal

    async def _unpaid(self, paid: dict[str, Any], agreement_id: str, dataset_id: str,
                      consumer_did: str, price: int, uses: int) -> str | None:
        if paid is None or not paid.get("count"):
            return f"no payment for agreement {agreement_id} is on the ledger"
        if paid["dataset_id"] != dataset_id:
            return f"the payments for agreement {agreement_id} are for another dataset"
        if paid["payer"] not in await self.service.accounts_of(consumer_did):
            return f"the payments for agreement {agreement_id} were made by another account"
        if paid["count"] <= uses or paid["total"] < (uses + 1) * price:
            return (f"agreement {agreement_id} has {paid['count']} paid use(s) "
                    f"({paid['total']} ucom) and {uses} already made: pay {price} ucom for the next")
        return None

    async def value(self, dataset_id: str | None = None) -> dict[str, Any]:
        """Paid, returned to contributors and curators, extracted: proven."""
        answer = await self.service.ledger.read("/market/value", (dataset_id or "").encode())
        if answer.doc is None:
            raise ConnectorError(Reason.NOT_FOUND, f"{dataset_id} is not listed on the ledger")
        doc = dict(answer.doc)
        doc["height"] = answer.height
        doc["balanced"] = doc["paid"] == doc["contributors"] + doc["curators"] + doc["extracted"] \
            and doc["extracted"] == doc["burned"] + doc["community"] + doc["validators"]
        return doc


def digest(document: Any) -> str:
    """SHA-256 of a JSON document in its canonical form (sorted keys, no spaces)."""
    return hashlib.sha256(json.dumps(document, sort_keys=True, separators=(",", ":"),
                                     ensure_ascii=False).encode()).hexdigest()
