"""The RPC query paths of staking, distribution, slashing and mint: each answers JSON-able
data with the store key that proves it, and refuses what it cannot read in one sentence."""

from __future__ import annotations

import json

import pytest

from ledger.app import distribution, mint, slashing, staking
from ledger.app.errors import INVALID_ADDRESS, INVALID_REQUEST, NOT_FOUND, UNKNOWN_REQUEST, AppError
from ledger.app.staking.msgs import MsgDelegate
from tests.ledger.app.staking.chain import COM, Chain, cons_key, genesis_validator, key, text

ALICE, V1 = key("alice"), key("v1")


def chain() -> Chain:
    c = Chain({ALICE.address: 100 * COM, V1.address: 100 * COM},
              [genesis_validator("v1", 50 * COM)])
    c.deliver(ALICE, MsgDelegate(ALICE.address, V1.address, 10 * COM))
    c.block()
    c.block()
    return c


def test_every_path_answers_with_its_proving_key() -> None:
    c = chain()
    a, v1 = text(ALICE).encode(), text(V1).encode()
    cases = [
        (staking.queries.answer, "/staking/validators", b"bonded", b"stk/v/"),
        (staking.queries.answer, "/staking/validator", v1, b"stk/v/" + V1.address),
        (staking.queries.answer, "/staking/delegations", ALICE.address, b"stk/d/" + ALICE.address),
        (staking.queries.answer, "/staking/unbonding", a, b"stk/u/" + ALICE.address),
        (staking.queries.answer, "/staking/redelegations", a, b"stk/r/" + ALICE.address),
        (staking.queries.answer, "/staking/params", b"", b"params/staking"),
        (distribution.queries.answer, "/distribution/rewards", a, b"dst/del/" + ALICE.address),
        (distribution.queries.answer, "/distribution/commission", v1, b"dst/com/" + V1.address),
        (distribution.queries.answer, "/distribution/outstanding", v1, b"dst/out/" + V1.address),
        (distribution.queries.answer, "/distribution/withdraw_address", a,
         b"dst/wa/" + ALICE.address),
        (distribution.queries.answer, "/distribution/params", b"", b"params/distribution"),
        (slashing.queries.answer, "/slashing/signing_info", v1,
         b"slh/i/" + cons_key("v1").address),
        (slashing.queries.answer, "/slashing/signing_info",
         cons_key("v1").address.hex().encode(), b"slh/i/" + cons_key("v1").address),
        (slashing.queries.answer, "/slashing/params", b"", b"params/slashing"),
        (mint.answer, "/mint/minter", b"", b"mint/minter"),
        (mint.answer, "/mint/params", b"", b"params/mint"),
    ]
    for fn, path, data, key_ in cases:
        got_key, value = fn(c.state, path, data)  # type: ignore[operator]
        assert got_key == key_, path
        json.dumps(value)
    assert staking.queries.answer(c.state, "/staking/validator", v1)[1]["tokens"] == 60 * COM
    assert distribution.queries.answer(c.state, "/distribution/rewards", a)[1]["total"] > 0
    assert slashing.queries.answer(c.state, "/slashing/signing_info", v1)[1]["found"] is True
    assert staking.queries.answer(c.state, "/staking/pool", b"")[1]["bonded"] == 60 * COM


def test_bad_queries_are_refused_in_one_sentence() -> None:
    c = chain()
    for fn, path, data, code, sentence in [
            (staking.queries.answer, "/staking/validators", b"gone", INVALID_REQUEST,
             "unknown validator status 'gone' (known: bonded, unbonding, unbonded)"),
            (staking.queries.answer, "/staking/validator", text(ALICE).encode(), NOT_FOUND,
             f"{text(ALICE)} is not a validator"),
            (staking.queries.answer, "/staking/nope", b"", UNKNOWN_REQUEST, None),
            (distribution.queries.answer, "/distribution/rewards", b"xyz", INVALID_ADDRESS,
             "'xyz' is not an address (com1... in bech32)"),
            (slashing.queries.answer, "/slashing/signing_info", b"xyz", INVALID_ADDRESS,
             "'xyz' is neither an operator address (com1...) nor a consensus address "
             "(40 hex digits)"),
            (mint.answer, "/mint/nope", b"", UNKNOWN_REQUEST,
             "unknown query path '/mint/nope' (known: /mint/minter, /mint/params)")]:
        with pytest.raises(AppError) as e:
            fn(c.state, path, data)  # type: ignore[operator]
        assert e.value.code == code
        if sentence is not None:
            assert str(e.value) == sentence
