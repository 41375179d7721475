"""The SDK minter over integers: off by default; when on, inflation moves toward the bonded
goal each block within its bounds, and the block provision is minted to the fee collector,
then shared by distribution in the same block."""

from __future__ import annotations

import pytest

from ledger.app import bank, mint
from ledger.app.errors import AppError
from ledger.app.mint import DEC, MintParams, next_inflation
from ledger.app.params import PPM
from tests.ledger.app.staking.chain import COM, Chain, attrs, genesis_validator, key

V1, ALICE = key("v1"), key("alice")
YEAR = 6_311_520


def chain(**params: object) -> Chain:
    return Chain({V1.address: 100 * COM, ALICE.address: 900 * COM},
                 [genesis_validator("v1", 100 * COM)], mint_params=dict(params))


def test_minting_is_off_by_default() -> None:
    c = chain()
    supply = bank.supply(c.state)
    events = c.block()
    assert attrs(events, "mint") == []
    assert bank.supply(c.state) == supply
    assert bank.supply_parts(c.state)["minted"] == 0


def test_the_block_provision_is_minted_and_shared_at_the_same_block() -> None:
    c = chain(enabled=True)
    supply = bank.supply(c.state)  # 1000 com, 100 bonded: 10% < 67%, inflation rises
    events = c.begin()
    change = (DEC - (DEC // 10) * PPM // 670_000) * 130_000 // PPM
    inflation = 130_000 * DEC // PPM + change // YEAR
    provision = inflation * supply // DEC // YEAR
    assert attrs(events, "mint") == [{"bonded_ratio_ppm": "100000", "inflation": str(inflation),
                                      "annual_provisions": str(inflation * supply // DEC),
                                      "amount": f"{provision}ucom"}]
    assert provision == 20  # 13% of 1000 com a year is 20.6 ucom a block
    assert bank.supply_parts(c.state)["minted"] == provision
    assert bank.balance(c.state, bank.module(bank.FEE_COLLECTOR)) == 0  # shared already
    assert mint.query_minter(c.state)[0] == b"mint/minter"
    assert mint.query_minter(c.state)[1]["inflation_ppm"] == 130_000
    c.end()
    assert c.problems() == []


def test_inflation_moves_toward_the_goal_within_its_bounds() -> None:
    p = MintParams(enabled=True)
    low, high = 70_000 * DEC // PPM, 200_000 * DEC // PPM
    assert next_inflation(high, 0, 100, p) == high  # nothing bonded: rises, capped
    assert next_inflation(low, 100, 100, p) == low  # all bonded: falls, floored
    mid = 130_000 * DEC // PPM
    assert next_inflation(mid, 67, 100, p) == mid  # at the goal: unchanged
    assert next_inflation(mid, 90, 100, p) < mid < next_inflation(mid, 10, 100, p)


def test_mint_params_and_genesis_are_validated() -> None:
    with pytest.raises(AppError) as e:
        MintParams.from_obj({"inflation_min_ppm": 300_000})
    assert str(e.value) == "mint parameter inflation_min_ppm exceeds inflation_max_ppm"
    with pytest.raises(AppError) as e:
        MintParams.from_obj({"enabled": 1})
    assert str(e.value) == "mint parameter enabled must be true or false"
    with pytest.raises(AppError) as e:
        MintParams.from_obj({"blocks_per_year": 0})
    assert str(e.value) == "mint parameter blocks_per_year must be positive"
    c = chain()
    with pytest.raises(AppError) as e:
        mint.genesis(c.state, {"inflation_ppm": 2 * PPM}, c.ctx)
    assert str(e.value) == "mint inflation_ppm must be an integer from 0 to 1000000"


def test_governance_can_turn_minting_on() -> None:
    from ledger.app.gov import ParamModuleOf

    c = chain()
    module = ParamModuleOf(mint.load_params, MintParams.from_obj, mint.save_params)
    module.save(c.state, module.from_obj({"enabled": True}, module.load(c.state)))
    assert attrs(c.block(), "mint") != []
    assert c.problems() == []
