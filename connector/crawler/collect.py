"""Python's cycle collector during a crawl. A big catalog makes millions of small objects (the
parsed triples, most of them kept from one crawl to the next); with the default thresholds the
collector walks them again and again, which cost about as much as parsing them. During a crawl
it runs less often, and what a finished source produced is set aside (gc.freeze) so that it is
not walked again; afterwards everything goes back to the collector. Triples hold no cycles:
refcounting frees them as before, whichever generation they are in."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

YOUNG = 100_000  # allocations between collections of the youngest generation (default 700)


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    old = gc.get_threshold()
    gc.set_threshold(max(old[0], YOUNG), *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)
        gc.unfreeze()  # cycles made meanwhile are found by the next full collection


def set_aside() -> None:
    """What exists now is not walked again until the crawl ends."""
    gc.freeze()
