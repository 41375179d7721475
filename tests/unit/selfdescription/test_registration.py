"""Registration numbers: format and check digits, as numbers (registration.py) and inside our
own presentation (each test tampers with one number)."""

from __future__ import annotations

import pytest

from connector.errors import ConnectorError
from connector.selfdescription import build
from connector.selfdescription import report as r
from connector.selfdescription.model import Participant
from connector.selfdescription.publisher import SelfDescriptions
from connector.selfdescription.registration import registration_problem
from connector.selfdescription.validate import validate_self_description
from tests.unit.selfdescription.conftest import DID, NOW


async def _check(vp, shapes):
    return await validate_self_description(vp, now=NOW, shapes=shapes, verify_signatures=False)


def _loire(participant):
    creds = build.loire_credentials(participant, now=NOW)
    return build.loire_presentation(participant, [creds[x] for x in build.ROLES], "urn:uuid:p")


def _subdivision(number: str) -> str:
    """A subdivision of the country a number's prefix names (France for the others)."""
    return {
        "BE": "BE-BRU", "DE": "DE-BE", "NL": "NL-NH", "IT": "IT-MI", "ES": "ES-M",
        "GB": "GB-LND", "NO": "NO-03", "US": "US-NY",
    }.get(number[:2], "FR-75")



@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("vatID", "!!notavat", "is not a VAT number"),
        ("vatID", "FR00000000000", "fails its check digits"),
        ("vatID", "BE0762747722", "fails its check digits"),
        ("vatID", "DE123456789", "fails its check digits"),
        ("vatID", "NL004495446B01", "fails its check digits"),
        ("vatID", "IT00743110158", "fails its check digits"),
        ("vatID", "ESA13585626", "fails its check digits"),
        ("vatID", "BE0762747721", "is registered in BE, not in FR"),
        ("leiCode", "969500KSV493XWY0PS34", "fails its ISO 17442 check digits"),
        ("leiCode", "notalei", "is not 18 letters or digits and 2 check digits"),
        ("EORI", "FR-!!", "is not a country code followed by"),
        ("EUID", "FR123456789", "is not a country code, the register's code, a dot"),
    ],
)
async def test_malformed_registration_numbers_are_refused(shapes, kind, value, expected):
    country = "FR-75" if "registered in" in expected else _subdivision(value)
    p = Participant.of("ACME SA", DID, country, f"{kind}:{value}")
    report = await _check(_loire(p), shapes)
    problems = report.by_check(r.REGISTRATION_NUMBER)
    assert len(problems) == 1 and expected in problems[0].message, report.render()
    assert repr(value) in problems[0].message
    assert problems[0].focus_node == f"{DID}#registration-number"
    assert not report.conforms


@pytest.mark.parametrize(
    "number",
    [
        "vatID:FR11123456782",
        "vatID:FR32123456789",  # the key holds; the SIREN's own Luhn digit is the register's
        "vatID:BE0762747721",
        "vatID:DE136695976",
        "vatID:NL004495445B01",
        "vatID:IT00743110157",
        "vatID:ESA13585625",
        "vatID:GB980780684",  # not EU: a checksum python-stdnum knows
        "vatID:NO995525828MVA",
        "vatID:US123456789",  # no known checksum: format only
        "leiCode:969500KSV493XWY0PS33",
        "EORI:FR12345678901234",
        "EUID:FRRCS.123456782",
        "taxID:12 345 678",
        "local:A-1",
    ],
)
async def test_well_formed_registration_numbers_pass(shapes, number):
    country = _subdivision(number.split(":")[1])
    p = Participant.of("ACME SA", DID, country, number)
    report = await _check(_loire(p), shapes)
    assert r.REGISTRATION_NUMBER not in report.checks(), report.render()


async def test_tagus_vat_number_is_checked_with_its_country_code(participant, shapes):
    creds = build.tagus_credentials(participant, now=NOW)
    creds[build.REGISTRATION_NUMBER]["credentialSubject"]["gx:vatID"] = "0762747722"
    report = await _check(build.tagus_presentation(participant, list(creds.values())), shapes)
    assert [p.message for p in report.by_check(r.REGISTRATION_NUMBER)] == [
        "the VAT number '0762747722' fails its check digits (mistyped or invented)"
    ]


@pytest.mark.parametrize(
    ("kind", "value", "country", "expected"),
    [
        ("vatID", "0762747721", "BE", None),  # no prefix: the country code gives it
        ("vatID", "094259216", "GR", None),  # Greece writes EL
        ("vatID", "ZZ12345678", None, "starts with ZZ, which is no country code"),
        ("vatID", "", None, "the vatID registration number is empty"),
        ("EORI", "ZZ1", None, "starts with ZZ, which is no country code"),
        ("EUID", "USX.1", None, "US, which is not in the European Economic Area"),
        ("taxID", "anything", None, None),
    ],
)
def test_registration_problem_sentences(kind, value, country, expected):
    found = registration_problem(kind, value, country)
    assert (found is None) if expected is None else (expected in found)


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("vatID:FR40123456789", "the VAT number 'FR40123456789' fails its check digits"),
        ("leiCode:529900T8BM49AURSDO56", "fails its ISO 17442 check digits"),
    ],
)
async def test_a_node_with_a_wrong_number_says_which(signer, resolver, number, expected):
    node = SelfDescriptions(Participant.of("ACME SA", DID, "FR-75", number), signer)
    with pytest.raises(ConnectorError) as caught:
        await node.check(resolver)
    message = str(caught.value)
    assert message.startswith("the node's own self-description does not validate (gaiax-")
    assert expected in message and "\n" not in message
