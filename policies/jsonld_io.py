"""Offline JSON-LD processing for policies: bundled contexts only, relative IRIs kept
relative (never resolved against an invented base)."""

from __future__ import annotations

import json
from typing import Any

from pyld import jsonld
from pyld.jsonld import JsonLdError

from policies.errors import PolicyError, PolicyReason
from vocab.errors import VocabError
from vocab.loader import document_loader


def pyld_options() -> dict[str, Any]:
    """pyld options: the offline loader, and no invented base."""
    return {"documentLoader": document_loader, "base": None}


def expand_jsonld(doc: Any) -> list[dict[str, Any]]:
    """Expanded JSON-LD, offline; relative IRIs stay relative (no invented base)."""
    if isinstance(doc, str | bytes):
        try:
            doc = json.loads(doc)
        except (ValueError, UnicodeDecodeError) as exc:
            raise PolicyError(PolicyReason.NOT_JSON, f"not valid JSON: {exc}") from None
        except RecursionError:
            raise PolicyError(PolicyReason.TOO_LARGE, "the document is nested too deeply") from None
    if not isinstance(doc, dict | list):
        raise PolicyError(PolicyReason.NOT_JSON, "a policy must be a JSON object")
    try:
        return jsonld.expand(doc, pyld_options())
    except JsonLdError as exc:
        cause: BaseException | None = exc
        while cause is not None:
            if isinstance(cause, VocabError):
                raise PolicyError(PolicyReason.INVALID_JSONLD, str(cause)) from None
            cause = getattr(cause, "cause", None) or cause.__cause__
        raise PolicyError(PolicyReason.INVALID_JSONLD, f"invalid JSON-LD: {exc}") from None
    except RecursionError:
        raise PolicyError(PolicyReason.TOO_LARGE, "the document is nested too deeply") from None
    except Exception as exc:  # pyld has internal errors on some hostile inputs
        message = f"invalid JSON-LD ({type(exc).__name__}: {exc})"
        raise PolicyError(PolicyReason.INVALID_JSONLD, message) from None
