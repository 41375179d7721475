"""The modules as the application runs them: what a Byzantine proposer could put in a block
past CheckTx is still refused, no transaction can make FinalizeBlock raise, and governance
parameters that would overflow store keys are refused."""

from __future__ import annotations

import pytest

from ledger.abci import RequestInitChain
from ledger.app import client, modules
from ledger.app.app import LedgerApp
from ledger.app.errors import INTERNAL, INVALID_REQUEST, AppError
from ledger.app.gov.msgs import MsgDeposit, MsgVote
from ledger.app.gov.store import YES
from ledger.app.staking.msgs import MsgDelegate, MsgRedelegate
from ledger.app.store import VersionedStore
from tests.ledger.app.apphelpers import ALICE, BOB, CHAIN, VAL1, new_app, run_block, staked, text


def _staked_app() -> LedgerApp:
    return new_app({"balances": {text(ALICE): 10**12, text(VAL1): 10**9},
                    "staking": {"validators": [staked(VAL1)]}})


def test_a_message_checktx_refuses_is_refused_in_the_block_too() -> None:
    app = _staked_app()
    d = client.sign(ALICE, CHAIN, 0, [MsgDelegate(ALICE.address, VAL1.address, 10**8)])
    selfmove = client.sign(ALICE, CHAIN, 1, [MsgRedelegate(ALICE.address, VAL1.address,
                                                           VAL1.address, 10**7)])
    assert run_block(app, [d]).tx_results[0].code == 0
    refused = app.check_tx(selfmove)
    res = run_block(app, [selfmove]).tx_results[0]  # as a Byzantine proposer would include it
    assert refused.code == res.code == INVALID_REQUEST and res.log == refused.log
    assert "same validator" in res.log


def test_a_proposal_id_beyond_the_store_keys_is_refused_not_a_halt() -> None:
    app = _staked_app()
    for i, m in enumerate((MsgVote(1 << 64, ALICE.address, ((YES, 1_000_000),)),
                           MsgDeposit(1 << 64, ALICE.address, 10**6))):
        tx = client.sign(ALICE, CHAIN, i, [m])
        assert app.check_tx(tx).log == "proposal_id must be below 2^63"
        res = run_block(app, [tx]).tx_results[0]
        assert (res.code, res.log) == (INVALID_REQUEST, "proposal_id must be below 2^63")
    assert app.invariant_problems() == []


def test_an_unforeseen_exception_in_a_handler_fails_the_message_not_the_chain(
        monkeypatch: pytest.MonkeyPatch) -> None:
    app = new_app()
    parser, check, _ = modules.ROUTES["bank/send"][1]

    def broken(*_: object) -> list[object]:
        raise OverflowError("int too big to convert")

    monkeypatch.setitem(modules.ROUTES, "bank/send", ("bank", (parser, check, broken)))
    res = run_block(app, [client.send(ALICE, CHAIN, 0, text(BOB), 5)]).tx_results[0]
    assert (res.code, res.log) == (INTERNAL, "bank/send failed unexpectedly (OverflowError)")
    assert app.invariant_problems() == []  # the fee was paid, nothing else moved


@pytest.mark.parametrize("section,said", [
    ({"staking": {"params": {"unbonding_time": 1 << 60}}},
     "staking parameter unbonding_time must be at most 315360000"),
    ({"slashing": {"params": {"signed_blocks_window": 10**9}}},
     "slashing parameter signed_blocks_window must be at most 1000000"),
    ({"gov": {"params": {"voting_period": 1 << 60}}},
     "gov parameter voting_period must be at most 315360000 seconds (ten years)"),
])
def test_periods_and_windows_that_would_overflow_are_refused(section: dict[str, object],
                                                             said: str) -> None:
    app = LedgerApp(VersionedStore.open(None))
    with pytest.raises(AppError) as e:
        app.init_chain(RequestInitChain(0, CHAIN, (), section, 1))
    assert str(e.value).endswith(said)
