"""An offline JSON-LD document loader: bundled contexts only, never a download.

A remote `@context` that is not bundled is an error naming the URL, so a hostile document
cannot make the node fetch anything (no SSRF, no tracking, no slow loads).
"""

from __future__ import annotations

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
def load_context(url: str) -> dict[str, Any]:
    """The parsed bundled document for URL; raises VocabError if it is not bundled."""
    key = _key(url)
    if key is None:
        raise VocabError(
            VocabReason.UNBUNDLED_CONTEXT,
            f"the JSON-LD context {url!r} is not bundled with communs and will not be fetched",
        )
    return json.loads((_CONTEXTS / _index()[key]).read_text())


def document_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """pyld's document-loader interface over the bundled contexts."""
    return {"contextUrl": None, "documentUrl": url, "document": load_context(url)}
