"""Governance queries: answers, the keys that prove them, and the invariants."""

from __future__ import annotations

import pytest

from ledger.app import bank
from ledger.app.errors import INVALID_REQUEST, NOT_FOUND, UNKNOWN_REQUEST, AppError
from ledger.app.gov import problems, queries
from ledger.app.gov.msgs import MsgDeposit, MsgSubmitProposal, MsgVote, MsgVoteWeighted
from ledger.app.gov.store import NO, YES
from ledger.app.params import PPM
from tests.ledger.app.gov.govhelpers import COM, GOV, Chain, key, text

ALICE, BOB = key("alice"), key("bob")


def chain() -> Chain:
    c = Chain({ALICE.address: 50 * COM, BOB.address: 50 * COM}, {"voting_period": 60})
    c.source.delegate(ALICE.address, ALICE.address, 10 * COM)
    c.source.delegate(BOB.address, BOB.address, 30 * COM)
    c.deliver(ALICE, MsgSubmitProposal(ALICE.address, (), 4 * COM, "One", "first", "m"))
    c.deliver(BOB, MsgDeposit(1, BOB.address, 6 * COM))
    c.deliver(ALICE, MsgSubmitProposal(ALICE.address, (), 0, "Two", "second", ""))
    c.deliver(ALICE, MsgVote(1, ALICE.address, ((YES, PPM),)))
    c.deliver(BOB, MsgVoteWeighted(1, BOB.address, ((YES, 250_000), (NO, 750_000))))
    c.end_block(1)  # committed: answers come from the store
    return c


def proven(c: Chain, key: bytes) -> None:
    """The key is in the committed store and the store proves it."""
    value, proof = c.store.prove(key, c.ctx.height)
    assert value is not None and value == c.state.get(key) and proof


def test_proposals_and_one_proposal() -> None:
    c = chain()
    key, ans = queries.proposals(c.state)
    assert key == b"gov/p/" and [p["title"] for p in ans["proposals"]] == ["One", "Two"]
    _, ans = queries.proposals(c.state, "deposit_period")
    assert [p["id"] for p in ans["proposals"]] == [2]
    key, p = queries.proposal(c.state, 1)
    assert key == b"gov/p/" + (1).to_bytes(8, "big")
    proven(c, key)
    assert (p["status"], p["proposer"], p["total_deposit"], p["metadata"]) == (
        "voting_period", text(ALICE), 10 * COM, "m")
    with pytest.raises(AppError) as e:
        queries.proposals(c.state, "open")
    assert (e.value.code, str(e.value)) == (
        INVALID_REQUEST, "unknown proposal status 'open' (known: deposit_period, "
                         "voting_period, passed, rejected, failed)")


def test_votes_deposits_and_the_running_tally() -> None:
    c = chain()
    key, ans = queries.votes(c.state, 1)
    assert key == b"gov/v/" + (1).to_bytes(8, "big")
    assert sorted(ans["votes"], key=lambda v: str(v["voter"])) == sorted([
        {"voter": text(ALICE), "option": "yes", "options": [{"option": "yes", "weight": PPM}]},
        {"voter": text(BOB), "option": "yes:250000,no:750000",
         "options": [{"option": "yes", "weight": 250_000}, {"option": "no", "weight": 750_000}]},
    ], key=lambda v: str(v["voter"]))
    key, one = queries.vote(c.state, 1, BOB.address)
    proven(c, key)
    assert one["option"] == "yes:250000,no:750000"
    with pytest.raises(AppError) as e:
        queries.vote(c.state, 2, BOB.address)
    assert (e.value.code, str(e.value)) == (NOT_FOUND, f"{text(BOB)} has not voted on proposal 2")
    key, ans = queries.deposits(c.state, 1)
    in_key_order = sorted([(ALICE.address, 4 * COM), (BOB.address, 6 * COM)])
    assert ans == {"proposal_id": 1, "total": 10 * COM, "deposits": [
        {"depositor": text(a), "amount": n} for a, n in in_key_order]}
    _, t = queries.tally(c.state, 1, c.source)
    assert t == {"proposal_id": 1, "status": "voting_period", "yes": 10 * COM + 7_500_000,
                 "abstain": 0, "no": 22_500_000, "no_with_veto": 0, "total_bonded": 40 * COM}
    _, t = queries.tally(c.state, 2, c.source)
    assert (t["status"], t["yes"]) == ("deposit_period", 0)
    c.end_block(60)
    _, t = queries.tally(c.state, 1, c.source)  # the final tally, stored with the proposal
    assert (t["status"], t["no"]) == ("rejected", 22_500_000)


def test_params_and_answer_routing() -> None:
    c = chain()
    key, p = queries.params(c.state)
    assert key == b"params/gov" and p["voting_period"] == 60 and p["min_deposit"] == 10 * COM
    proven(c, key)
    assert queries.answer(c.state, "/gov/proposal", b"2", c.source)[1]["title"] == "Two"
    assert queries.answer(c.state, "/gov/vote", f"1/{text(ALICE)}".encode(),
                          c.source)[1]["option"] == "yes"
    assert len(queries.answer(c.state, "/gov/proposals", b"", c.source)[1]["proposals"]) == 2
    assert queries.answer(c.state, "/gov/upgrade", b"", c.source)[1] == {"plan": None}
    for path, data, code, sentence in (
            ("/gov/proposal", b"x1", INVALID_REQUEST, "'x1' is not a proposal id"),
            ("/gov/proposal", b"9", NOT_FOUND, "proposal 9 does not exist"),
            ("/gov/nope", b"", UNKNOWN_REQUEST, None)):
        with pytest.raises(AppError) as e:
            queries.answer(c.state, path, data, c.source)
        assert e.value.code == code and (sentence is None or str(e.value) == sentence)


def test_the_invariants_notice_deposits_that_do_not_add_up() -> None:
    c = chain()
    assert problems(c.state) == []
    c.state.set_int(bank.BALANCE + GOV, 11 * COM)
    assert problems(c.state) == [
        "the gov module account holds 11000000 ucom, the deposits sum to 10000000 ucom"]
    c.state.delete(b"gov/d/" + (1).to_bytes(8, "big") + BOB.address)
    assert "proposal 1 counts 10000000 ucom of deposits, holds 4000000 ucom" in problems(c.state)
