"""Dataset <-> DSP 2025-1 JSON-LD (the catalog, dataset and error messages).

Built as plain dicts, not through a JSON-LD compaction: a page of 100 datasets must cost
milliseconds. The output uses only the DSP context (the schemas allow an array of strings
only), so terms outside it are written as dct:/dcat: CURIEs, which that context defines.
"""

from __future__ import annotations

import json
from typing import Any

from connector.catalog.model import Dataset, Distribution

DSP_CONTEXT = "https://w3id.org/dspace/2025/1/context.jsonld"
COMMUNS_ODRL = "https://w3id.org/communs/odrl/"
PULL = "HttpData-PULL"


def offer_text(offer: dict[str, Any]) -> str:
    """An ODRL Offer from `policies.to_jsonld`, stored for embedding under the DSP context:
    without its own @context, with the communs: CURIEs expanded (the DSP context lacks them),
    and without a target (DSP forbids it inside a dataset: the dataset is the target)."""
    body = {k: v for k, v in offer.items() if k not in ("@context", "target")}
    return json.dumps(body).replace('"communs:', f'"{COMMUNS_ODRL}')


def distribution_json(distribution: Distribution, service_id: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "@id": distribution.iri,
        "@type": "Distribution",
        "format": PULL,
        "accessService": service_id,
    }
    if distribution.media_type:
        body["dcat:mediaType"] = distribution.media_type
    if distribution.byte_size is not None:
        body["dcat:byteSize"] = distribution.byte_size
    return body


def dataset_json(dataset: Dataset, service_id: str, *, context: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if context:
        body["@context"] = [DSP_CONTEXT]
    body["@id"] = dataset.iri
    body["@type"] = "Dataset"
    body["dct:title"] = dataset.title
    if dataset.description:
        body["dct:description"] = dataset.description
    if dataset.keywords:
        body["dcat:keyword"] = list(dataset.keywords)
    if dataset.license:
        body["dct:license"] = {"@id": dataset.license}
    body["dct:publisher"] = {"@id": dataset.publisher}
    body["hasPolicy"] = dataset.offer_documents()
    distributions = dataset.distributions or (Distribution(iri=f"{dataset.iri}#distribution"),)
    body["distribution"] = [distribution_json(d, service_id) for d in distributions]
    return body


def catalog_json(
    datasets: list[Dataset], *, catalog_id: str, participant: str, service_id: str, endpoint: str
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "@context": [DSP_CONTEXT],
        "@id": catalog_id,
        "@type": "Catalog",
        "participantId": participant,
        "service": [{"@id": service_id, "@type": "DataService", "endpointURL": endpoint}],
    }
    if datasets:  # the schema wants at least one item when the key is present
        body["dataset"] = [dataset_json(d, service_id) for d in datasets]
    return body


def error_json(status: int, reason: str) -> dict[str, Any]:
    return {"@context": [DSP_CONTEXT], "@type": "CatalogError", "code": str(status), "reason": [reason]}
