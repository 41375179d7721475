"""The pass rule's edges (strict and non-strict comparisons as x/gov v1) and who counts."""

from __future__ import annotations

import pytest

from ledger.app.gov import store
from ledger.app.gov.params import GovParams
from ledger.app.gov.store import ABSTAIN, NO, YES
from ledger.app.gov.tally import Outcome, Tally, count, decide
from ledger.app.params import PPM
from tests.ledger.app.gov.govhelpers import COM, Chain, MemSource, key

P = GovParams()


def t(yes: int = 0, abstain: int = 0, no: int = 0, veto: int = 0, bonded: int = 1000) -> Tally:
    return Tally(yes * PPM, abstain * PPM, no * PPM, veto * PPM, bonded)


@pytest.mark.parametrize("tally, outcome", [
    (t(yes=10, bonded=0), Outcome(False, False, "no bonded tokens")),
    (t(yes=333), Outcome(False, False, "quorum not reached")),  # 33.3% < 33.4%
    (t(yes=334), Outcome(True, False, "threshold reached")),  # exactly the quorum is enough
    (t(abstain=900), Outcome(False, False, "every vote abstained")),
    (t(yes=500, no=500), Outcome(False, False, "threshold not reached")),  # yes must exceed 50%
    (t(yes=501, no=500), Outcome(True, False, "threshold reached")),
    (t(yes=666, veto=334), Outcome(True, False, "threshold reached")),  # veto must exceed 33.4%
    (t(yes=665, veto=335), Outcome(False, True, "vetoed")),
    (t(yes=300, abstain=300, veto=301), Outcome(False, True, "vetoed")),  # abstain counts here
    (t(yes=101, abstain=800, no=100), Outcome(True, False, "threshold reached")),  # not here
])
def test_the_pass_rule(tally: Tally, outcome: Outcome) -> None:
    assert decide(tally, P) == outcome


def test_burning_on_a_missed_quorum_or_a_veto_follows_the_parameters() -> None:
    q = GovParams(burn_vote_quorum=True, burn_vote_veto=False)
    assert decide(t(yes=100), q) == Outcome(False, True, "quorum not reached")
    assert decide(t(yes=400, veto=600), q) == Outcome(False, False, "vetoed")


class PartlyBonded(MemSource):
    def __init__(self, unbonded: bytes) -> None:
        super().__init__()
        self.unbonded = unbonded

    def bonded_validators(self) -> list:  # type: ignore[type-arg]
        return [v for v in self.vals.values() if v.operator != self.unbonded]

    def total_bonded(self) -> int:
        return sum(v.tokens for v in self.bonded_validators())


def test_only_delegations_to_bonded_validators_count_and_power_follows_the_exchange_rate() -> None:
    v1, v2, dan = key("v1"), key("v2"), key("dan")
    src = PartlyBonded(v2.address)
    src.delegate(v1.address, v1.address, 10 * COM)
    src.delegate(v2.address, v2.address, 10 * COM)
    src.delegate(dan.address, v1.address, 5 * COM)
    src.delegate(dan.address, v2.address, 5 * COM)
    v = src.vals[v1.address]  # a slash: tokens fall, shares stay
    src.vals[v1.address] = type(v)(v.operator, v.tokens * 9 // 10, v.delegator_shares)
    c = Chain({})
    store.put(c.state, store.Proposal(1, [], "t", "s", "", dan.address, store.VOTING_PERIOD,
                                      0, 0))
    c.state.set(store.vote_key(1, dan.address), store.encode_vote(((NO, PPM),)))
    c.state.set(store.vote_key(1, v1.address), store.encode_vote(((YES, 500_000),
                                                                   (ABSTAIN, 500_000))))
    c.state.set(store.vote_key(1, v2.address), store.encode_vote(((YES, PPM),)))
    got = count(c.state, 1, src)
    # V1: 15 com of shares worth 13.5 com; Dan's 5 com of shares are worth 4.5 com.
    assert got.to_obj() == {"yes": 4_500_000, "abstain": 4_500_000, "no": 4_500_000,
                            "no_with_veto": 0, "total_bonded": 13_500_000}
