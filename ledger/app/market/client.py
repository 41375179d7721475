"""Building the market's messages from readable arguments (addresses as com1... text or 20
bytes, hashes as 64 hex digits or 32 bytes), to sign with `ledger.app.client.sign`:

    from ledger.app import client
    from ledger.app.market import client as market
    raw = client.sign(key, chain_id, seq, [market.pay_msg(key, "ds-1", "agr-7", 120)])

`slash_msg` is governance's: put it in a proposal (`gov/submit_proposal`'s messages)."""

from __future__ import annotations

from collections.abc import Sequence

from ...crypto import PrivateKey
from .. import address
from ..wire import gov_account
from . import msgs as m

Hash = str | bytes
Account = str | bytes


def _hash(v: Hash) -> bytes:
    return bytes.fromhex(v) if isinstance(v, str) else v


def _contributors(given: Sequence[tuple[Account, int]]) -> m.Contributors:
    return tuple((address.parse(a), share) for a, share in given)


def list_msg(key: PrivateKey, dataset_id: str, provider_did: str, content_hash: Hash,
             price: int, contributors: Sequence[tuple[Account, int]] = (),
             stake: int = 0) -> m.MsgList:
    """List a dataset (contributors empty: the provider alone)."""
    return m.MsgList(key.address, dataset_id, provider_did, _hash(content_hash), price,
                     _contributors(contributors), stake)


def update_listing_msg(key: PrivateKey, dataset_id: str, price: int, content_hash: Hash,
                       contributors: Sequence[tuple[Account, int]] = ()) -> m.MsgUpdateListing:
    return m.MsgUpdateListing(key.address, dataset_id, price, _contributors(contributors),
                              _hash(content_hash))


def delist_msg(key: PrivateKey, dataset_id: str) -> m.MsgDelist:
    return m.MsgDelist(key.address, dataset_id)


def stake_msg(key: PrivateKey, dataset_id: str, amount: int) -> m.MsgStake:
    return m.MsgStake(key.address, dataset_id, amount)


def unstake_msg(key: PrivateKey, dataset_id: str, amount: int) -> m.MsgUnstake:
    return m.MsgUnstake(key.address, dataset_id, amount)


def pay_msg(key: PrivateKey, dataset_id: str, agreement_id: str, amount: int) -> m.MsgPay:
    """One use of `dataset_id` under `agreement_id` (amount: the listing's price)."""
    return m.MsgPay(key.address, dataset_id, agreement_id, amount)


def anchor_msg(key: PrivateKey, kind: str, id_: str, digest: Hash, agreement_id: str,
               dataset_id: str, provider_did: str, consumer_did: str,
               policy_hash: Hash = bytes(32)) -> m.MsgAnchor:
    """Anchor an agreement (kind "agreement", agreement_id == id_) or a compute receipt
    (kind "receipt"); digest is the SHA-256 of the signed agreement or of the receipt."""
    return m.MsgAnchor(key.address, kind, id_, _hash(digest), agreement_id, dataset_id,
                       provider_did, consumer_did, _hash(policy_hash))


def agreement_anchor_msg(key: PrivateKey, agreement_id: str, digest: Hash, dataset_id: str,
                         provider_did: str, consumer_did: str,
                         policy_hash: Hash) -> m.MsgAnchor:
    return anchor_msg(key, "agreement", agreement_id, digest, agreement_id, dataset_id,
                      provider_did, consumer_did, policy_hash)


def receipt_anchor_msg(key: PrivateKey, receipt_id: str, digest: Hash, agreement_id: str,
                       dataset_id: str, provider_did: str, consumer_did: str,
                       policy_hash: Hash = bytes(32)) -> m.MsgAnchor:
    return anchor_msg(key, "receipt", receipt_id, digest, agreement_id, dataset_id,
                      provider_did, consumer_did, policy_hash)


def slash_msg(dataset_id: str, fraction_bps: int, reason: str) -> m.MsgSlash:
    """Governance's slash of a dataset's stakes (a proposal's message)."""
    return m.MsgSlash(gov_account(), dataset_id, fraction_bps, reason)
