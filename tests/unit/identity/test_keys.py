"""The key store: permissions, passphrases, and refusal of anything doubtful (nothing written)."""

from __future__ import annotations

import os
import stat

import pytest

from connector.errors import ConnectorError, Reason
from connector.identity.keys import KeyStore, generate_key, key_from_jwk, verify_signature


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_create_and_open_round_trip(tmp_path):
    store = KeyStore.create(tmp_path / "keys")
    assert mode(tmp_path / "keys") == 0o700
    assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == ["ed25519.jwk", "p256.jwk"]
    assert all(mode(p) == 0o600 for p in (tmp_path / "keys").iterdir())
    again = KeyStore.open(tmp_path / "keys")
    assert (again.ed25519.kid, again.p256.kid) == (store.ed25519.kid, store.p256.kid)
    assert (again.ed25519.alg, again.ed25519.crv) == ("EdDSA", "Ed25519")
    assert (again.p256.alg, again.p256.crv) == ("ES256", "P-256")


def test_signatures_verify_with_the_public_jwk():
    for crv, alg in (("Ed25519", "EdDSA"), ("P-256", "ES256")):
        key = generate_key(crv)
        signature = key.sign(b"data")
        assert len(signature) == 64
        assert "d" not in key.public_jwk()
        assert verify_signature(key.public_jwk(), alg, b"data", signature)
        assert not verify_signature(key.public_jwk(), alg, b"datA", signature)
        assert not verify_signature(generate_key(crv).public_jwk(), alg, b"data", signature)


def test_kid_is_the_rfc7638_thumbprint():
    from jwcrypto import jwk

    key = generate_key("P-256")
    assert key.kid == jwk.JWK(**key.public_jwk()).thumbprint()
    assert key_from_jwk(key.private_jwk()).kid == key.kid
    assert key.private_jwk()["d"] not in repr(key)


def test_passphrase_round_trip_and_wrong_passphrase(tmp_path):
    store = KeyStore.create(tmp_path / "keys", passphrase="correct horse")
    text = (tmp_path / "keys" / "ed25519.jwk").read_text()
    assert text.count(".") == 4 and store.ed25519.private_jwk()["d"] not in text
    assert KeyStore.open(tmp_path / "keys", "correct horse").ed25519.kid == store.ed25519.kid
    with pytest.raises(ConnectorError, match="wrong passphrase") as info:
        KeyStore.open(tmp_path / "keys", "wrong")
    assert info.value.reason is Reason.KEYSTORE
    with pytest.raises(ConnectorError, match="passphrase is needed"):
        KeyStore.open(tmp_path / "keys")


def test_plain_store_with_a_passphrase_is_refused(tmp_path):
    KeyStore.create(tmp_path / "keys")
    with pytest.raises(ConnectorError, match="not encrypted"):
        KeyStore.open(tmp_path / "keys", "secret")


def test_create_over_an_existing_store_refuses_and_keeps_it(tmp_path):
    store = KeyStore.create(tmp_path / "keys")
    before = (tmp_path / "keys" / "ed25519.jwk").read_bytes()
    with pytest.raises(ConnectorError, match="already exists") as info:
        KeyStore.create(tmp_path / "keys")
    assert info.value.reason is Reason.KEYSTORE
    assert (tmp_path / "keys" / "ed25519.jwk").read_bytes() == before
    assert KeyStore.open(tmp_path / "keys").ed25519.kid == store.ed25519.kid
    assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == ["ed25519.jwk", "p256.jwk"]


def test_group_readable_key_file_is_refused(tmp_path):
    KeyStore.create(tmp_path / "keys")
    os.chmod(tmp_path / "keys" / "p256.jwk", 0o640)
    with pytest.raises(ConnectorError, match="accessible by group or others") as info:
        KeyStore.open(tmp_path / "keys")
    assert info.value.reason is Reason.KEYSTORE
    assert mode(tmp_path / "keys" / "p256.jwk") == 0o640  # reported, not silently "fixed"


@pytest.mark.parametrize(
    "content, message",
    [
        (b"{not json", "corrupted"),
        (b"[1, 2]", "corrupted"),
        (b"garbage", "corrupted"),
        (b'{"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}', "does not hold a private"),
        (b'{"kty": "OKP", "crv": "Ed25519", "x": "AA", "d": "AA"}', "corrupted"),
    ],
)
def test_corrupted_key_file_is_refused(tmp_path, content, message):
    KeyStore.create(tmp_path / "keys")
    path = tmp_path / "keys" / "ed25519.jwk"
    path.write_bytes(content)
    with pytest.raises(ConnectorError, match=message) as info:
        KeyStore.open(tmp_path / "keys")
    assert info.value.reason is Reason.KEYSTORE
    assert path.read_bytes() == content


def test_damaged_encrypted_file_is_refused(tmp_path):
    KeyStore.create(tmp_path / "keys", passphrase="pw")
    path = tmp_path / "keys" / "p256.jwk"
    head, rest = path.read_text()[:-8], path.read_text()[-8:]
    path.write_text(head + ("A" if rest[0] != "A" else "B") + rest[1:])
    with pytest.raises(ConnectorError, match="wrong passphrase or corrupted"):
        KeyStore.open(tmp_path / "keys", "pw")


def test_missing_store_and_missing_key(tmp_path):
    with pytest.raises(ConnectorError, match="no key store"):
        KeyStore.open(tmp_path / "nowhere")
    assert not (tmp_path / "nowhere").exists()
    KeyStore.create(tmp_path / "keys")
    (tmp_path / "keys" / "p256.jwk").unlink()
    with pytest.raises(ConnectorError, match="missing"):
        KeyStore.open(tmp_path / "keys")


def test_unsupported_curve():
    with pytest.raises(ConnectorError):
        generate_key("secp256k1")
