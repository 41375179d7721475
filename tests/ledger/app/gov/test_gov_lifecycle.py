"""A proposal's life: deposit period, voting period, tally, execution, deposits settled."""

from __future__ import annotations

import pytest

from ledger.app import bank, client, msgs
from ledger.app.errors import INVALID_REQUEST, NOT_FOUND, AppError
from ledger.app.gov import queries, store
from ledger.app.gov.content import MsgCommunityPoolSpend
from ledger.app.gov.msgs import MsgDeposit, MsgSubmitProposal, MsgVote, MsgVoteWeighted
from ledger.app.gov.store import ABSTAIN, NO, NO_WITH_VETO, YES
from ledger.app.params import PPM
from ledger.app.registry import model
from ledger.app.registry.msgs import MsgAddTrustAnchor, MsgRegisterMember
from tests.ledger.app.gov.govhelpers import COM, GOV, PARAMS, Chain, attrs, key, text

VALS = [key(f"v{i}") for i in range(1, 5)]
PROPOSER, BOB, DAN, EVE = key("proposer"), key("bob"), key("dan"), key("eve")
DID = "did:web:acme.example"
PERIODS = {"voting_period": 60, "max_deposit_period": 120}


def chain() -> Chain:
    c = Chain({PROPOSER.address: 100 * COM, BOB.address: 50 * COM, DAN.address: COM,
               EVE.address: COM, **{v.address: COM for v in VALS}}, PERIODS)
    for v in VALS:
        c.source.delegate(v.address, v.address, 10 * COM)
    return c


def admit() -> list[msgs.Msg]:
    return [MsgRegisterMember(GOV, DID, "https://acme.example/dsp", b"\x01" * 32,
                              key("acme").address),
            MsgAddTrustAnchor(GOV, "did:web:issuer.example", ("MembershipCredential",))]


def submit(c: Chain, messages: list[msgs.Msg], deposit: int = 10 * COM) -> MsgSubmitProposal:
    m = MsgSubmitProposal(PROPOSER.address, tuple(messages), deposit, "Admit Acme",
                          "Acme runs a connector", "")
    c.deliver(PROPOSER, m)
    return m


def vote(c: Chain, voter: object, option: int, pid: int = 1) -> None:
    k = voter
    assert hasattr(k, "address")
    c.deliver(k, MsgVote(pid, k.address, ((option, PPM),)))  # type: ignore[arg-type]


def status(c: Chain, pid: int = 1) -> str:
    return store.must_get(c.state, pid).status


def fee(m: msgs.Msg) -> int:
    return client.min_fee([m], PARAMS)


def test_passes_with_three_of_four_equal_validators_and_runs_its_messages() -> None:
    c = chain()
    m = submit(c, admit())
    assert status(c) == "voting_period"
    for v in VALS[:3]:
        vote(c, v, YES)
    vote(c, VALS[3], NO)
    assert c.end_block(59) == []
    assert status(c) == "voting_period"
    events = c.end_block(1)
    assert attrs(events, "active_proposal") == [
        {"proposal_id": "1", "proposal_result": "proposal_passed",
         "proposal_log": "threshold reached"}]
    p = store.must_get(c.state, 1)
    assert p.status == "passed" and p.final_tally == {
        "yes": 30 * COM, "abstain": 0, "no": 10 * COM, "no_with_veto": 0,
        "total_bonded": 40 * COM}
    member = model.member(c.state, DID)
    assert member is not None and member.status == "member" and member.since_height == 3
    assert model.anchor_types(c.state, "did:web:issuer.example") == ("MembershipCredential",)
    assert bank.balance(c.state, PROPOSER.address) == 100 * COM - fee(m)  # refunded
    assert list(store.votes(c.state, 1)) == []  # votes are cleared by the tally, as the SDK
    assert c.problems() == []


def test_lacking_quorum_is_rejected_and_deposits_refunded() -> None:
    c = chain()
    m = submit(c, admit(), 6 * COM)
    c.deliver(BOB, MsgDeposit(1, BOB.address, 4 * COM))
    vote(c, VALS[0], YES)  # 25% of the bonded stake < 33.4%
    events = c.end_block(60)
    assert attrs(events, "active_proposal")[0]["proposal_log"] == "quorum not reached"
    assert status(c) == "rejected"
    assert model.member(c.state, DID) is None
    assert bank.balance(c.state, PROPOSER.address) == 100 * COM - fee(m)
    assert bank.balance(c.state, BOB.address) == 50 * COM - fee(MsgDeposit(1, BOB.address, 1))
    assert bank.balance(c.state, GOV) == 0 and c.problems() == []


def test_a_veto_burns_the_deposits() -> None:
    c = chain()
    supply = bank.supply(c.state)
    m = submit(c, admit())
    vote(c, VALS[0], YES)
    vote(c, VALS[1], YES)
    vote(c, VALS[2], NO_WITH_VETO)
    vote(c, VALS[3], NO_WITH_VETO)
    events = c.end_block(60)
    assert attrs(events, "active_proposal")[0]["proposal_log"] == "vetoed"
    assert attrs(events, "burn") == [{"burner": text(GOV), "amount": f"{10 * COM}ucom"}]
    assert status(c) == "rejected" and model.member(c.state, DID) is None
    assert bank.supply(c.state) == supply - 10 * COM
    assert bank.balance(c.state, PROPOSER.address) == 90 * COM - fee(m)
    assert c.problems() == []


def test_a_failing_message_fails_the_proposal_without_any_change() -> None:
    c = chain()
    submit(c, [*admit(), MsgCommunityPoolSpend(GOV, BOB.address, 5 * COM)])
    for v in VALS:
        vote(c, v, YES)
    events = c.end_block(60)
    p = store.must_get(c.state, 1)
    sentence = "the community pool holds 0 ucom, less than the 5000000 ucom asked for"
    assert p.status == "failed" and p.failed_reason == sentence and p.failed_message == 3
    assert attrs(events, "active_proposal")[0]["proposal_log"] == f"message 3 failed: {sentence}"
    assert model.member(c.state, DID) is None  # the first two messages' changes are gone
    assert model.anchor_types(c.state, "did:web:issuer.example") is None
    assert attrs(events, "registry_member") == []
    assert bank.balance(c.state, GOV) == 0 and c.problems() == []


def test_the_deposit_period_expires_drops_the_proposal_and_refunds() -> None:
    c = chain()
    m = submit(c, admit(), 1 * COM)
    d = MsgDeposit(1, BOB.address, 2 * COM)
    c.deliver(BOB, d)
    assert status(c) == "deposit_period" and bank.balance(c.state, GOV) == 3 * COM
    assert c.end_block(119) == []
    events = c.end_block(1)
    assert attrs(events, "inactive_proposal") == [
        {"proposal_id": "1", "proposal_result": "proposal_dropped"}]
    with pytest.raises(AppError) as e:
        queries.proposal(c.state, 1)
    assert e.value.code == NOT_FOUND and str(e.value) == "proposal 1 does not exist"
    assert bank.balance(c.state, PROPOSER.address) == 100 * COM - fee(m)
    assert bank.balance(c.state, BOB.address) == 50 * COM - fee(d)
    assert c.problems() == []


def test_deposits_reaching_the_minimum_start_the_voting_period() -> None:
    c = chain()
    submit(c, admit(), 0)
    c.end_block(30)
    events = c.deliver(BOB, MsgDeposit(1, BOB.address, 10 * COM))
    assert {"voting_period_start": "1"} in attrs(events, "proposal_deposit")
    p = store.must_get(c.state, 1)
    assert p.status == "voting_period" and p.voting_start_time == c.ctx.time
    assert p.voting_end_time == c.ctx.time + 60_000
    c.deliver(DAN, MsgDeposit(1, DAN.address, COM // 2))  # accepted while voting, as the SDK
    assert store.must_get(c.state, 1).total_deposit == 10 * COM + COM // 2
    assert c.problems() == []


def test_weighted_votes_split_power() -> None:
    c = chain()
    submit(c, admit())
    c.deliver(VALS[0], MsgVoteWeighted(1, VALS[0].address, ((YES, 600_000), (NO, 400_000))))
    c.deliver(VALS[1], MsgVoteWeighted(1, VALS[1].address,
                                       ((ABSTAIN, 500_000), (NO_WITH_VETO, 500_000))))
    vote(c, VALS[2], YES)
    c.end_block(60)
    p = store.must_get(c.state, 1)
    assert p.final_tally == {"yes": 16 * COM, "abstain": 5 * COM, "no": 4 * COM,
                             "no_with_veto": 5 * COM, "total_bonded": 40 * COM}
    assert p.status == "passed"  # yes 16 of 25 non-abstain; veto 5 of 30 < 33.4%


def test_a_delegator_overrides_its_validator_and_others_inherit() -> None:
    c = chain()
    c.source.delegate(DAN.address, VALS[0].address, 20 * COM)  # V1: 30 tokens
    c.source.delegate(EVE.address, VALS[1].address, 10 * COM)  # V2: 20 tokens
    submit(c, admit())
    vote(c, VALS[0], YES)
    vote(c, DAN, YES)
    vote(c, DAN, NO)  # a vote can be changed during the period
    vote(c, VALS[1], YES)  # Eve does not vote: her stake follows V2
    _, running = queries.tally(c.state, 1, c.source)
    expected = {"yes": 30 * COM, "abstain": 0, "no": 20 * COM, "no_with_veto": 0,
                "total_bonded": 70 * COM}
    assert running == {"proposal_id": 1, "status": "voting_period", **expected}
    c.end_block(60)
    p = store.must_get(c.state, 1)
    assert p.final_tally == expected and p.status == "passed"


def test_votes_outside_the_voting_period_are_refused() -> None:
    c = chain()
    submit(c, admit(), 0)
    for pid, sentence in ((1, "proposal 1 is not in its voting period: it is in its deposit "
                               "period"), (7, "proposal 7 does not exist")):
        with pytest.raises(AppError) as e:
            vote(c, VALS[0], YES, pid)
        assert str(e.value) == sentence
    c.deliver(BOB, MsgDeposit(1, BOB.address, 10 * COM))
    for v in VALS:
        vote(c, v, YES)
    c.end_block(60)
    with pytest.raises(AppError) as e:
        vote(c, VALS[0], NO)
    assert e.value.code == INVALID_REQUEST
    assert str(e.value) == "proposal 1 is not in its voting period: it passed"
    with pytest.raises(AppError) as e:
        c.deliver(BOB, MsgDeposit(1, BOB.address, COM))
    assert str(e.value) == "proposal 1 no longer takes deposits: it passed"


def test_a_deposit_too_small_is_refused() -> None:
    c = chain()
    sentence = "a deposit must be at least 100000 ucom (1% of the minimum deposit), not 99999 ucom"
    with pytest.raises(AppError) as e:
        submit(c, admit(), 99_999)
    assert e.value.code == INVALID_REQUEST and str(e.value) == sentence
    assert store.get(c.state, 1) is None  # the whole submission was refused
    submit(c, admit(), 0)
    with pytest.raises(AppError) as e:
        c.deliver(BOB, MsgDeposit(1, BOB.address, 99_999))
    assert str(e.value) == sentence
    with pytest.raises(AppError) as e:
        c.deliver(DAN, MsgDeposit(1, DAN.address, 2 * COM))
    assert str(e.value) == f"insufficient funds: {text(DAN)} has {COM - 4000} ucom, needs 2000000 ucom"
    assert c.problems() == []


def test_the_initial_deposit_minimum_is_a_parameter() -> None:
    c = Chain({PROPOSER.address: 100 * COM}, {"min_initial_deposit_ratio_ppm": 250_000})
    with pytest.raises(AppError) as e:
        submit(c, admit(), COM)
    assert str(e.value) == "the initial deposit must be at least 2500000 ucom, not 1000000 ucom"
