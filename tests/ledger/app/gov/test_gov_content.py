"""What passed proposals execute: community-pool spends, upgrade notices, parameter changes."""

from __future__ import annotations

import pytest

from ledger.app import bank, params
from ledger.app.errors import INSUFFICIENT_FUNDS, INVALID_REQUEST, NOT_FOUND, UNAUTHORIZED, AppError
from ledger.app.gov import PARAM_MODULES, ParamModuleOf, queries, store
from ledger.app.gov import params as gparams
from ledger.app.gov.content import (
    MsgCancelUpgrade,
    MsgCommunityPoolSpend,
    MsgSoftwareUpgrade,
    MsgUpdateParams,
)
from ledger.app.gov.msgs import MsgSubmitProposal, MsgVote
from ledger.app.params import PPM
from tests.ledger.app.gov.govhelpers import COM, GOV, POOL, Chain, attrs, key, text

ALICE, BOB = key("alice"), key("bob")


def chain() -> Chain:
    return Chain({ALICE.address: 50 * COM, POOL: 8 * COM})


def refused(c: Chain, m: object) -> AppError:
    with pytest.raises(AppError) as e:
        c.run(m)  # type: ignore[arg-type]
    return e.value


def test_a_community_pool_spend_pays_from_the_pool() -> None:
    c = chain()
    events = c.run(MsgCommunityPoolSpend(GOV, BOB.address, 3 * COM))
    assert bank.balance(c.state, BOB.address) == 3 * COM
    assert bank.balance(c.state, POOL) == 5 * COM
    assert attrs(events, "community_pool_spend") == [
        {"recipient": text(BOB), "amount": "3000000ucom"}]
    e = refused(c, MsgCommunityPoolSpend(GOV, BOB.address, 6 * COM))
    assert (e.code, str(e)) == (INSUFFICIENT_FUNDS, "the community pool holds 5000000 ucom, "
                                                    "less than the 6000000 ucom asked for")
    e = refused(c, MsgCommunityPoolSpend(GOV, GOV, COM))
    assert (e.code, str(e)) == (UNAUTHORIZED, f"{text(GOV)} is a module account (gov) and "
                                              f"cannot receive sends")
    e = refused(c, MsgCommunityPoolSpend(ALICE.address, ALICE.address, COM))
    assert str(e) == (f"gov/community_pool_spend is made by governance only: its authority "
                      f"must be the gov module account {text(GOV)}, not {text(ALICE)}")
    with pytest.raises(AppError) as err:  # and a signed transaction is refused the same way
        c.deliver(ALICE, MsgCommunityPoolSpend(ALICE.address, ALICE.address, COM))
    assert str(err.value) == str(e)
    assert c.problems() == []


def test_an_upgrade_notice_is_stored_replaced_and_cancelled() -> None:
    c = chain()
    assert queries.upgrade(c.state) == (b"gov/upgrade", {"plan": None})
    c.run(MsgSoftwareUpgrade(GOV, "v2", 100, "https://example.org/v2"))
    events = c.run(MsgSoftwareUpgrade(GOV, "v3", 200, ""))
    assert attrs(events, "software_upgrade") == [{"name": "v3", "height": "200"}]
    assert queries.upgrade(c.state)[1] == {"plan": {"name": "v3", "height": 200, "info": ""}}
    e = refused(c, MsgSoftwareUpgrade(GOV, "v4", c.ctx.height, ""))
    assert (e.code, str(e)) == (INVALID_REQUEST, "the upgrade height 1 is not after the "
                                                 "current height 1")
    assert attrs(c.run(MsgCancelUpgrade(GOV)), "cancel_upgrade") == [{"name": "v3"}]
    assert queries.upgrade(c.state)[1] == {"plan": None}
    e = refused(c, MsgCancelUpgrade(GOV))
    assert (e.code, str(e)) == (NOT_FOUND, "there is no pending upgrade to cancel")
    e = refused(c, MsgCancelUpgrade(BOB.address))
    assert e.code == UNAUTHORIZED


def test_parameter_changes_are_validated_by_their_module() -> None:
    c = chain()
    events = c.run(MsgUpdateParams(GOV, "gov", {"voting_period": 30, "quorum_ppm": 500_000}))
    assert attrs(events, "update_params") == [{"module": "gov",
                                               "changed": "quorum_ppm,voting_period"}]
    p = gparams.load(c.state)
    assert (p.voting_period, p.quorum_ppm, p.min_deposit) == (30, 500_000, 10 * COM)
    for changes, sentence in (
            ({"quorum_ppm": PPM + 1}, "gov parameter quorum_ppm must be at most 1000000"),
            ({"voting_period": 0}, "gov parameter voting_period must be positive"),
            ({"burn_vote_veto": 1}, "gov parameter burn_vote_veto must be true or false"),
            ({"nope": 1}, "unknown gov parameter 'nope'")):
        e = refused(c, MsgUpdateParams(GOV, "gov", changes))
        assert (e.code, str(e)) == (INVALID_REQUEST, sentence)
    e = refused(c, MsgUpdateParams(GOV, "nope", {"x": 1}))
    assert str(e) == f"unknown parameter module 'nope' (known: {', '.join(sorted(PARAM_MODULES))})"
    assert gparams.load(c.state).voting_period == 30  # refusals changed nothing


def test_any_module_registered_in_param_modules_can_be_changed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(PARAM_MODULES, "app",
                        ParamModuleOf(params.load, params.Params.from_obj, params.save))
    c = chain()
    c.run(MsgUpdateParams(GOV, "app", {"min_gas_price": 3}))
    assert params.load(c.state).min_gas_price == 3


def test_a_passed_proposal_changes_governance_for_the_next_one() -> None:
    c = Chain({ALICE.address: 50 * COM}, {"voting_period": 60})
    c.source.delegate(ALICE.address, ALICE.address, 10 * COM)
    change = MsgUpdateParams(GOV, "gov", {"voting_period": 5})
    c.deliver(ALICE, MsgSubmitProposal(ALICE.address, (change,), 10 * COM, "Faster", "x", ""))
    c.deliver(ALICE, MsgVote(1, ALICE.address, ((1, PPM),)))
    events = c.end_block(60)
    assert attrs(events, "update_params")[0]["changed"] == "voting_period"
    c.deliver(ALICE, MsgSubmitProposal(ALICE.address, (), 10 * COM, "Next", "x", ""))
    p = store.must_get(c.state, 2)
    assert p.voting_end_time - p.voting_start_time == 5_000
    assert c.problems() == []


def test_a_proposal_with_invalid_parameter_changes_is_refused_at_submission() -> None:
    c = Chain({ALICE.address: 50 * COM})
    for change, sentence in (
            (MsgUpdateParams(GOV, "gov", {"quorum_ppm": PPM + 1}),
             "message 1 of the proposal: gov parameter quorum_ppm must be at most 1000000"),
            (MsgUpdateParams(GOV, "nope", {"x": 1}),
             f"message 1 of the proposal: unknown parameter module 'nope' "
             f"(known: {', '.join(sorted(PARAM_MODULES))})")):
        with pytest.raises(AppError) as e:
            c.deliver(ALICE, MsgSubmitProposal(ALICE.address, (change,), 0, "Bad", "x", ""))
        assert (e.value.code, str(e.value)) == (INVALID_REQUEST, sentence)
    assert store.get(c.state, 1) is None
