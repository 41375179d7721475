"""The organizations a local federation is made of: fictitious but plausible, each with a
registration number whose check digits are right (a compliance check would refuse others)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Org:
    slug: str  # its folder's name
    name: str
    country: str  # ISO 3166-2
    registration: str  # TYPE:VALUE as `communs init` takes it


# the first is a public body publishing open data, the others companies
PRESETS = (
    Org("city", "Ville de Lyon Open Data", "FR-69", "vatID:FR60216901231"),
    Org("acme", "Acme Mobility SAS", "FR-75", "leiCode:894500ACMEMOBIL0T074"),
    Org("biotope", "Biotope Analytics GmbH", "DE-BE", "leiCode:391200BIOTOPEANAL033"),
    Org("polder", "Polder Logistics B.V.", "NL-NH", "leiCode:724500POLDERLOG0X062"),
    Org("tejo", "Tejo Health Lda", "PT-11", "leiCode:213800TEJOHEALTH0020"),
)
MAX_ORGS = 20


def lei(prefix: str) -> str:
    """An ISO 17442 LEI: 18 characters, then two check digits making it 1 modulo 97."""
    digits = "".join(str(int(c, 36)) for c in prefix + "00")
    return f"{prefix}{98 - int(digits) % 97:02d}"


def organizations(count: int) -> list[Org]:
    """The first COUNT organizations: the presets, then numbered cooperatives."""
    extra = [Org(f"org{i}", f"Cooperative {i} SCIC", "FR-33",
                 "leiCode:" + lei(f"9695COOP{i:010d}"))
             for i in range(len(PRESETS), count)]
    return [*PRESETS, *extra][:count]
