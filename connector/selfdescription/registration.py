"""Registration numbers checked offline, as far as their standards allow: format, then check digits.

The Gaia-X registration notary asks the registers themselves (VIES, GLEIF, the EORI service);
we cannot, so we check what the numbers' own definitions let anyone check:

- VAT numbers: each country's format and check key or digits (python-stdnum implements the
  published algorithm of every EU member state and of many other countries: DE's ISO 7064
  MOD 11,10, IT's Luhn, BE's mod 97, NL's mod 11 / mod 97, ES's NIF/CIF letters...; FR's key
  on the SIREN is checked here, see _french_key_problem); a country it does not know gets
  the generic format check only;
- LEI codes: ISO 17442, 20 letters and digits whose mod-97 value is 1 (ISO 7064 MOD 97-10);
- EORI: Regulation (EU) 952/2013 art. 1 (18) and 2015/2447: a country code followed by up
  to 15 letters or digits;
- EUID: Implementing Regulation (EU) 2021/1042 (BRIS): an EEA country code, the register's
  code, a dot and the registration number in that register.

Each check returns None or one sentence naming the number and what is wrong with it.
"""

from __future__ import annotations

import re

from rdflib import Graph, URIRef
from stdnum import lei, vatin
from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
    ValidationError,
)

from connector.selfdescription import report as r
from connector.selfdescription.model import NAMESPACES, SCHEMA, Framework, country_codes
from connector.selfdescription.report import Problem

# property holding a registration number -> its kind (model.REGISTRATION_TYPES); None: gx
_NUMBER_PROPERTIES = (
    (None, "vatID", "vatID"),
    (None, "leiCode", "leiCode"),  # 22.10
    (SCHEMA, "leiCode", "leiCode"),  # 25.11
    (None, "eori", "EORI"),  # 25.11
    (None, "EORI", "EORI"),  # 22.10
    (None, "euid", "EUID"),
    (None, "EUID", "EUID"),
)
_COUNTRY_PROPERTIES = ("countryCode", "vatID-countryCode")
_COUNTRY_PROPERTIES = ("countryCode", "vatID-countryCode")
# VAT prefixes that are not the ISO 3166-1 code of their country
VAT_PREFIX_COUNTRY = {"EL": "GR", "XI": "GB"}
_GENERIC_VAT = re.compile(r"^[A-Z]{2}[0-9A-Z]{2,13}$")
_LEI = re.compile(r"^[0-9A-Z]{18}[0-9]{2}$")
_EORI = re.compile(r"^([A-Z]{2})[0-9A-Z]{1,15}$")
_EUID = re.compile(r"^([A-Z]{2})[0-9A-Z]{1,13}\.[0-9A-Z][0-9A-Z./-]{0,49}$")
# the EEA: the EU member states, Iceland, Liechtenstein and Norway (BRIS covers these)
EEA = frozenset(
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK"
    " IS LI NO".split()
)


def _compact(value: str) -> str:
    return re.sub(r"[\s.\-/]", "", value).upper()


def vat_problem(value: str, country: str | None = None) -> str | None:
    """COUNTRY is the ISO 3166-1 code the credential gives the number (gx:countryCode)."""
    number = _compact(value)
    if country and not number[:2].isalpha():
        number = (country.upper() if country.upper() != "GR" else "EL") + number
    if not _GENERIC_VAT.match(number):
        return (
            f"the VAT number {value!r} is not a VAT number"
            " (a two-letter country prefix, then 2 to 13 letters or digits)"
        )
    prefix = number[:2]
    registered = VAT_PREFIX_COUNTRY.get(prefix, prefix)
    if country and registered != country.upper():
        return f"the VAT number {value!r} is registered in {registered}, not in {country.upper()}"
    if registered == "FR" and number[2:].isdigit():
        return _french_key_problem(value, number)
    try:
        vatin.validate(number)
    except InvalidChecksum:
        return f"the VAT number {value!r} fails its check digits (mistyped or invented)"
    except (InvalidFormat, InvalidLength):
        return f"the VAT number {value!r} does not have the format of {registered} VAT numbers"
    except InvalidComponent:
        if registered not in country_codes():
            return f"the VAT number {value!r} starts with {prefix}, which is no country code"
        return None  # a country whose check is not known here: the format check is all we do
    except ValidationError:
        return f"the VAT number {value!r} is not valid"
    return None


def _french_key_problem(value: str, number: str) -> str | None:
    """FR + a two-digit key + the SIREN: the key is (12 + 3 x (SIREN mod 97)) mod 97, which
    catches any single mistyped digit. The SIREN's own Luhn digit is left to the register (the
    notary asks it): the key is the VAT number's check, as the tax administration defines it."""
    if len(number) != 13:
        return f"the VAT number {value!r} is not FR, a two-digit key and the 9-digit SIREN"
    if int(number[2:4]) != (12 + 3 * (int(number[4:]) % 97)) % 97:
        return f"the VAT number {value!r} fails its check digits (mistyped or invented)"
    return None


def lei_problem(value: str) -> str | None:
    if not _LEI.match(re.sub(r"\s", "", value).upper()):
        return f"the LEI code {value!r} is not 18 letters or digits and 2 check digits (ISO 17442)"
    try:
        lei.validate(value)
    except ValidationError:
        return f"the LEI code {value!r} fails its ISO 17442 check digits (mistyped or invented)"
    return None


def eori_problem(value: str) -> str | None:
    match = _EORI.match(re.sub(r"\s", "", value).upper())
    if match is None:
        return (
            f"the EORI number {value!r} is not a country code followed by"
            " 1 to 15 letters or digits"
        )
    if match.group(1) not in country_codes() | {"XI"}:
        return f"the EORI number {value!r} starts with {match.group(1)}, which is no country code"
    return None


def euid_problem(value: str) -> str | None:
    match = _EUID.match(value.strip().upper())
    if match is None:
        return (
            f"the EUID {value!r} is not a country code, the register's code, a dot and"
            " the registration number (e.g. BEKBOBCE.0762747721)"
        )
    if match.group(1) not in EEA:
        return f"the EUID {value!r} names {match.group(1)}, which is not in the European Economic Area"
    return None


def registration_problem(kind: str, value: str, country: str | None = None) -> str | None:
    """KIND is one of model.REGISTRATION_TYPES."""
    if not value.strip():
        return f"the {kind} registration number is empty"
    if kind == "vatID":
        return vat_problem(value, country)
    if kind == "leiCode":
        return lei_problem(value)
    if kind == "EORI":
        return eori_problem(value)
    if kind == "EUID":
        return euid_problem(value)
    return None  # taxID and local numbers have no common format


def registration_problems(graph: Graph, framework: Framework | None) -> list[Problem]:
    """Every registration number in the document, whoever it belongs to."""
    if framework is None:
        return []
    gx = NAMESPACES[framework]
    problems: list[Problem] = []
    for namespace, local, kind in _NUMBER_PROPERTIES:
        prop = URIRef((namespace or gx) + local)
        for node, value in graph.subject_objects(prop):
            country = next(
                (
                    str(c)
                    for name in _COUNTRY_PROPERTIES
                    for c in graph.objects(node, URIRef(gx + name))
                ),
                None,
            )
            message = registration_problem(kind, str(value), country)
            if message is not None:
                problems.append(Problem(r.REGISTRATION_NUMBER, message, str(node), str(prop)))
    return problems
