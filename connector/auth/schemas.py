"""DCP 1.0 message schemas, validated offline.

The schemas are vendored byte-for-byte in `schemas/` (from specs/dcp/v1.0). They `$ref` each
other by URL, and one upstream `$id` is wrong (the context schema says `/v08/` while the
others point at `/v1.0/`), so every file is registered under the URL its referrers use:
nothing is ever fetched, and the bad `$id` never matters. A presentation definition's
`filter` refers to the draft-07 metaschema, which is not vendored: a filter must be a schema's
shape (an object or a boolean), not more; we refuse presentation definitions anyway.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs

from connector.schemas import describe, registry, validator

HERE = Path(__file__).with_name("schemas")
_DCP = "https://w3id.org/dspace-dcp/v1.0/"
_DIF = "https://identity.foundation/"
# each file is vendored under the last segment of the URI its referrers use
_URIS = (
    _DCP + "common/context-schema.json",
    _DCP + "presentation/presentation-query-message-schema.json",
    _DCP + "presentation/presentation-response-message-schema.json",
    _DIF + "presentation-exchange/schemas/presentation-definition.json",
    _DIF + "presentation-exchange/schemas/presentation-submission.json",
    _DIF + "claim-format-registry/schemas/presentation-definition-claim-format-designations.json",
    _DIF + "claim-format-registry/schemas/presentation-submission-claim-format-designations.json",
)
QUERY = _DCP + "presentation/presentation-query-message-schema.json"
RESPONSE = _DCP + "presentation/presentation-response-message-schema.json"


_METASCHEMA = {"$ref": "http://json-schema.org/draft-07/schema#"}


def _shape_only(node: Any) -> Any:
    if node == _METASCHEMA:
        return {"type": ["object", "boolean"]}
    if isinstance(node, dict):
        return {k: _shape_only(v) for k, v in node.items()}
    return [_shape_only(v) for v in node] if isinstance(node, list) else node


def _contents(uri: str) -> dict[str, Any]:
    contents = _shape_only(json.loads((HERE / uri.rsplit("/", 1)[1]).read_text()))
    # the registered URI wins over the (partly wrong) $id inside: drop it
    return {k: v for k, v in contents.items() if k != "$id"}


@cache
def _registry() -> jsonschema_rs.Registry:
    # each file's $schema names its draft (2019-09, or 7 for the DIF ones)
    return registry((uri, _contents(uri)) for uri in _URIS)


@cache
def _validator(uri: str) -> jsonschema_rs.Validator:
    return validator(uri, _registry())


def problems(uri: str, message: Any) -> list[str]:
    """Every schema violation of `message` as a short sentence (empty when valid)."""
    found = sorted(_validator(uri).iter_errors(message), key=lambda e: [str(p) for p in e.instance_path])
    return [line[:300] for line in describe(found, 5)]
