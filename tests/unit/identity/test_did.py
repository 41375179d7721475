"""did:web <-> URL, did:key encoding, and the node's DID document."""

from __future__ import annotations

import pytest

from connector.errors import ConnectorError
from connector.identity.did import (
    Signer,
    credential_service,
    did_key_document,
    did_key_from_jwk,
    did_web_document,
    did_web_from_url,
    dsp_service,
    public_jwk_of_method,
    url_from_did_web,
)
from connector.identity.keys import generate_key


@pytest.mark.parametrize(
    "url, did",
    [
        ("http://127.0.0.1:8181", "did:web:127.0.0.1%3A8181"),
        ("https://example.com", "did:web:example.com"),
        ("https://example.com/", "did:web:example.com"),
        ("https://Example.com/org/a", "did:web:example.com:org:a"),
        ("https://example.com:8443/.well-known/did.json", "did:web:example.com%3A8443"),
        ("http://[::1]:8181", "did:web:[%3A%3A1]%3A8181"),
    ],
)
def test_did_web_from_url(url, did):
    assert did_web_from_url(url) == did


@pytest.mark.parametrize(
    "did, url",
    [
        ("did:web:127.0.0.1%3A8181", "http://127.0.0.1:8181/.well-known/did.json"),
        ("did:web:localhost%3A9000", "http://localhost:9000/.well-known/did.json"),
        ("did:web:example.com", "https://example.com/.well-known/did.json"),
        ("did:web:example.com%3A8443:org:a", "https://example.com:8443/org/a/did.json"),
        ("did:web:127.0.0.2", "http://127.0.0.2/.well-known/did.json"),
        ("did:web:[%3A%3A1]%3A8181", "http://[::1]:8181/.well-known/did.json"),
        ("did:web:%5B%3A%3A1%5D", "http://[::1]/.well-known/did.json"),
    ],
)
def test_url_from_did_web(did, url):
    assert url_from_did_web(did) == url


@pytest.mark.parametrize(
    "did", ["did:key:z6Mk", "did:web:", "did:web:exa mple.com", "did:web:a.com:..:x",
            "did:web:a.com%2Fevil", "did:web:user%40host.com"]
)
def test_bad_did_web(did):
    with pytest.raises(ConnectorError):
        url_from_did_web(did)


def test_did_key_known_vector():
    # from the did:key method specification (Ed25519 test vector)
    did = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
    document = did_key_document(did)
    method = document["verificationMethod"][0]
    assert method["id"] == did + "#z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
    assert method["type"] == "Ed25519VerificationKey2020"
    assert did_key_from_jwk(public_jwk_of_method(method)) == did
    assert document["assertionMethod"] == [method["id"]]


def test_did_key_round_trip_p256():
    key = generate_key("P-256")
    did = did_key_from_jwk(key.public_jwk())
    assert did.startswith("did:key:zDn")
    method = did_key_document(did)["verificationMethod"][0]
    assert method["type"] == "JsonWebKey2020"
    assert public_jwk_of_method(method) == key.public_jwk()


def test_did_key_rejects_garbage():
    for did in ("did:key:zzzz", "did:key:abc", "did:key:z" + "1" * 40):
        with pytest.raises(ConnectorError):
            did_key_document(did)


def test_did_web_document(node_store):
    did = "did:web:example.com"
    services = [dsp_service(did, "https://example.com/"),
                credential_service(did, "https://example.com/api/presentation")]
    document = did_web_document(did, node_store, services)
    assert document["id"] == did
    ids = [m["id"] for m in document["verificationMethod"]]
    assert ids == [f"{did}#key-ed25519", f"{did}#key-p256"]
    assert document["authentication"] == ids and document["assertionMethod"] == ids
    ed, p256 = document["verificationMethod"]
    assert ed["type"] == "Ed25519VerificationKey2020" and ed["publicKeyMultibase"].startswith("z6Mk")
    assert public_jwk_of_method(ed) == node_store.ed25519.public_jwk()
    assert p256["type"] == "JsonWebKey2020" and "d" not in p256["publicKeyJwk"]
    assert document["service"][0] == {
        "id": f"{did}#dsp", "type": "DataService",
        "serviceEndpoint": "https://example.com/.well-known/dspace-version"}
    assert document["service"][1]["type"] == "CredentialService"
    with pytest.raises(ConnectorError):
        did_web_document(did, node_store, [{"id": "x"}])


def test_signer_did():
    key = generate_key("Ed25519")
    signer = Signer.for_did_key(key)
    assert signer.did == did_key_from_jwk(key.public_jwk())
    assert signer.verification_method.startswith(signer.did + "#z6Mk")
    assert Signer(key, "did:web:a.com#key-ed25519").did == "did:web:a.com"


def test_private_jwk_in_a_document_is_refused():
    key = generate_key("P-256")
    with pytest.raises(ConnectorError, match="private"):
        public_jwk_of_method({"id": "x", "publicKeyJwk": key.private_jwk()})
