import hashlib

import pytest

from ledger.app import address
from ledger.app.errors import INVALID_ADDRESS, AppError
from ledger.crypto import PrivateKey

# BIP-173's valid and invalid bech32 test vectors.
VALID = ["A12UEL5L", "a12uel5l",
         "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
         "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
         "11" + "q" * 82 + "c8247j",
         "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w"]
INVALID = ["\x201nwldj5", "\x7f1axkwrx", "an84characterslonghumanreadablepartthatcontainsthenumber1"
            "andtheexcludedcharactersbio1569pvx", "pzry9x0s0muk", "1pzry9x0s0muk", "x1b4n0q5v",
            "li1dgmt3", "de1lg7wt\xff", "A1G7SGD8", "10a06t8", "1qzzfhee"]


@pytest.mark.parametrize("s", VALID)
def test_bip173_valid(s: str) -> None:
    assert address.bech32_decode(s) is not None


@pytest.mark.parametrize("s", INVALID)
def test_bip173_invalid(s: str) -> None:
    assert address.bech32_decode(s) is None


def test_address_is_cometbft_style_and_round_trips() -> None:
    k = PrivateKey.from_secret(b"x")
    assert address.of_pub_key(k.pub_key) == hashlib.sha256(k.pub_key).digest()[:20]
    t = address.to_text(k.address)
    assert t.startswith("com1") and len(t) == 42
    assert address.parse(t) == k.address
    assert address.parse(t.upper()) == k.address
    assert address.parse(t.encode()) == k.address
    assert address.parse(k.address) == k.address


def test_bad_addresses_read_as_one_sentence() -> None:
    k = PrivateKey.from_secret(b"x")
    t = address.to_text(k.address)
    flipped = t[:-1] + ("q" if t[-1] != "q" else "p")
    other_hrp = address.bech32_encode("cosmos", k.address)
    short = address.bech32_encode("com", k.address[:19])
    for bad in (flipped, other_hrp, short, "hello", ""):
        with pytest.raises(AppError) as e:
            address.parse(bad)
        assert e.value.code == INVALID_ADDRESS
        assert str(e.value) == f"{bad!r} is not an address (com1... in bech32)"


def test_module_addresses_are_sha256_of_the_name() -> None:
    assert address.module_address("fee_collector") == hashlib.sha256(b"fee_collector").digest()[:20]
