"""Listing, updating and delisting a dataset, and anchoring agreements and compute receipts:
the provider is the ACTIVE registry member whose account signs and whose DID the message
names."""

from __future__ import annotations

from ...abci import Event, EventAttribute
from ...encoding import decode, encode
from .. import address, bank
from ..blockctx import BlockContext
from ..errors import INVALID_REQUEST, UNAUTHORIZED, AppError
from ..msgs import Msg
from ..registry import model as rmodel
from ..state import State
from . import model
from . import params as mparams
from .model import DELISTED, LISTED, Listing
from .msgs import Contributors, MsgAnchor, MsgDelist, MsgList, MsgUpdateListing


def active_member(state: State, acct: bytes, did: str) -> None:
    """Refuse unless `acct` is the account of the registry member `did`, in good standing."""
    m = rmodel.by_account(state, acct)
    if m is None or m.did != did:
        raise AppError(UNAUTHORIZED, f"{address.to_text(acct)} is not the registry account "
                                     f"of {did}")
    if m.status != rmodel.ACTIVE:
        raise AppError(UNAUTHORIZED, f"{did} is {m.status}, not a member in good standing")


def _contributors(state: State, provider: bytes, given: Contributors) -> Contributors:
    chosen = given or ((provider, 1),)
    most = mparams.load(state).max_contributors
    if len(chosen) > most:
        raise AppError(INVALID_REQUEST, f"a listing has at most {most} contributors")
    for acct, _ in chosen:
        bank.check_recipient(acct)
    return chosen


def _event(action: str, lst: Listing, **more: str) -> Event:
    return bank.event("market_listing", action=action, dataset_id=lst.dataset_id,
                      provider=address.to_text(lst.provider), provider_did=lst.provider_did,
                      price=bank.coins(lst.price), status=lst.status, **more)


def own_listing(state: State, provider: bytes, dataset_id: str) -> Listing:
    """The listing, refused unless `provider` listed it and it is still listed."""
    lst = model.must_listing(state, dataset_id)
    if lst.provider != provider:
        raise AppError(UNAUTHORIZED, f"only the provider of {dataset_id!r} "
                                     f"({lst.provider_did}) can change its listing")
    if lst.status != LISTED:
        raise AppError(INVALID_REQUEST, f"dataset {dataset_id!r} is {lst.status}")
    active_member(state, provider, lst.provider_did)
    return lst


def handle_list(state: State, m: Msg, ctx: BlockContext) -> list[Event]:
    assert isinstance(m, MsgList)
    active_member(state, m.provider, m.provider_did)
    old = model.listing(state, m.dataset_id)
    if old is not None and (old.status != DELISTED or old.provider != m.provider):
        raise AppError(INVALID_REQUEST, f"dataset {m.dataset_id!r} is already listed by "
                                        f"{old.provider_did} ({old.status})")
    least = mparams.load(state).min_provider_stake
    if m.stake < least:
        raise AppError(INVALID_REQUEST, f"a listing's stake is at least {bank.shown(least)}, "
                                        f"this one is {bank.shown(m.stake)}")
    lst = Listing(m.dataset_id, m.provider, m.provider_did, m.content_hash, m.price,
                  _contributors(state, m.provider, m.contributors), LISTED, ctx.height, ctx.time)
    events = bank.transfer(state, m.provider, model.account(), m.stake)
    s = model.stakes(state, m.dataset_id)
    s.provider_bonded += m.stake
    model.put_stakes(state, m.dataset_id, s)
    model.put_listing(state, lst)
    return [*events, _event("list", lst, stake=bank.coins(m.stake))]


def handle_update(state: State, m: Msg, ctx: BlockContext) -> list[Event]:
    assert isinstance(m, MsgUpdateListing)
    old = own_listing(state, m.provider, m.dataset_id)
    lst = Listing(old.dataset_id, old.provider, old.provider_did, m.content_hash, m.price,
                  _contributors(state, m.provider, m.contributors), LISTED, old.since_height,
                  old.since_time)
    model.put_listing(state, lst)
    return [_event("update", lst)]


def handle_delist(state: State, m: Msg, ctx: BlockContext) -> list[Event]:
    """No more payments; the provider's and the curators' stakes start unbonding."""
    assert isinstance(m, MsgDelist)
    old = own_listing(state, m.provider, m.dataset_id)
    unbond_all(state, old, ctx)
    lst = Listing(old.dataset_id, old.provider, old.provider_did, old.content_hash, old.price,
                  old.contributors, DELISTED, ctx.height, ctx.time)
    model.put_listing(state, lst)
    return [_event("delist", lst)]


def unbond_all(state: State, lst: Listing, ctx: BlockContext) -> None:
    """Every bonded stake on the dataset starts unbonding (delisted or slashed)."""
    s = model.stakes(state, lst.dataset_id)
    release = ctx.height + mparams.load(state).unbonding_blocks
    model.start_unbonding(state, lst.dataset_id, s, lst.provider, s.provider_bonded, release)
    s.provider_bonded = 0
    for acct, n in sorted(s.curators.items()):
        model.start_unbonding(state, lst.dataset_id, s, acct, n, release)
    s.curators = {}
    model.put_stakes(state, lst.dataset_id, s)


def anchor_key(kind: str, id_: str) -> bytes:
    return model.ANCHOR + f"{kind}/{id_}".encode()


def handle_anchor(state: State, m: Msg, ctx: BlockContext) -> list[Event]:
    assert isinstance(m, MsgAnchor)
    active_member(state, m.signer_, m.provider_did)
    key = anchor_key(m.kind, m.id)
    raw = state.get(key)
    if raw is not None:
        raise AppError(INVALID_REQUEST, f"{m.kind} {m.id!r} is already anchored at height "
                                        f"{decode(raw)['height']}")
    stored = {k: v for k, v in m.to_obj().items() if k != "type"}
    state.set(key, encode({**stored, "height": ctx.height, "time": ctx.time}))
    attrs = {"kind": m.kind, "id": m.id, "digest": m.digest.hex(),
             "agreement_id": m.agreement_id, "dataset_id": m.dataset_id,
             "provider_did": m.provider_did, "consumer_did": m.consumer_did,
             "height": str(ctx.height)}
    return [Event("market_anchor", tuple(EventAttribute(k, v) for k, v in attrs.items()))]
