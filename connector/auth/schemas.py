"""DCP 1.0 message schemas, validated offline.

The schemas are vendored byte-for-byte in `schemas/` (from specs/dcp/v1.0). They `$ref` each
other by URL, and one upstream `$id` is wrong (the context schema says `/v08/` while the
others point at `/v1.0/`), so every file is registered under the URL its referrers use:
nothing is ever fetched, and the bad `$id` never matters.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft201909Validator
from jsonschema_specifications import REGISTRY as METASCHEMAS
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7, DRAFT201909

HERE = Path(__file__).with_name("schemas")
_DCP = "https://w3id.org/dspace-dcp/v1.0/"
_DIF = "https://identity.foundation/"
_FILES = {
    _DCP + "common/context-schema.json": ("context-schema.json", DRAFT201909),
    _DCP + "presentation/presentation-query-message-schema.json": (
        "presentation-query-message-schema.json", DRAFT201909),
    _DCP + "presentation/presentation-response-message-schema.json": (
        "presentation-response-message-schema.json", DRAFT201909),
    _DIF + "presentation-exchange/schemas/presentation-definition.json": (
        "presentation-definition.json", DRAFT7),
    _DIF + "presentation-exchange/schemas/presentation-submission.json": (
        "presentation-submission.json", DRAFT7),
    _DIF + "claim-format-registry/schemas/presentation-definition-claim-format-designations.json": (
        "presentation-definition-claim-format-designations.json", DRAFT7),
    _DIF + "claim-format-registry/schemas/presentation-submission-claim-format-designations.json": (
        "presentation-submission-claim-format-designations.json", DRAFT7),
}
QUERY = _DCP + "presentation/presentation-query-message-schema.json"
RESPONSE = _DCP + "presentation/presentation-response-message-schema.json"


@cache
def _registry() -> Registry:
    resources = []
    for uri, (name, spec) in _FILES.items():
        contents = json.loads((HERE / name).read_text())
        # the registered URI wins over the (partly wrong) $id inside: drop it
        contents = {k: v for k, v in contents.items() if k != "$id"}
        resources.append((uri, Resource.from_contents(contents, default_specification=spec)))
    return METASCHEMAS.with_resources(resources)


@cache
def _validator(uri: str) -> Draft201909Validator:
    schema = _registry().contents(uri)
    return Draft201909Validator({"$ref": uri, **{k: v for k, v in schema.items() if k == "$schema"}},
                                registry=_registry())


def problems(uri: str, message: Any) -> list[str]:
    """Every schema violation of `message` as a short sentence (empty when valid)."""
    found = sorted(_validator(uri).iter_errors(message), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(map(str, e.absolute_path)) or 'the message'}: {e.message}"[:300]
            for e in found[:5]]
