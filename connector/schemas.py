"""A feature's vendored JSON schemas (the DSP 2025-1 ones), resolved offline by their `$id`."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

from jsonschema import Draft201909Validator
from jsonschema_specifications import REGISTRY as METASCHEMAS
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT201909


class Schemas:
    """The schemas in FOLDER, loaded once; REPAIR may fix an upstream defect in a file's text."""

    def __init__(self, folder: Path, repair: Callable[[str], str] | None = None) -> None:
        self.folder, self.repair = folder, repair
        self._validators: dict[str, Draft201909Validator] = {}

    @cached_property
    def registry(self) -> Registry:
        resources = []
        for path in sorted(self.folder.glob("*.json")):
            text = path.read_text()
            contents = json.loads(self.repair(text) if self.repair else text)
            resources.append((contents["$id"], Resource.from_contents(contents, default_specification=DRAFT201909)))
        return METASCHEMAS.with_resources(resources)

    def problems(self, uri: str, document: Any, limit: int = 5) -> list[str]:
        """Why DOCUMENT does not match the schema URI (empty when it does)."""
        validator = self._validators.get(uri)
        if validator is None:
            validator = Draft201909Validator(self.registry.contents(uri), registry=self.registry)
            self._validators[uri] = validator
        found = []
        for error in validator.iter_errors(document):
            where = "/".join(str(p) for p in error.absolute_path) or "the message"
            found.append(f"{where}: {error.message[:200]}")
            if len(found) >= limit:
                break
        return found
