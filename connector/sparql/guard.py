"""A lexical look at a query before it reaches the engine: cheap refusals with clear messages.

pyoxigraph parses queries but exposes no syntax tree, and its parser recurses: a query nested
a few thousand levels deep crashes the process (measured: SIGSEGV). So the HTTP process scans
the tokens itself, skipping strings, IRIs, comments, variables and prefixed names, and refuses:

- SPARQL Update forms (the endpoint is read-only);
- SERVICE clauses (pyoxigraph would fetch the remote endpoint: the node never does that
  on behalf of an anonymous caller);
- nesting of brackets deeper than a bound;
- more tokens than a bound (the body limit already bounds the text).

Everything else, including syntax errors, is left to pyoxigraph's parser in the worker.

The same tokenizer tells the worker whether a query names its own dataset (FROM, FROM NAMED):
only a query that does not, sent without dataset parameters, runs on the union of all graphs.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

MAX_DEPTH = 128
MAX_TOKENS = 50_000

_TOKEN = re.compile(
    r"""
      (?P<space>\s+)
    | (?P<comment>\#[^\n\r]*)
    | (?P<string>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'''(?:[^'\\]|\\.|'(?!''))*'''
                |"(?:[^"\\\n\r]|\\.)*"|'(?:[^'\\\n\r]|\\.)*')
    | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
    | (?P<var>[?$][^\s{}()\[\],;.=<>!&|+*/"'^]+)
    | (?P<pname>(?:[A-Za-z_][\w.-]*)?:(?:\\.|[^\s{}()\[\],;"'<>\#=!&|+*/^])*)
    | (?P<bnode>_:[\w.-]+)
    | (?P<word>[A-Za-z][\w-]*)
    | (?P<open>[{(\[])
    | (?P<close>[})\]])
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)

UPDATE_KEYWORDS = frozenset(
    {"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"}
)
_PROLOGUE = frozenset({"BASE", "PREFIX"})


class QueryRefused(ValueError):
    """A query the endpoint will not run; the message is one sentence for the caller."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def check_query(text: str, max_depth: int = MAX_DEPTH, max_tokens: int = MAX_TOKENS) -> None:
    depth = 0
    tokens = 0
    first_word: str | None = None
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind in ("space", "comment"):
            continue
        tokens += 1
        if tokens > max_tokens:
            raise QueryRefused(f"the query has more than {max_tokens} tokens")
        if kind == "word":
            word = match.group().upper()
            if first_word is None and word not in _PROLOGUE:
                first_word = word
                if word in UPDATE_KEYWORDS:
                    raise QueryRefused(
                        "SPARQL Update is not accepted: this endpoint is read-only", status=403
                    )
            if word == "SERVICE":
                raise QueryRefused(
                    "SERVICE clauses are not allowed: this endpoint never queries remote endpoints"
                )
        elif kind == "open":
            depth += 1
            if depth > max_depth:
                raise QueryRefused(f"the query nests brackets more than {max_depth} levels deep")
        elif kind == "close":
            depth = max(0, depth - 1)


_MAY_NAME_DATASET = re.compile("from", re.IGNORECASE)
_PN_ESCAPE = re.compile(r"\\(.)")  # a prefixed name's local part escapes characters with \


def names_dataset(text: str) -> bool:
    """Whether the query has a dataset clause (FROM or FROM NAMED, in any case).

    A subquery cannot have one, so any FROM keyword outside strings, IRIs and comments is one;
    a language tag spelled "from" ("x"@from) is not.
    """
    if _MAY_NAME_DATASET.search(text) is None:  # most queries: no scan at all
        return False
    for match in _TOKEN.finditer(text):
        if (
            match.lastgroup == "word"
            and match.group().upper() == "FROM"
            and not text.endswith("@", 0, match.start())
        ):
            return True
    return False


def dataset_clauses(text: str, base_iri: str | None = None) -> tuple[list[str], list[str]] | None:
    """The graphs of the query's FROM and FROM NAMED clauses, or None when it has none.

    Prefixed names are expanded with the query's PREFIX declarations and relative IRIs resolved
    against its BASE (else `base_iri`), so that an endpoint that narrows the dataset to what a
    caller may see keeps the query's meaning; a name with an undeclared prefix is left out (the
    parser refuses such a query anyway).
    """
    if _MAY_NAME_DATASET.search(text) is None:
        return None
    tokens = [
        (m.lastgroup, m.group(), m.start())
        for m in _TOKEN.finditer(text)
        if m.lastgroup not in ("space", "comment")
    ]
    prefixes: dict[str, str] = {}
    base, found = base_iri, False
    default: list[str] = []
    named: list[str] = []

    def iri(kind: str | None, token: str) -> str | None:
        if kind == "iri":
            return urljoin(base, token[1:-1]) if base else token[1:-1]
        if kind == "pname":
            prefix, _, local = token.partition(":")
            namespace = prefixes.get(prefix)
            return None if namespace is None else namespace + _PN_ESCAPE.sub(r"\1", local)
        return None

    for i, (kind, token, start) in enumerate(tokens):
        word = token.upper() if kind == "word" else None
        following = tokens[i + 1 : i + 4]
        if word == "PREFIX" and len(following) >= 2 and following[0][0] == "pname":
            namespace = iri(*following[1][:2])
            if namespace is not None:
                prefixes[following[0][1].partition(":")[0]] = namespace
        elif word == "BASE" and following:
            base = iri(*following[0][:2]) or base
        elif word == "FROM" and not text.endswith("@", 0, start):
            found = True
            into = default
            if following and following[0][0] == "word" and following[0][1].upper() == "NAMED":
                into, following = named, following[1:]
            graph = iri(*following[0][:2]) if following else None
            if graph is not None:
                into.append(graph)
    return (default, named) if found else None
