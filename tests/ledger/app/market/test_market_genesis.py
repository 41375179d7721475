"""The "market" genesis section and the market's parameters (governance-changeable)."""

from __future__ import annotations

import json

import pytest

from ledger.app import gov
from ledger.app.blockctx import BlockContext
from ledger.app.errors import AppError
from ledger.app.genesis import load
from ledger.app.market.params import MarketParams
from ledger.app.market.params import load as load_params
from ledger.app.state import DictReader, State
from tests.ledger.app.apphelpers import new_app, run_block


def test_the_section_sets_the_parameters_and_the_app_serves_them() -> None:
    state = State(DictReader())
    load({"market": {"params": {"extraction_bps": 500}}}, state, BlockContext(1, 0, "c"))
    assert load_params(state) == MarketParams(extraction_bps=500)
    app = new_app({"market": {"params": {"extraction_bps": 500, "unbonding_blocks": 3}}})
    run_block(app, [])
    res = app.query("/market/params", b"")
    assert res.code == 0 and res.key == MarketParams.key()
    assert json.loads(res.value) == {**MarketParams().to_obj(), "extraction_bps": 500,
                                     "unbonding_blocks": 3}
    assert "market" in gov.PARAM_MODULES


@pytest.mark.parametrize("section, sentence", [
    ({"listings": []}, 'genesis app_state: market: the market genesis section is '
                       '{"params": {...}}'),
    ({"params": {"curator_bps": 10_001}}, "genesis app_state: market parameter "
                                           "curator_bps must be at most 10000"),
    ({"params": {"burn_bps": 0}}, "genesis app_state: market parameters burn_bps, "
                                  "community_bps and validators_bps must sum to 10000"),
    ({"params": {"max_contributors": 0}}, "genesis app_state: market parameter "
                                          "max_contributors must be positive"),
    ({"params": {"fee": 1}}, "genesis app_state: market: unknown market parameter 'fee'"),
])
def test_a_bad_section_is_refused_with_one_sentence(section: object, sentence: str) -> None:
    with pytest.raises(AppError) as e:
        load({"market": section}, State(DictReader()), BlockContext(1, 0, "c"))
    assert str(e.value) == sentence


def test_the_defaults_are_the_documented_ones() -> None:
    assert MarketParams().to_obj() == {
        "extraction_bps": 300, "burn_bps": 2000, "community_bps": 4000, "validators_bps": 4000,
        "curator_bps": 1000, "min_provider_stake": 0, "unbonding_blocks": 20,
        "max_contributors": 16, "max_curators": 100}
    assert json.dumps(MarketParams().to_obj())  # JSON-able as /market params answers
