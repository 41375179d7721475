"""CometBFT's event query language, for `tx_search` and subscriptions:
`conditions joined by AND`, each `tag op value` with op one of = < <= > >= CONTAINS, or
`tag EXISTS`; values are 'quoted strings' or numbers (`transfer.recipient='com1x' AND
tx.height>=5`). TIME and DATE values are refused: this index keeps no typed times."""

from __future__ import annotations

import re
from decimal import Decimal

from ..txindex import ORDERS, Condition, compare, number

MAX_QUERY = 512
_TOKEN = re.compile(r"""\s*(?:(?P<str>'[^']*')|(?P<time>(?:TIME|DATE)\s+[\dTZ:.+-]+)
                        |(?P<op><=|>=|=|<|>)|(?P<num>\d+(?:\.\d+)?(?![\w.]))
                        |(?P<word>[A-Za-z_][\w.\-]*)|(?P<bad>\S))""", re.X)


class QueryError(ValueError):
    pass


def _tokens(text: str) -> list[tuple[str, str]]:
    out = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if kind is None:
            continue
        if kind == "bad":
            raise QueryError(f"unexpected {m.group(kind)!r} at position {m.start(kind)}")
        out.append((kind, m.group(kind)))
    return out


def parse(text: str) -> list[Condition]:
    """The conditions of a query, or QueryError saying what is wrong with it."""
    if not text.strip():
        raise QueryError("the query is empty")
    if len(text) > MAX_QUERY:
        raise QueryError(f"the query is longer than {MAX_QUERY} characters")
    toks = _tokens(text)
    conds: list[Condition] = []
    pos = 0
    while True:
        if pos >= len(toks) or toks[pos][0] != "word" or toks[pos][1] in ("AND", "EXISTS",
                                                                           "CONTAINS"):
            raise QueryError("expected an event attribute such as transfer.recipient "
                             f"at condition {len(conds) + 1}")
        tag = toks[pos][1]
        pos += 1
        kind, op = toks[pos] if pos < len(toks) else ("end", "")
        if kind == "word" and op == "EXISTS":
            conds.append(Condition(tag, "EXISTS"))
            pos += 1
        elif kind in ("op", "word") and op in ("=", "<", "<=", ">", ">=", "CONTAINS"):
            pos += 1
            vkind, raw = toks[pos] if pos < len(toks) else ("end", "")
            if vkind == "time":
                raise QueryError("TIME and DATE values are not supported by this node's index")
            if vkind == "str":
                if op in ORDERS:
                    raise QueryError(f"{tag} {op} needs a number, not a string")
                value: str | Decimal = raw[1:-1]
            elif vkind == "num" and op != "CONTAINS":
                value = Decimal(raw)
            else:
                raise QueryError(f"expected a value after {tag} {op}")
            conds.append(Condition(tag, op, value))
            pos += 1
        else:
            raise QueryError(f"expected an operator (=, <, <=, >, >=, CONTAINS, EXISTS) "
                             f"after {tag}")
        if pos == len(toks):
            break
        if toks[pos] != ("word", "AND"):
            raise QueryError(f"expected AND after the condition on {tag}")
        pos += 1
    for c in conds:
        if c.key == "tx.hash" and (c.op != "=" or not isinstance(c.value, str)
                                   or not re.fullmatch(r"[0-9A-Fa-f]{64}", c.value)):
            raise QueryError("tx.hash must be compared with = to a quoted 64-digit hex hash")
        if c.key == "tx.height" and c.op != "EXISTS" and not isinstance(c.value, Decimal):
            raise QueryError("tx.height must be compared to a number")
    return conds


def matches(conds: list[Condition], events: dict[str, list[str]]) -> bool:
    """Whether an event map (`type.key` -> values, `tm.event`...) satisfies every condition,
    as CometBFT's pubsub matches subscriptions."""
    for c in conds:
        values = events.get(c.key, [])
        if c.op == "EXISTS":
            ok = bool(values)
        elif c.op == "CONTAINS":
            ok = any(str(c.value) in v for v in values)
        elif isinstance(c.value, str):
            ok = c.value in values
        else:
            ok = any(n is not None and c.value is not None and compare(n, c.op, c.value)
                     for n in map(number, values))
        if not ok:
            return False
    return True
