"""Building the node's self-description: inputs, unsigned credentials (SHACL) and signing."""

from __future__ import annotations

import pytest

from connector.errors import ConnectorError
from connector.identity.jose import verify_jwt
from connector.identity.proofs import verify_presentation
from connector.selfdescription import build
from connector.selfdescription.model import (
    REGISTRATION_TYPES,
    TERMS_HASH,
    Framework,
    Participant,
    RegistrationNumber,
)
from connector.selfdescription.parse import decode_jwt
from connector.selfdescription.service import VP_JWT, VP_LD, build_self_description
from tests.unit.selfdescription.conftest import DID, NOW
from vocab import jsonld

NUMBERS = {
    "vatID": "vatID:BE0762747721",
    "leiCode": "leiCode:969500KSV493XWY0PS33",
    "EORI": "EORI:BE0762747721",
    "EUID": "EUID:BEKBOBCE.0762747721",
    "taxID": "taxID:0762747721",
    "local": "local:0762.747.721",
}


def test_every_registration_type_is_covered():
    assert set(NUMBERS) == set(REGISTRATION_TYPES)


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("vatID:FR123", "vatID", "FR123"),
        ("VATID: FR123 ", "vatID", "FR123"),
        ("lei:x", None, None),
        ("EORI", None, None),
        ("euid:", None, None),
    ],
)
def test_registration_number_parsing(text, kind, value):
    if kind is None:
        with pytest.raises(ConnectorError, match="TYPE:VALUE"):
            RegistrationNumber.parse(text)
    else:
        assert RegistrationNumber.parse(text) == RegistrationNumber(kind, value)


@pytest.mark.parametrize(
    ("code", "canonical"),
    [("BE-BRU", "BE-BRU"), ("fr-idf", "FR-IDF"), ("FR-75", "FR-75C"), ("DE-BE", "DE-BE")],
)
def test_subdivision_codes_are_checked_against_the_iso_list(code, canonical):
    assert Participant.of("A", DID, code, "vatID:X1").subdivision == canonical


@pytest.mark.parametrize("code", ["FR", "XX-99", "FR-999", "Paris", ""])
def test_unknown_subdivision_codes_are_refused(code):
    with pytest.raises(ConnectorError, match="ISO 3166-2"):
        Participant.of("A", DID, code, "vatID:X1")


def test_participant_needs_a_name_and_a_did():
    with pytest.raises(ConnectorError):
        Participant.of(" ", DID, "BE-BRU", "vatID:X1")
    with pytest.raises(ConnectorError):
        Participant.of("A", "https://acme.example", "BE-BRU", "vatID:X1")


def test_base_url_comes_from_the_did_web():
    assert (
        Participant.of("A", "did:web:acme.example:org", "BE-BRU", "vatID:X").base_url
        == "https://acme.example/org"
    )
    assert (
        Participant.of("A", "did:web:127.0.0.1%3A8181", "BE-BRU", "vatID:X").base_url
        == "http://127.0.0.1:8181"
    )


@pytest.mark.parametrize("kind", list(NUMBERS))
def test_unsigned_loire_presentation_conforms_to_25_11_shapes(kind, shapes):
    p = Participant.of("ACME SA", DID, "FR-75", NUMBERS[kind])
    credentials = build.loire_credentials(p, now=NOW)
    vp = build.loire_presentation(p, [credentials[r] for r in build.ROLES], "urn:uuid:x")
    report = shapes.validate(jsonld.to_graph(vp), "gaiax-loire-25.11")
    assert report.conforms, report.results


def test_loire_credentials_carry_what_25_11_asks(participant):
    c = build.loire_credentials(participant, now=NOW)
    person = c[build.LEGAL_PERSON]["credentialSubject"]
    assert person["id"] == DID and person["type"] == "LegalPerson"
    assert person["registrationNumber"] == c[build.REGISTRATION_NUMBER]["credentialSubject"]["id"]
    assert person["legalAddress"]["countryCode"] == "BE"
    assert c[build.TERMS]["credentialSubject"]["gaiaxTermsAndConditions"] == TERMS_HASH
    assert (
        len({v["id"] for v in c.values()} | {v["credentialSubject"]["id"] for v in c.values()}) == 6
    )


def test_loire_development_namespace_variant_conforms(participant, shapes):
    credentials = build.loire_credentials(
        participant, now=NOW, framework=Framework.LOIRE_DEVELOPMENT
    )
    vp = build.loire_presentation(participant, list(credentials.values()), "urn:uuid:x")
    assert "https://w3id.org/gaia-x/development#" in vp["verifiableCredential"][0]["@context"]
    assert shapes.validate(jsonld.to_graph(vp), "gaiax-loire-25.11-development").conforms


@pytest.mark.parametrize("kind", [k for k in NUMBERS if k != "local"])
def test_unsigned_tagus_presentation_conforms_to_22_10_shapes(kind, shapes):
    p = Participant.of("ACME SA", DID, "BE-BRU", NUMBERS[kind])
    credentials = build.tagus_credentials(p, now=NOW)
    vp = build.tagus_presentation(p, [credentials[r] for r in build.ROLES])
    report = shapes.validate(jsonld.to_graph(vp), "gaiax-tagus-22.10")
    assert report.conforms, report.results


def test_tagus_cannot_express_a_local_number():
    with pytest.raises(ConnectorError, match="local"):
        build.tagus_credentials(Participant.of("A", DID, "BE-BRU", "local:1"), now=NOW)


def test_tagus_writes_fr_75c_as_the_code_it_replaced(shapes):
    """22.10's address pattern rejects FR-75C (letters and digits); gx-compliance's ISO list
    no longer has FR-75: no Paris code passes both, so 22.10 gets the legacy code."""
    p = Participant.of("A", DID, "FR-75", "vatID:FR1")
    credentials = build.tagus_credentials(p, now=NOW)
    address = credentials[build.LEGAL_PERSON]["credentialSubject"]["gx:legalAddress"]
    assert address == {"gx:countrySubdivisionCode": "FR-75"}
    vp = build.tagus_presentation(p, list(credentials.values()))
    assert shapes.validate(jsonld.to_graph(vp), "gaiax-tagus-22.10").conforms


async def test_signed_loire_self_description_is_a_vp_jwt_of_vc_jwts(participant, signer, resolver):
    sd = build_self_description(participant, signer, now=NOW)
    assert sd.media_type == VP_JWT and isinstance(sd.presentation, str)
    header, payload = decode_jwt(sd.presentation)
    assert header["typ"] == "vp+jwt" and header["alg"] == "ES256"
    assert payload["holder"] == DID
    envelopes = payload["verifiableCredential"]
    assert [e["type"] for e in envelopes] == ["EnvelopedVerifiableCredential"] * 3
    assert all(e["id"].startswith("data:application/vc+jwt,") for e in envelopes)
    verification = await verify_jwt(sd.presentation, resolver, now=NOW)
    assert verification.ok, verification.problems


async def test_signed_tagus_self_description_has_jws2020_proofs(participant, signer, resolver):
    sd = build_self_description(participant, signer, framework=Framework.TAGUS, now=NOW)
    assert sd.media_type == VP_LD and isinstance(sd.presentation, dict)
    proofs = [vc["proof"]["type"] for vc in sd.presentation["verifiableCredential"]]
    assert proofs == ["JsonWebSignature2020"] * 3
    verification = await verify_presentation(sd.presentation, resolver, now=NOW)
    assert verification.ok, verification.problems


def test_the_signer_must_be_the_participant(participant, store):
    from connector.identity.did import Signer

    other = Signer.for_store(store, "did:web:other.example", "P-256")
    with pytest.raises(ValueError):
        build_self_description(participant, other, now=NOW)
