"""JSON-LD nodes of a repeated shape turned into triples without parsing each one.

A catalog's datasets are written alike: the same keys, types and nesting, other values. A
shape is parsed once, as a template whose values are placeholders, and each dataset of that
shape takes its own values into the template's triples. What the parser did with each
placeholder says what the value becomes: a literal (verbatim, with the template's datatype
or language), or an IRI. An IRI is taken as it is only when the parser would leave it so (an
absolute IRI whose scheme is no term of the context, no dot segment); any other value in an
IRI position, and any value the parser transformed, becomes part of the shape instead, so its
template holds the real value and the parser decides. Keywords' values (`@type`, `@language`,
`@context`...) are always part of the shape: they change how everything else is read.

`triples` returns None where a node cannot be read this way; the caller parses it whole."""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

from connector.crawler.rdf import RdfProblem, inline_context, jsonld_triples

MARK = "x-communs-slot"  # never produced by a parser unless it came from a placeholder
PLACE = f"urn:{MARK}:"
BIG = 10**15  # integer placeholders are BIG + slot; integers this large stay in the shape
_PLACEHOLDER = re.compile(rf"urn:{MARK}:(\d+)")
_PLACEHOLDER_NUMBER = re.compile(rf"{MARK}:(\d+)")
_SCHEME = re.compile(r"[a-z][a-z0-9+.\-]*:")
_KEPT_KEYWORDS = ("@id", "@value")  # keywords whose values are slots, not shape


class _Unusable(Exception):
    """A value no template can stand for (as large as a placeholder, or like one)."""


@dataclass(frozen=True)
class _Template:
    # per triple: subject, predicate and object specs; a spec is ("c", term) a constant,
    # ("b", n) the template's n-th blank node, ("i", slot) an IRI, ("l", slot, datatype,
    # language) a literal, ("n", slot, datatype) an integer literal
    triples: tuple[tuple[tuple, tuple, tuple], ...]
    iri_slots: frozenset[int]
    odd_slots: frozenset[int]  # transformed by the parser: their values belong in the shape
    blanks: int


def _shape(value: Any, under: str, parts: list[Any], slots: list[Any]) -> None:
    """VALUE's shape appended to PARTS as tokens (keys prefixed with ":"), its slot values to
    SLOTS, both in walk order."""
    if isinstance(value, dict):
        parts.append("{")
        for k, v in value.items():
            parts.append(":" + k)
            if k == "@context":
                parts.append(("c", json.dumps(v, sort_keys=True)))
            else:
                _shape(v, k, parts, slots)
        parts.append("}")
    elif isinstance(value, list):
        parts.append("[")
        for v in value:
            _shape(v, under, parts, slots)
        parts.append("]")
    elif under[:1] == "@" and under not in _KEPT_KEYWORDS:
        if isinstance(value, str) and MARK in value:  # it would read as a placeholder
            raise _Unusable
        parts.append(("v", type(value).__name__, value))
    elif isinstance(value, str):
        slots.append(value)
        parts.append("s")
    elif type(value) is int:
        if abs(value) >= BIG:
            raise _Unusable
        slots.append(value)
        parts.append("i")
    else:
        parts.append(("v", type(value).__name__, value))


def _fill(value: Any, under: str, slots: list[Any], fixed: dict[int, Any], at: list[int]) -> Any:
    """VALUE with each slot replaced by its placeholder, or by its value where FIXED says."""
    if isinstance(value, dict):
        return {k: v if k == "@context" else _fill(v, k, slots, fixed, at) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, under, slots, fixed, at) for v in value]
    keyword = under.startswith("@") and under not in _KEPT_KEYWORDS
    if (isinstance(value, str) or type(value) is int) and not keyword:
        n = at[0]
        at[0] += 1
        if n in fixed:
            return fixed[n]
        return PLACE + str(n) if isinstance(value, str) else BIG + n
    return value


def _compile(triples: list[ox.Triple], ints: set[int]) -> _Template:
    blanks: dict[ox.BlankNode, int] = {}
    iri: set[int] = set()
    odd: set[int] = set()

    def spec(term: Any) -> tuple:
        if isinstance(term, ox.BlankNode):
            return ("b", blanks.setdefault(term, len(blanks)))
        if isinstance(term, ox.NamedNode):
            found = _PLACEHOLDER.fullmatch(term.value)
            if found:
                iri.add(int(found.group(1)))
                return ("i", int(found.group(1)))
        if isinstance(term, ox.Literal):
            found = _PLACEHOLDER.fullmatch(term.value)
            if found:
                return ("l", int(found.group(1)), term.datatype, term.language)
            if term.value.isdigit() and int(term.value) - BIG in ints:
                return ("n", int(term.value) - BIG, term.datatype)
        if MARK in str(term):  # transformed: those values go into the shape
            odd.update(int(n) for n in _PLACEHOLDER_NUMBER.findall(str(term)) or [-1])
        return ("c", term)

    compiled = tuple((spec(t.subject), spec(t.predicate), spec(t.object)) for t in triples)
    if any(p[0] != "c" for _, p, _ in compiled):  # a value as a property: nothing to trust
        odd.add(-1)
    # an integer that shows nowhere as itself may have been transformed (to a double...)
    odd.update(ints - {o[1] for _, _, o in compiled if o[0] == "n"})
    return _Template(compiled, frozenset(iri), frozenset(odd), len(blanks))


def _build(spec: tuple, slots: list[Any], iris: dict[int, ox.NamedNode | None],
           blanks: list[ox.BlankNode]) -> Any:
    kind = spec[0]
    if kind == "c":
        return spec[1]
    if kind == "b":
        return blanks[spec[1]]
    if kind == "i":
        return iris[spec[1]]
    if kind == "l":
        if spec[3] is not None:
            return ox.Literal(slots[spec[1]], language=spec[3])
        return ox.Literal(slots[spec[1]], datatype=spec[2])
    return ox.Literal(str(slots[spec[1]]), datatype=spec[2])


class Templates:
    """Templates of the shapes seen, the last MAX kept."""

    def __init__(self, max_templates: int = 256) -> None:
        self.max = max_templates
        self._cache: OrderedDict[Any, _Template | None] = OrderedDict()
        self._terms: dict[str, frozenset[str]] = {}
        self._iris: dict[tuple[str, frozenset[str]], ox.NamedNode | None] = {}  # plain IRIs, bounded
        self.parsed = 0  # templates parsed (for tests: a shape seen again costs none)

    def triples(self, context: Any, context_key: str, node: dict[str, Any], base: str,
                max_triples: int) -> list[ox.Triple] | None:
        """NODE's triples as `jsonld_triples({"@context": CONTEXT, "@graph": [NODE]})` gives
        them (blank nodes fresh), or None when a template cannot say. CONTEXT_KEY is CONTEXT
        as canonical JSON (the caller computes it once per document)."""
        terms = self._terms.get(context_key)
        if terms is None:
            try:
                terms = frozenset(_keys(inline_context(context)))
            except RdfProblem:
                terms = frozenset({"urn"})
            self._terms[context_key] = terms
        if "urn" in terms or MARK in context_key:  # placeholders would not read as IRIs
            return None
        parts: list[Any] = [context_key, base]
        slots: list[Any] = []
        try:
            _shape(node, "", parts, slots)
        except _Unusable:
            return None
        if any(MARK in v for v in slots if isinstance(v, str)):  # it would read as a placeholder
            return None
        shape = tuple(parts)
        template = self._template(shape, context, node, slots, {}, base, max_triples)
        if template is None or -1 in template.odd_slots:
            return None
        fixed = {n: slots[n] for n in template.odd_slots}
        fixed |= {n: slots[n] for n in template.iri_slots if self._iri(slots[n], terms) is None}
        if fixed:
            shape = (shape, tuple(sorted(fixed.items())))
            template = self._template(shape, context, node, slots, fixed, base, max_triples)
            if template is None or template.odd_slots or any(
                    self._iri(slots[n], terms) is None for n in template.iri_slots):
                return None
        iris = {n: self._iri(slots[n], terms) for n in template.iri_slots}
        blanks = [ox.BlankNode() for _ in range(template.blanks)]
        try:
            return [ox.Triple(_build(s, slots, iris, blanks), p[1], _build(o, slots, iris, blanks))
                    for s, p, o in template.triples]
        except (ValueError, TypeError):
            return None

    def _iri(self, value: Any, terms: frozenset[str]) -> ox.NamedNode | None:
        """VALUE as the IRI the parser would make of it unchanged, or None."""
        key = (value, terms)
        if key not in self._iris:
            if len(self._iris) > 65536:
                self._iris.clear()
            self._iris[key] = _plain_iri(value, terms)
        return self._iris[key]

    def _template(self, shape: Any, context: Any, node: dict[str, Any], slots: list[Any],
                  fixed: dict[int, Any], base: str, max_triples: int) -> _Template | None:
        if shape in self._cache:
            self._cache.move_to_end(shape)
            return self._cache[shape]
        filled = _fill(node, "", slots, fixed, [0])
        ints = {n for n, v in enumerate(slots) if not isinstance(v, str) and n not in fixed}
        self.parsed += 1
        try:
            template: _Template | None = _compile(
                jsonld_triples({"@context": context, "@graph": [filled]}, base, max_triples), ints)
        except RdfProblem:
            template = None
        self._cache[shape] = template
        if len(self._cache) > self.max:
            self._cache.popitem(last=False)
        return template


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value).union(*(_keys(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_keys(v) for v in value))
    return set()


def _plain_iri(value: Any, terms: frozenset[str]) -> ox.NamedNode | None:
    """VALUE as an IRI when the parser would keep it, in an IRI position, exactly as it is."""
    if not isinstance(value, str):
        return None
    scheme = _SCHEME.match(value)
    if scheme is None or scheme.group(0)[:-1] in terms or "/." in value:
        return None
    try:
        return ox.NamedNode(value)
    except ValueError:
        return None
