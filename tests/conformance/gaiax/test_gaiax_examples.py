"""The Gaia-X example credentials (specs/gaiax, copied under examples/) give the verdicts that
specs/gaiax/SOURCES.md records: SHACL over the whole presentation as one graph, as
gx-compliance does, plus the non-SHACL checks. Signatures of upstream fixtures name did:web
issuers that cannot be resolved offline, so those tests run with verify_signatures=False
unless the signature step is what they are about.
"""

from __future__ import annotations

import json

import pytest

from connector.selfdescription import report as r
from connector.selfdescription.model import GX_2511, GX_DEVELOPMENT, GX_TAGUS
from connector.selfdescription.parse import parse
from connector.selfdescription.validate import validate_self_description
from tests.conformance.gaiax.conftest import EXAMPLES
from vocab import jsonld

TAGUS = EXAMPLES / "tagus-22.10"
FIXTURES = TAGUS / "gx-compliance-fixtures"
LOIRE = EXAMPLES / "loire"


async def _report(path, shapes, **kwargs):
    return await validate_self_description(path.read_text(), shapes=shapes, **kwargs)


@pytest.mark.parametrize(
    "name",
    [
        "valid/participant-vp.json",
        "valid/service-offering-vp.json",
        "valid/service-offering-and-ressources-vp.json",
        "valid/service-offering-label-level-1.json",
        "valid/terms-and-conditions-vp.json",
    ],
)
async def test_valid_tagus_examples_conform_to_shacl(name, shapes):
    report = await _report(FIXTURES / name, shapes, verify_signatures=False)
    assert report.framework == "gaiax-tagus-22.10"
    assert report.shacl is not None and report.shacl.conforms, report.render()
    assert r.SHACL not in report.checks()


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("invalid-shacl/participant-vp-faulty.json", "headquarterAddress"),
        ("invalid-shacl/service-offering-vp-providedBy-absent.json", "providedBy"),
        ("invalid-shacl/service-offering-vp-structure-invalid.json", "dataAccountExport"),
    ],
)
async def test_invalid_shacl_examples_name_the_violated_path(name, path, shapes):
    report = await _report(FIXTURES / name, shapes, verify_signatures=False)
    assert report.shacl is not None and not report.shacl.conforms
    assert report.shacl.paths() == {GX_TAGUS + path}
    assert not report.conforms
    assert any(p.check == r.SHACL and p.path == GX_TAGUS + path for p in report.problems)


async def test_missing_proof_passes_shacl_but_fails_the_proof_check(shapes):
    report = await _report(
        FIXTURES / "invalid-non-shacl/participant-vp-faulty-missing-proof.json", shapes
    )
    assert report.shacl is not None and report.shacl.conforms
    missing = report.by_check(r.PROOF_MISSING)
    assert [p.focus_node for p in missing] == [
        "did:web:raw.githubusercontent.com:egavard:payload-sign:master"
    ]
    assert not report.conforms


async def test_label_level_criteria_deny_fails(shapes):
    """gx-compliance's label rule: every level-1 criterion answered "Confirm"; this fixture
    differs from the valid one only in four answers (Deny / Not applicable)."""
    report = await _report(
        FIXTURES / "invalid-non-shacl/service-offering-label-level-1-invalid.json",
        shapes,
        verify_signatures=False,
    )
    assert report.shacl is not None and report.shacl.conforms
    assert not report.conforms
    [label] = report.by_check(r.LABEL)
    assert label.message.endswith(
        "does not earn label level 1: criteria P1.1.2 (Deny), P1.2.2 (Not applicable),"
        " P2.3.2 (Deny), P3.1.20 (Deny) must be answered 'Confirm'"
    )
    assert [p.check for p in report.problems] == [r.LABEL]


@pytest.mark.parametrize(
    "name",
    [
        "valid/participant-vp.json",
        "valid/service-offering-vp.json",
        "valid/service-offering-and-ressources-vp.json",
        "valid/service-offering-label-level-1.json",
    ],
)
async def test_valid_tagus_presentations_pass_every_check_but_signatures(name, shapes):
    """Participant class, holder, legal name, registration number (a checked VAT number) and
    label criteria: the valid fixtures pass them all (their did:web signers are offline)."""
    report = await _report(FIXTURES / name, shapes, verify_signatures=False)
    assert report.conforms, report.render()


async def test_terms_and_conditions_alone_are_no_self_description(shapes):
    """gx-compliance 22.10 let a VP of only T&C through; a self-description needs the
    participant credential."""
    report = await _report(
        FIXTURES / "valid/terms-and-conditions-vp.json", shapes, verify_signatures=False
    )
    assert report.shacl is not None and report.shacl.conforms
    assert [p.check for p in report.problems] == [r.PARTICIPANT]
    assert "no gx:LegalParticipant credential" in report.problems[0].message


@pytest.mark.parametrize(
    ("name", "paths"),
    [
        ("data-resource.json", {"exposedThrough", "producedBy"}),
        (
            "instantiated-virtual-resource.json",
            {"hostedOn", "instanceOf", "maintainedBy", "serviceAccessPoint"},
        ),
        (
            "physical-resource.json",
            {"locationAddress", "maintainedBy", "manufacturedBy", "ownedBy"},
        ),
    ],
)
async def test_swagger_templates_with_placeholder_iris_fail(name, paths, shapes):
    """Upstream Swagger bodies are templates, not instances: values such as
    `__id of the data provider participant CS__` are not IRIs, so JSON-LD drops them and the
    required links are missing. They are also unsigned."""
    report = await _report(FIXTURES / "swagger-templates" / name, shapes)
    assert report.shacl is not None
    assert report.shacl.paths() == {GX_TAGUS + p for p in paths}
    assert r.PROOF_MISSING in report.checks()


@pytest.mark.parametrize(
    "name",
    [
        "legitimate-interest.json",
        "service-access-point.json",
        "so-tsandcs.json",
        "software-resource.json",
        "virtual-resource.json",
    ],
)
async def test_other_swagger_templates_conform_but_are_unsigned(name, shapes):
    """These templates happen to have no placeholder in a required link: SHACL passes, but
    they are bodies to sign, so the proof check fails."""
    report = await _report(FIXTURES / "swagger-templates" / name, shapes)
    assert report.shacl is not None and report.shacl.conforms
    assert r.PROOF_MISSING in report.checks() and not report.conforms


async def test_legacy_self_description_credential_body_holds_no_rdf(shapes):
    """service-offering-sd.json is the pre-22.10 body wrapped in `selfDescriptionCredential`
    (no @context at the top): JSON-LD yields 0 triples, which is reported, not passed."""
    report = await _report(FIXTURES / "swagger-templates/service-offering-sd.json", shapes)
    assert not report.conforms
    assert [p.check for p in report.problems] == [r.JSON_LD]
    assert "no RDF statements" in report.problems[0].message


async def test_end2end_legal_participant_alone_lacks_its_registration_number(shapes):
    """The claim-compliance-provider sends the LRN in a separate VC: the participant VC alone
    cannot conform; inside one VP with the LRN VC it does (next test)."""
    report = await _report(
        TAGUS / "real-world/end2end-legalParticipant.json", shapes, verify_signatures=False
    )
    assert report.shacl is not None
    assert report.shacl.paths() == {GX_TAGUS + "legalRegistrationNumber"}
    assert r.REQUIRED_CREDENTIAL in report.checks()


async def test_end2end_credentials_in_one_presentation_conform(shapes):
    credentials = [
        json.loads((TAGUS / f"real-world/end2end-{n}.json").read_text())
        for n in ("legalParticipant", "legalRegistrationNumber", "termsAndConditions")
    ]
    vp = {
        "@context": "https://www.w3.org/2018/credentials/v1",
        "type": "VerifiablePresentation",
        "verifiableCredential": credentials,
    }
    report = await validate_self_description(vp, shapes=shapes, verify_signatures=False)
    assert report.shacl is not None and report.shacl.conforms, report.render()
    assert r.REQUIRED_CREDENTIAL not in report.checks()


@pytest.mark.parametrize(
    "name",
    [
        "end2end-legalRegistrationNumber.json",
        "end2end-termsAndConditions.json",
        "gx4fm-msg-compliance-credential-response.json",
    ],
)
async def test_real_world_credentials_conform_to_shacl(name, shapes):
    report = await _report(TAGUS / "real-world" / name, shapes, verify_signatures=False)
    assert report.shacl is not None and report.shacl.conforms


async def test_real_compliance_credential_has_expired(shapes):
    report = await _report(
        TAGUS / "real-world/gx4fm-msg-compliance-credential-response.json",
        shapes,
        verify_signatures=False,
    )
    assert r.EXPIRY in report.checks()


@pytest.mark.parametrize(
    ("name", "context"),
    [
        ("gx4fm-msg-participant-vp-request.json", "https://schema.org/"),
        ("fc-upload-validPayload.json", "https://www.w3.org/2018/credentials/examples/v1"),
    ],
)
async def test_real_world_files_with_unbundled_contexts_are_refused(name, context, shapes):
    """SOURCES.md validated these with extra contexts at hand; communs never fetches a
    context it does not bundle, so they get a clear JSON-LD problem naming the URL."""
    report = await _report(TAGUS / "real-world" / name, shapes)
    assert [p.check for p in report.problems] == [r.JSON_LD]
    assert context in report.problems[0].message


async def test_xfsc_loire_valid_fixture_fails_the_real_25_11_shapes(shapes):
    """XFSC FC's `loire_legalPerson_valid` conforms only to its minimal test shape: the real
    gx:LegalPersonShape is closed, wants headquartersAddress and legalAddress, and 25.11
    names things with schema:name, not gx:legalName; its registration number is a bare IRI
    (sh:class gx:RegistrationNumber fails)."""
    report = await _report(LOIRE / "xfsc-fc/valid/loire_legalPerson_valid.jsonld", shapes)
    assert report.framework == "gaiax-loire-25.11"
    assert report.shacl is not None
    assert report.shacl.paths() == {
        GX_2511 + p
        for p in ("headquartersAddress", "legalAddress", "legalName", "registrationNumber")
    }


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("loire_legalPerson_missing_required.jsonld", GX_2511 + "registrationNumber"),
        ("loire_legalPerson_closed_violation.jsonld", "https://example.com/unexpectedProperty"),
    ],
)
async def test_xfsc_loire_invalid_fixtures_fail(name, expected, shapes):
    report = await _report(LOIRE / "xfsc-fc/invalid" / name, shapes)
    assert report.shacl is not None and not report.shacl.conforms
    assert expected in report.shacl.paths()


async def test_ascs_loire_instance_conforms_with_its_legal_person(shapes):
    docs = [
        json.loads((LOIRE / "ascs/valid" / n).read_text())
        for n in ("gx_data_resource_instance.json", "gx_legalperson_reference.json")
    ]
    graph = jsonld.to_graph(docs[0]) + jsonld.to_graph(docs[1])
    report = shapes.validate(graph, "gaiax-loire-25.11-development")
    assert report.conforms, report.results


async def test_ascs_loire_instance_alone_misses_its_provider(shapes):
    report = await _report(LOIRE / "ascs/valid/gx_data_resource_instance.json", shapes)
    assert report.framework == "gaiax-loire-25.11-development"
    assert report.shacl is not None
    assert GX_DEVELOPMENT + "digitalServiceOfferingProvider" in report.shacl.paths()


def test_examples_parse_as_documents():
    for path in sorted(EXAMPLES.rglob("*.json*")):
        assert parse(path.read_text()) is not None
