"""pyoxigraph terms as rdflib terms: pyoxigraph parses fast, pySHACL wants rdflib graphs."""

from __future__ import annotations

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef
from rdflib.term import Node

_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def rdflib_term(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> Node:
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    if term.datatype.value == _XSD_STRING:  # rdflib's parsers give plain literals: match them
        return Literal(term.value)
    return Literal(term.value, datatype=URIRef(term.datatype.value))
