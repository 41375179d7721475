"""The participant checks gx-compliance makes beyond SHACL: a participant credential of the
right class that describes the holder, a legal name, registration numbers that are well formed
and whose check digits are right. Each test tampers with our own (otherwise conforming)
presentation in one way. Registration numbers: test_registration.py."""

from __future__ import annotations

import pytest

from connector.selfdescription import build
from connector.selfdescription import report as r
from connector.selfdescription.validate import validate_self_description
from tests.unit.selfdescription.conftest import DID, NOW


async def _check(vp, shapes):
    return await validate_self_description(vp, now=NOW, shapes=shapes, verify_signatures=False)


def _loire(participant, roles=build.ROLES, **subject_changes):
    creds = build.loire_credentials(participant, now=NOW)
    for role, changes in subject_changes.items():
        creds[role]["credentialSubject"].update(changes)
    return build.loire_presentation(participant, [creds[x] for x in roles], "urn:uuid:p")


def _messages(report, check):
    return [p.message for p in report.by_check(check)]


async def test_our_untampered_presentation_passes_the_participant_checks(participant, shapes):
    report = await _check(_loire(participant), shapes)
    assert report.conforms, report.render()


@pytest.mark.parametrize(
    "roles", [(build.TERMS,), (build.REGISTRATION_NUMBER,), (build.REGISTRATION_NUMBER, build.TERMS)]
)
async def test_a_presentation_without_a_participant_credential_is_refused(
    participant, shapes, roles
):
    report = await _check(_loire(participant, roles), shapes)
    assert not report.conforms
    assert _messages(report, r.PARTICIPANT) == [
        "the presentation holds no gx:LegalPerson credential: a participant's self-description"
        " needs one, with its registration number and accepted terms"
    ]


@pytest.mark.parametrize("cls", ["Participant", "https://schema.org/Organization"])
async def test_a_legal_person_retyped_to_another_class_is_refused(participant, shapes, cls):
    vp = _loire(participant, **{build.LEGAL_PERSON: {"type": cls}})
    report = await _check(vp, shapes)
    assert not report.conforms
    [message] = _messages(report, r.PARTICIPANT)
    assert message.startswith(f"the participant {DID} is described as ")
    assert message.endswith("where its participant credential must be a gx:LegalPerson")


@pytest.mark.parametrize("name", ["", "   "])
async def test_an_empty_legal_name_is_refused(participant, shapes, name):
    report = await _check(_loire(participant, **{build.LEGAL_PERSON: {"name": name}}), shapes)
    assert _messages(report, r.PARTICIPANT) == ["the participant's legal name is empty"]
    assert not report.conforms


async def test_an_empty_legal_name_is_refused_in_tagus(participant, shapes):
    creds = build.tagus_credentials(participant, now=NOW)
    creds[build.LEGAL_PERSON]["credentialSubject"]["gx:legalName"] = ""
    report = await _check(build.tagus_presentation(participant, list(creds.values())), shapes)
    assert _messages(report, r.PARTICIPANT) == ["the participant's legal name is empty"]


async def test_a_legal_person_that_is_not_the_holder_is_refused(participant, shapes):
    vp = _loire(participant, **{build.LEGAL_PERSON: {"id": "did:web:someone-else.example"}})
    report = await _check(vp, shapes)
    assert _messages(report, r.PARTICIPANT) == [
        f"the gx:LegalPerson is did:web:someone-else.example, not the presentation's holder {DID}"
    ]
    assert not report.conforms


async def test_a_legal_person_named_by_url_must_be_issued_by_the_holder(participant, shapes):
    creds = build.loire_credentials(participant, now=NOW)
    creds[build.LEGAL_PERSON]["credentialSubject"]["id"] = "https://acme.example/lp.json#cs"
    creds[build.LEGAL_PERSON]["issuer"] = "did:web:someone-else.example"
    vp = build.loire_presentation(participant, list(creds.values()), "urn:uuid:p")
    report = await _check(vp, shapes)
    assert any("not by the presentation's holder" in m for m in _messages(report, r.PARTICIPANT))


async def test_a_lone_credential_is_not_asked_for_a_participant(participant, shapes):
    creds = build.loire_credentials(participant, now=NOW)
    report = await _check(creds[build.TERMS], shapes)
    assert r.PARTICIPANT not in report.checks()



async def test_without_a_holder_the_signer_of_an_ld_presentation_is_the_holder(participant, shapes):
    creds = build.tagus_credentials(participant, now=NOW)
    creds[build.LEGAL_PERSON]["credentialSubject"]["id"] = "did:web:someone-else.example"
    vp = build.tagus_presentation(participant, list(creds.values()))
    vp.pop("holder", None)
    vp["proof"] = {"type": "JsonWebSignature2020", "proofPurpose": "authentication",
                   "verificationMethod": f"{DID}#key-1"}
    report = await _check(vp, shapes)
    assert any("not the presentation's holder" in m for m in _messages(report, r.PARTICIPANT))
