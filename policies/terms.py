"""IRIs of ODRL 2.2, of the communs ODRL profile, and the ODRL action hierarchy.

The communs profile namespace (`https://w3id.org/communs/odrl/`) is ours; see
docs/odrl-profile.md. Nothing here fetches anything.
"""

from __future__ import annotations

from functools import cache

ODRL = "http://www.w3.org/ns/odrl/2/"
COMMUNS = "https://w3id.org/communs/odrl/"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDF_TYPE = RDF + "type"
RDF_VALUE = RDF + "value"

PROFILE = COMMUNS + "profile"

# Policy subclasses and conflict strategies.
SET, OFFER, AGREEMENT, POLICY = ODRL + "Set", ODRL + "Offer", ODRL + "Agreement", ODRL + "Policy"
PERM, PROHIBIT, INVALID = ODRL + "perm", ODRL + "prohibit", ODRL + "invalid"

# Operators of the ODRL core vocabulary.
OPERATORS = frozenset(
    ODRL + name
    for name in ("eq neq lt lteq gt gteq isA hasPart isPartOf isAllOf isAnyOf isNoneOf".split())
)
LOGICAL = tuple(ODRL + name for name in ("or", "xone", "and", "andSequence"))

# Actions of the communs profile (compute-to-data).
COMPUTE = COMMUNS + "compute"

# ODRL 2.2 core vocabulary `odrl:includedIn` (child -> parent); `use` and `transfer` are the
# roots. `write` is deprecated in ODRL 2.2 but still used (SolidLab suite): kept under `use`.
_INCLUDED_IN: dict[str, str] = {
    **{
        ODRL + name: ODRL + "use"
        for name in (
            "acceptTracking aggregate annotate anonymize archive attribute compensate "
            "concurrentUse delete derive digitize distribute ensureExclusivity execute "
            "grantUse include index inform install modify move nextPolicy obtainConsent "
            "play present print read reproduce reviewPolicy stream synchronize textToSpeech "
            "transform translate uninstall watermark write"
        ).split()
    },
    ODRL + "display": ODRL + "play",
    ODRL + "extract": ODRL + "reproduce",
    ODRL + "give": ODRL + "transfer",
    ODRL + "sell": ODRL + "transfer",
    COMPUTE: ODRL + "use",
}


def parent_action(action: str) -> str | None:
    return _INCLUDED_IN.get(action)


@cache
def ancestors(action: str) -> frozenset[str]:
    """The action itself and every action it is (transitively) included in."""
    out = [action]
    seen = {action}
    parent = _INCLUDED_IN.get(action)
    while parent is not None and parent not in seen:
        out.append(parent)
        seen.add(parent)
        parent = _INCLUDED_IN.get(parent)
    return frozenset(out)


def covered_by(action: str) -> frozenset[str]:
    """Every known action that a permission or prohibition of ACTION also covers."""
    return frozenset(a for a in (*_INCLUDED_IN, action) if action in ancestors(a))


def odrl(name: str) -> str:
    return ODRL + name


def communs(name: str) -> str:
    return COMMUNS + name


def short(iri: str) -> str:
    """A readable name for reasons: `odrl:read`, `communs:compute`, or the IRI itself."""
    if iri.startswith(ODRL):
        return "odrl:" + iri[len(ODRL) :]
    if iri.startswith(COMMUNS):
        return "communs:" + iri[len(COMMUNS) :]
    return iri
