"""Dataset dates through the catalog importer: the upstream DCAT-AP 3.0.1 shapes check none
(`sh:shape` is no SHACL term); vocab/shapes/dcat-ap-3.0.1-communs-dates.ttl does, so a
malformed dct:issued or dct:modified is a finding on the imported dataset, and a well-formed
one in any of the forms DCAT-AP allows is not."""

from __future__ import annotations

import pytest

from connector.catalog.service import CatalogService
from connector.catalog.store import InMemoryCatalogStore

RECORD = """
@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<https://d.example/a> a dcat:Dataset ; dct:title "A"@en ; dct:description "d"@en ;
    dct:{prop} {value} .
"""


@pytest.fixture
def service(tmp_path):
    return CatalogService(InMemoryCatalogStore(), home=tmp_path, did="did:web:p.example",
                          public_url="https://p.example", allowed_roots=[tmp_path])


def _record(prop: str, value: str) -> bytes:
    return RECORD.replace("{prop}", prop).replace("{value}", value).encode()


def _date_findings(report, prop: str) -> list[str]:
    return [w for ws in report.warnings.values() for w in ws if f"/terms/{prop}" in w]


@pytest.mark.parametrize("prop", ["issued", "modified"])
@pytest.mark.parametrize("value", ['"yesterday"', '"2024-13-45"^^xsd:date', '"03/12/2026"',
                                   '"2024-01-02"^^xsd:string', "<https://d.example/a-date>"])
async def test_a_malformed_dataset_date_is_a_finding(service, prop, value):
    report = await service.import_dcat(_record(prop, value), "dates.ttl")
    assert report.created == ["https://d.example/a"]  # a warning, not a rejection
    assert _date_findings(report, prop) == [
        f"Violation on the dataset: http://purl.org/dc/terms/{prop} fails Node"
    ]


@pytest.mark.parametrize("prop", ["issued", "modified"])
@pytest.mark.parametrize("value", ['"2024-01-02"^^xsd:date', '"2024-01-02T10:00:00Z"^^xsd:dateTime',
                                   '"2024"^^xsd:gYear', '"2024-05"^^xsd:gYearMonth'])
async def test_well_formed_dataset_dates_import_without_a_finding(service, prop, value):
    report = await service.import_dcat(_record(prop, value), "dates.ttl")
    assert report.created == ["https://d.example/a"] and not report.rejected
    assert _date_findings(report, prop) == []
