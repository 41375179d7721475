"""An offline JSON-LD document loader: bundled contexts only, never a download.

A remote `@context` that is not bundled is an error naming the URL, so a hostile document
cannot make the node fetch anything (no SSRF, no tracking, no slow loads).
"""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import Any

from vocab.errors import VocabError, VocabReason

_CONTEXTS = resources.files("vocab") / "contexts"


@cache
def _index() -> dict[str, str]:
    return json.loads((_CONTEXTS / "index.json").read_text())


def bundled_urls() -> list[str]:
    return sorted(_index())


def _key(url: str) -> str | None:
    index = _index()
    for candidate in (url, url.split("#", 1)[0], url.rstrip("/")):
        if candidate in index:
            return candidate
    return None


@cache
def _parsed(url: str) -> dict[str, Any]:
    key = _key(url)
    if key is None:
        raise VocabError(
            VocabReason.UNBUNDLED_CONTEXT,
            f"the JSON-LD context {url!r} is not bundled with communs and will not be fetched",
        )
    return _inline_imports(json.loads((_CONTEXTS / _index()[key]).read_text()))


def _inline_imports(node: Any) -> Any:
    """Resolve `@import` here, as JSON-LD 1.1 defines it (the imported definitions, overridden
    by the importing context's own): pyld rewrites the imported context in place and its
    shared cache then breaks every later document that uses that context directly."""
    if isinstance(node, list):
        return [_inline_imports(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _inline_imports(value) for key, value in node.items()}
    imported = node.pop("@import", None)
    if isinstance(imported, str):
        base = _parsed(imported)["@context"]
        node = {**copy.deepcopy(base), **node}
    return node


def load_context(url: str) -> dict[str, Any]:
    """A fresh copy of the bundled document for URL (pyld may modify what it is given);
    raises VocabError if it is not bundled."""
    return copy.deepcopy(_parsed(url))


def document_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """pyld's document-loader interface over the bundled contexts."""
    return {"contextUrl": None, "documentUrl": url, "document": load_context(url)}
