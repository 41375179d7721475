"""Refusing XML that declares entities, before any parser expands them.

Both RDF/XML parsers the importer uses expand internal entities: pyoxigraph without any
limit (a billion-laughs file of 1 KB becomes gigabytes), expat up to an amplification guard.
An RDF/XML catalog has no use for them, so a document type declaration that declares one
(or refers to an external one) is refused, read with defusedxml up to the root element only:
the check costs the prolog, not the document.
"""

from __future__ import annotations

import xml.sax
from xml.sax.handler import ContentHandler

from defusedxml import DefusedXmlException
from defusedxml.sax import parseString

from connector.catalog.formats import ACCEPTED
from connector.errors import ConnectorError, Reason


class _RootReached(Exception):
    """The prolog, where a DTD would be, is behind us."""


class _StopAtRoot(ContentHandler):
    def startElement(self, name, attrs):  # noqa: N802 - the SAX interface
        raise _RootReached


def refuse_entities(data: bytes, source: str) -> None:
    try:
        parseString(data, _StopAtRoot(), forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except _RootReached:
        pass
    except DefusedXmlException:
        raise ConnectorError(
            Reason.BAD_INPUT,
            f"{source} declares XML entities or an external DTD, which are refused"
            " (entities can expand a small file into gigabytes)",
        ) from None
    except xml.sax.SAXParseException as exc:
        # expat could not read the prolog: refused rather than left to a parser that might
        raise ConnectorError(
            Reason.BAD_INPUT,
            f"{source} is not valid RDF/XML (line {exc.getLineNumber()}: {exc.getMessage()}); {ACCEPTED}",
        ) from None
