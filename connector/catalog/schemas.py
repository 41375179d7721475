"""DSP 2025-1 catalog message schemas, validated offline.

The schemas in `schemas/` are vendored byte-for-byte from specs/dsp/2025-1 and `$ref` each other
by their published URLs; each is registered under its `$id`, so nothing is ever fetched.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from connector.schemas import Schemas

HERE = Path(__file__).with_name("schemas")
BASE = "https://w3id.org/dspace/2025/1/"
CATALOG_REQUEST = BASE + "catalog/catalog-request-message-schema.json"
DATASET_REQUEST = BASE + "catalog/dataset-request-message-schema.json"
CATALOG = BASE + "catalog/catalog-schema.json"
DATASET = BASE + "catalog/dataset-schema.json"
CATALOG_ERROR = BASE + "catalog/catalog-error-schema.json"
VERSION = BASE + "common/protocol-version-schema.json"


_SCHEMAS = Schemas(HERE)


def problems(uri: str, document: Any, limit: int = 5) -> list[str]:
    """Why DOCUMENT does not match the schema URI (empty when it does)."""
    return _SCHEMAS.problems(uri, document, limit)
