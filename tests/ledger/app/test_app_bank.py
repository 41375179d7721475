import pytest

from ledger.app import bank, invariants
from ledger.app.errors import INSUFFICIENT_FUNDS, UNAUTHORIZED, AppError
from ledger.app.state import DictReader, State
from ledger.encoding import encode
from tests.ledger.app.apphelpers import ALICE, BOB, CAROL, text


def funded(**balances: int) -> State:
    s = State(DictReader())
    total = 0
    for who, n in balances.items():
        key = {"alice": ALICE, "bob": BOB, "carol": CAROL}[who]
        s.set_int(bank.BALANCE + key.address, n)
        total += n
    s.set(bank.SUPPLY, encode({"genesis": total, "minted": 0, "burned": 0}))
    return s


def test_branches_write_or_vanish_and_items_merge_in_order() -> None:
    base = DictReader({b"a/1": b"x", b"a/3": b"y", b"b/1": b"z"})
    s = State(base)
    s.set(b"a/2", b"new")
    s.delete(b"a/3")
    assert list(s.items(b"a/")) == [(b"a/1", b"x"), (b"a/2", b"new")]
    br = s.branch()
    br.set(b"a/0", b"zero")
    br.delete(b"a/1")
    assert list(br.items(b"a/")) == [(b"a/0", b"zero"), (b"a/2", b"new")]
    assert s.get(b"a/0") is None  # not yet written
    br.write()
    assert list(s.items(b"a/")) == [(b"a/0", b"zero"), (b"a/2", b"new")]
    dropped = s.branch()
    dropped.set(b"a/9", b"gone")
    assert s.get(b"a/9") is None
    assert base.data[b"a/1"] == b"x"  # the base is never written


def test_send_moves_coins_and_says_so() -> None:
    s = funded(alice=100)
    events = bank.send(s, ALICE.address, BOB.address, 40)
    assert bank.balance(s, ALICE.address) == 60 and bank.balance(s, BOB.address) == 40
    assert [e.type for e in events] == ["coin_spent", "coin_received", "transfer"]
    assert {a.key: a.value for a in events[2].attributes} == {
        "recipient": text(BOB), "sender": text(ALICE), "amount": "40ucom"}
    bank.send(s, ALICE.address, BOB.address, 60)
    assert s.get(bank.BALANCE + ALICE.address) is None  # an emptied balance is deleted
    assert invariants.problems(s) == []


def test_insufficient_funds_never_goes_negative() -> None:
    s = funded(alice=10)
    with pytest.raises(AppError) as e:
        bank.send(s, ALICE.address, BOB.address, 11)
    assert e.value.code == INSUFFICIENT_FUNDS
    assert str(e.value) == f"insufficient funds: {text(ALICE)} has 10 ucom, needs 11 ucom"
    assert bank.balance(s, ALICE.address) == 10


@pytest.mark.parametrize("name", bank.MODULES)
def test_ordinary_sends_cannot_credit_module_accounts(name: str) -> None:
    s = funded(alice=100)
    m = bank.module(name)
    for attempt in (lambda: bank.send(s, ALICE.address, m, 5),
                    lambda: bank.multi_send(s, ALICE.address, 10,
                                            ((BOB.address, 5), (m, 5)))):
        with pytest.raises(AppError) as e:
            attempt()
        assert e.value.code == UNAUTHORIZED
        from ledger.app import address
        assert str(e.value) == (f"{address.to_text(m)} is a module account ({name}) "
                                f"and cannot receive sends")
    assert bank.balance(s, ALICE.address) == 100
    bank.transfer(s, ALICE.address, m, 5)  # internal moves may
    assert bank.balance(s, m) == 5


def test_multi_send_and_mint_and_burn_keep_supply() -> None:
    s = funded(alice=100)
    bank.multi_send(s, ALICE.address, 30, ((BOB.address, 10), (CAROL.address, 20)))
    assert [bank.balance(s, k.address) for k in (ALICE, BOB, CAROL)] == [70, 10, 20]
    bank.mint(s, bank.FEE_COLLECTOR, 1000)
    bank.burn(s, bank.FEE_COLLECTOR, 300)
    assert bank.supply_parts(s) == {"genesis": 100, "minted": 1000, "burned": 300}
    assert bank.supply(s) == 800 and invariants.problems(s) == []
    s.set_int(bank.BALANCE + BOB.address, 11)  # a corruption the check must see
    assert invariants.problems(s) == [
        "supply invariant broken: genesis + minted - burned is 800 ucom, the balances sum "
        "to 801 ucom"]
    s.set(bank.BALANCE + BOB.address, encode(-1))
    assert any("is not a positive integer" in p for p in invariants.problems(s))


