"""The cycle collector during a crawl: run less often and spared what finished sources made,
then given everything back as it was, whatever happens in between."""

from __future__ import annotations

import gc

import pytest

from connector.crawler.collect import YOUNG, fewer_collections, set_aside


def test_a_crawl_changes_the_collector_only_while_it_runs() -> None:
    before = gc.get_threshold()
    with fewer_collections():
        assert gc.get_threshold()[0] >= YOUNG
        kept = [object() for _ in range(10)]
        set_aside()
        assert gc.get_freeze_count() >= len(kept)
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
    with pytest.raises(RuntimeError), fewer_collections():
        set_aside()
        raise RuntimeError("a crawl that fails")
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
