"""The cyclic garbage collector's pace for a long-running ledger process (`ledger run`,
`ledger app`).

A validator allocates millions of short-lived objects per minute (decoded transactions,
events, tree nodes) while holding large, long-lived caches (parsed transactions, tree chunks,
recent store values). With CPython's defaults a full collection runs whenever a quarter of the
heap is new since the last one, and each walks every cached object: about a fifth of a
validator's CPU under a transfer load. The young generations keep their default pace (they
are cheap and keep memory flat); a full collection waits for many more young ones, and what
the process built while starting (modules, genesis, caches warmed at start) is moved out of
the collector's sight. Reference counting still frees everything that is not in a cycle at
once; this only delays reclaiming cycles, which the ledger's hot paths do not create.

No effect on the state machine: collection order never reaches hashed or stored data."""

from __future__ import annotations

import gc

YOUNG = 700  # CPython's default: allocations between two young collections
MIDDLE = 10  # CPython's default: young collections per middle one
FULL = 1000  # middle collections per full one (default 10)


def tune() -> None:
    """Set this process's collector pace; call once, when start-up is done."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG, MIDDLE, FULL)
