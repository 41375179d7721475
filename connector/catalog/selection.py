"""Which datasets a catalog response holds: a page (offset, limit, with its Link header), or a selection of dataset
IRIs, which a crawler asks for once a member's manifest (each dataset's IRI and content hash)
told it what changed; and that manifest.

A DSP CatalogRequestMessage selects with a filter element
`{"@type": CRAWL + "Datasets", CRAWL + "dataset": [IRI, ...]}`; the DCAT export with
repeated `?dataset=IRI` parameters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from connector.errors import ConnectorError, Reason

CRAWL = "https://w3id.org/communs/crawl#"
SELECTION = CRAWL + "Datasets"
SELECTED = CRAWL + "dataset"
MAX_DSP_SELECTION = 1000  # IRIs per CatalogRequestMessage
MAX_EXPORT_SELECTION = 100  # IRIs per GET /catalog (they travel in the URL)
DEFAULT_PAGE, MAX_PAGE = 100, 500


@dataclass(frozen=True)
class View:
    """A page of what a caller may see, or (IRIS not None) the datasets among those IRIs."""

    offset: int = 0
    limit: int = 0
    iris: tuple[str, ...] | None = None

    @property
    def selects(self) -> bool:
        return self.iris is not None


def from_filter(filters: Any) -> tuple[str, ...] | None:
    """The IRIs a CatalogRequestMessage's `filter` selects (None: no selection; the filter's
    other elements are ignored, as before)."""
    if not isinstance(filters, list):
        return None
    selected: list[str] | None = None
    for element in filters:
        if not isinstance(element, dict) or element.get("@type") != SELECTION:
            continue
        iris = element.get(SELECTED)
        if not isinstance(iris, list) or not all(isinstance(iri, str) for iri in iris):
            raise ConnectorError(Reason.BAD_INPUT, f"a {SELECTION} filter needs {SELECTED}: a list of dataset IRIs (strings)")
        selected = [*(selected or ()), *iris]
    return None if selected is None else _capped(selected, MAX_DSP_SELECTION, "per catalog request")


def from_query(values: Sequence[str]) -> tuple[str, ...] | None:
    """The IRIs of the DCAT export's `dataset` query parameters (None when there are none)."""
    return _capped(values, MAX_EXPORT_SELECTION, "per export request (repeat ?dataset=IRI)") if values else None


def _capped(iris: Sequence[str], cap: int, where: str) -> tuple[str, ...]:
    if len(iris) > cap:
        raise ConnectorError(Reason.BAD_INPUT, f"select at most {cap} datasets {where}, not {len(iris)}: split the selection")
    return tuple(dict.fromkeys(iris))  # each once, in the order asked


def manifest(catalog: str, pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """What a member serves, without loading a dataset: each one's IRI and content hash."""
    return {"catalog": catalog, "total": len(pairs), "datasets": pairs}


def paging(query: Mapping[str, str]) -> tuple[int, int]:
    """(offset, limit) from a request's query."""
    try:
        offset = int(query.get("offset", "0"))
        limit = int(query.get("limit", str(DEFAULT_PAGE)))
    except ValueError:
        raise ConnectorError(Reason.BAD_INPUT, "offset and limit must be integers") from None
    if offset < 0 or not 1 <= limit <= MAX_PAGE:
        raise ConnectorError(Reason.BAD_INPUT, f"offset must be >= 0 and limit between 1 and {MAX_PAGE}")
    return offset, limit


def links(base: str, offset: int, limit: int, total: int) -> dict[str, str]:
    found = {"self": f"{base}?offset={offset}&limit={limit}", "first": f"{base}?offset=0&limit={limit}"}
    if offset + limit < total:
        found["next"] = f"{base}?offset={offset + limit}&limit={limit}"
    if offset > 0:
        found["previous"] = f"{base}?offset={max(0, offset - limit)}&limit={limit}"
    last = max(0, (total - 1) // limit * limit)
    found["last"] = f"{base}?offset={last}&limit={limit}"
    return found


def link_header(found: dict[str, str]) -> str:
    return ", ".join(f'<{url}>; rel="{rel}"' for rel, url in found.items() if rel != "self")
