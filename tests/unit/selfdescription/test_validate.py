"""validate_self_description on our own documents, on tampered ones and on bad input."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest

from connector.identity.did import Signer
from connector.identity.jose import issue_vc_jwt, issue_vp_jwt
from connector.identity.keys import generate_key
from connector.selfdescription import build
from connector.selfdescription import report as r
from connector.selfdescription.model import TERMS_HASH_DEPRECATED, Framework, Participant
from connector.selfdescription.parse import decode_jwt
from connector.selfdescription.service import build_self_description
from connector.selfdescription.validate import validate_self_description
from tests.unit.selfdescription.conftest import DID, NOW


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _vp_payload(token: str) -> dict:
    return decode_jwt(token)[1]


async def _check(doc, shapes, resolver=None, **kw):
    return await validate_self_description(doc, resolver, now=NOW, shapes=shapes, **kw)


async def test_our_loire_self_description_conforms(participant, signer, resolver, shapes):
    sd = build_self_description(participant, signer, now=NOW)
    report = await _check(sd.presentation, shapes, resolver)
    assert report.conforms, report.render()
    assert report.framework == "gaiax-loire-25.11" and report.credentials == 3
    assert report.shacl is not None and report.shacl.conforms


async def test_our_tagus_self_description_conforms(participant, signer, resolver, shapes):
    sd = build_self_description(participant, signer, framework=Framework.TAGUS, now=NOW)
    report = await _check(json.dumps(sd.presentation), shapes, resolver)
    assert report.conforms, report.render()
    assert report.framework == "gaiax-tagus-22.10"


async def test_a_single_vc_jwt_validates_on_its_own(participant, signer, resolver, shapes):
    sd = build_self_description(participant, signer, now=NOW)
    report = await _check(sd.signed[build.TERMS], shapes, resolver)
    assert report.conforms, report.render()


async def test_did_key_needs_no_resolver(shapes):
    signer = Signer.for_did_key(generate_key("P-256"))
    p = Participant.of(
        "Tool", signer.did, "BE-BRU", "vatID:BE0762747721", base_url="https://tool.example"
    )
    sd = build_self_description(p, signer, now=NOW)
    report = await _check(sd.presentation, shapes)
    assert report.conforms, report.render()


async def test_did_web_without_resolver_is_unverifiable(participant, signer, shapes):
    sd = build_self_description(participant, signer, now=NOW)
    report = await _check(sd.presentation, shapes)
    assert r.SIGNATURE in report.checks() and not report.conforms
    assert any("cannot be resolved offline" in p.message for p in report.problems)
    assert r.SHACL not in report.checks()


async def test_tampered_enveloped_credential_fails_its_signature(
    participant, signer, resolver, shapes
):
    sd = build_self_description(participant, signer, now=NOW)
    payload = _vp_payload(sd.presentation)
    token = payload["verifiableCredential"][0]["id"].split(",", 1)[1]
    head, body, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    claims["credentialSubject"]["name"] = "Someone Else SA"
    payload["verifiableCredential"][0]["id"] = (
        f"data:application/vc+jwt,{head}.{_b64(claims)}.{sig}"
    )
    forged = issue_vp_jwt(payload, signer)  # the holder re-signs the VP, not the credential
    report = await _check(forged, shapes, resolver)
    assert not report.conforms and r.SIGNATURE in report.checks()
    assert report.shacl is not None and report.shacl.conforms  # still well-formed


async def test_tampered_tagus_credential_fails_its_proof(participant, signer, resolver, shapes):
    sd = build_self_description(participant, signer, framework=Framework.TAGUS, now=NOW)
    vp = json.loads(json.dumps(sd.presentation))
    vp["verifiableCredential"][0]["credentialSubject"]["gx:legalName"] = "Someone Else SA"
    report = await _check(vp, shapes, resolver)
    assert r.SIGNATURE in report.checks() and not report.conforms


async def test_malformed_json(shapes):
    report = await _check('{"@context": ', shapes)
    assert [p.check for p in report.problems] == [r.INPUT]
    assert "not valid JSON" in report.problems[0].message


@pytest.mark.parametrize("text", ["[1, 2]", '"just a string"', "a.b.c", "x" * (3 * 1024 * 1024)])
async def test_other_unusable_input(text, shapes):
    report = await _check(text, shapes)
    assert not report.conforms and report.problems[0].check == r.INPUT


async def test_unknown_remote_context_is_not_fetched(shapes):
    doc = {
        "@context": ["https://www.w3.org/2018/credentials/v1", "https://evil.example/ctx.jsonld"],
        "type": ["VerifiableCredential"],
        "issuer": DID,
        "credentialSubject": {"id": DID},
    }
    report = await _check(doc, shapes)
    assert [p.check for p in report.problems] == [r.JSON_LD]
    assert "https://evil.example/ctx.jsonld" in report.problems[0].message


async def test_malformed_json_ld(shapes):
    report = await _check({"@context": {"@version": 2.0}, "@id": "x"}, shapes)
    assert report.problems[0].check == r.JSON_LD


async def test_wrong_subdivision_code_tagus(participant, signer, resolver, shapes):
    creds = build.tagus_credentials(participant, now=NOW)
    creds[build.LEGAL_PERSON]["credentialSubject"]["gx:legalAddress"][
        "gx:countrySubdivisionCode"
    ] = "XX-99"
    vp = build.tagus_presentation(participant, list(creds.values()))
    report = await _check(vp, shapes, verify_signatures=False)
    assert report.shacl is not None and report.shacl.conforms  # the 22.10 pattern accepts it
    bad = report.by_check(r.COUNTRY_CODE)
    assert (
        len(bad) == 1
        and "XX-99" in bad[0].message
        and bad[0].path.endswith("countrySubdivisionCode")
    )


async def test_paris_tagus_self_description_conforms_with_a_warning(signer, resolver, shapes):
    p = Participant.of("ACME SA", DID, "FR-75", "vatID:FR11123456782")
    sd = build_self_description(p, signer, framework=Framework.TAGUS, now=NOW)
    report = await _check(sd.presentation, shapes, resolver)
    assert report.conforms, report.render()
    warnings = report.by_check(r.COUNTRY_CODE)
    assert (
        warnings
        and {w.severity for w in warnings} == {"Warning"}
        and "FR-75C" in warnings[0].message
    )
    assert "! [country-code]" in report.render()


async def test_wrong_country_code_loire(participant, shapes):
    creds = build.loire_credentials(participant, now=NOW)
    creds[build.LEGAL_PERSON]["credentialSubject"]["legalAddress"]["countryCode"] = "XX"
    vp = build.loire_presentation(participant, list(creds.values()), "urn:uuid:1")
    report = await _check(vp, shapes, verify_signatures=False)
    assert {r.SHACL, r.COUNTRY_CODE} <= report.checks()
    assert report.shacl is not None
    assert report.shacl.paths() == {"https://w3id.org/gaia-x/2511#countryCode"}


async def test_legal_person_without_registration_number_credential(
    participant, signer, resolver, shapes
):
    creds = build.loire_credentials(participant, now=NOW)
    tokens = [issue_vc_jwt(creds[role], signer) for role in (build.LEGAL_PERSON, build.TERMS)]
    vp = issue_vp_jwt(build.loire_presentation(participant, tokens, "urn:uuid:2"), signer)
    report = await _check(vp, shapes, resolver)
    missing = report.by_check(r.REQUIRED_CREDENTIAL)
    assert missing and "registration number" in missing[0].message
    assert not report.conforms


async def test_legal_person_without_terms_and_conditions(participant, shapes):
    creds = build.loire_credentials(participant, now=NOW)
    vp = build.loire_presentation(
        participant, [creds[build.LEGAL_PERSON], creds[build.REGISTRATION_NUMBER]], "urn:uuid:3"
    )
    report = await _check(vp, shapes, verify_signatures=False)
    assert report.shacl is not None and report.shacl.conforms
    assert any("gx:Issuer" in p.message for p in report.by_check(r.REQUIRED_CREDENTIAL))


async def test_deprecated_terms_hash(participant, shapes):
    creds = build.loire_credentials(participant, now=NOW)
    creds[build.TERMS]["credentialSubject"]["gaiaxTermsAndConditions"] = TERMS_HASH_DEPRECATED
    vp = build.loire_presentation(participant, list(creds.values()), "urn:uuid:4")
    report = await _check(vp, shapes, verify_signatures=False)
    assert r.TERMS in report.checks()


async def test_expired_self_description(participant, signer, resolver, shapes):
    sd = build_self_description(participant, signer, now=NOW - timedelta(days=800))
    report = await _check(sd.presentation, shapes, resolver)
    assert r.EXPIRY in report.checks() and not report.conforms


async def test_credential_issued_by_another_did(participant, signer, shapes):
    creds = build.loire_credentials(participant, now=NOW)
    creds[build.TERMS]["issuer"] = "did:web:other.example"
    token = issue_vc_jwt(creds[build.TERMS], signer)
    report = await _check(token, shapes, verify_signatures=False)
    assert r.DID_CONSISTENCY in report.checks()


async def test_duplicate_identifiers_in_loire(participant, shapes):
    creds = build.loire_credentials(participant, now=NOW)
    creds[build.TERMS]["id"] = creds[build.LEGAL_PERSON]["id"]
    vp = build.loire_presentation(participant, list(creds.values()), "urn:uuid:5")
    report = await _check(vp, shapes, verify_signatures=False)
    assert r.IDENTIFIERS in report.checks()


async def test_no_gaia_x_vocabulary(shapes):
    doc = {
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "type": ["VerifiableCredential"],
        "issuer": DID,
        "issuanceDate": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": DID},
    }
    report = await _check(doc, shapes, verify_signatures=False)
    assert r.FRAMEWORK in report.checks()


async def test_renderings(participant, shapes):
    creds = build.loire_credentials(participant, now=NOW)
    creds[build.LEGAL_PERSON]["credentialSubject"]["legalAddress"]["countryCode"] = "XX"
    vp = build.loire_presentation(participant, list(creds.values()), "urn:uuid:6")
    report = await _check(vp, shapes, verify_signatures=False)
    text = report.render()
    assert text.splitlines()[0].startswith("Self-description does NOT conform (gaiax-loire-25.11")
    assert "[shacl]" in text and "gx:countryCode" in text
    data = json.loads(json.dumps(report.to_json()))
    assert data["conforms"] is False and data["framework"] == "gaiax-loire-25.11"
    assert {"check", "message", "focusNode", "path", "shape", "severity"} <= set(
        data["problems"][0]
    )
    shacl = [p for p in data["problems"] if p["check"] == "shacl"]
    assert shacl[0]["shape"] == "https://w3id.org/gaia-x/2511#AddressShape"


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"a":' * 5000 + "1" + "}" * 5000,
        b"\xff\xfe",
        '{"@context": 5}',
    ],
)
async def test_hostile_input_gives_a_problem_not_an_exception(text, shapes):
    report = await _check(text, shapes)
    assert not report.conforms and report.problems[0].check in (r.INPUT, r.JSON_LD)
