"""DSP 2025-1 catalog message schemas, validated offline.

The schemas in `schemas/` are vendored byte-for-byte from specs/dsp/2025-1 and `$ref` each other
by their published URLs; each is registered under its `$id`, so nothing is ever fetched.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft201909Validator
from jsonschema_specifications import REGISTRY as METASCHEMAS
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT201909

HERE = Path(__file__).with_name("schemas")
BASE = "https://w3id.org/dspace/2025/1/"
CATALOG_REQUEST = BASE + "catalog/catalog-request-message-schema.json"
DATASET_REQUEST = BASE + "catalog/dataset-request-message-schema.json"
CATALOG = BASE + "catalog/catalog-schema.json"
DATASET = BASE + "catalog/dataset-schema.json"
CATALOG_ERROR = BASE + "catalog/catalog-error-schema.json"
VERSION = BASE + "common/protocol-version-schema.json"


@cache
def _registry() -> Registry:
    resources = []
    for path in sorted(HERE.glob("*.json")):
        contents = json.loads(path.read_text())
        resources.append((contents["$id"], Resource.from_contents(contents, default_specification=DRAFT201909)))
    return METASCHEMAS.with_resources(resources)


@cache
def _validator(uri: str) -> Draft201909Validator:
    return Draft201909Validator(_registry().contents(uri), registry=_registry())


def problems(uri: str, document: Any, limit: int = 5) -> list[str]:
    """Why DOCUMENT does not match the schema URI (empty when it does)."""
    found = []
    for error in _validator(uri).iter_errors(document):
        where = "/".join(str(p) for p in error.absolute_path) or "the message"
        found.append(f"{where}: {error.message[:200]}")
        if len(found) >= limit:
            break
    return found
