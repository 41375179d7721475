"""The [crawler] table: defaults, every key read, and a clear error for each wrong value."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.crawler.config import CrawlerConfig, from_table, load
from connector.errors import ConnectorError


def test_defaults_without_a_crawler_table(tmp_path: Path) -> None:
    (tmp_path / "communs.toml").write_text('[node]\nname = "x"\n')
    assert load(tmp_path) == CrawlerConfig()
    assert load(tmp_path / "missing") == CrawlerConfig()


def test_every_key_is_read(tmp_path: Path) -> None:
    (tmp_path / "communs.toml").write_text(
        '[crawler]\nenabled = true\nrpc_url = "http://127.0.0.1:26657"\ngenesis = "g.json"\n'
        'interval = 60\nconcurrency = 3\nrequest_timeout = 2.5\nmember_timeout = 30\n'
        'max_document_bytes = 1000\nmax_page_bytes = 2000\nmax_pages = 5\nmax_triples = 100\n'
        'page_size = 50\ngraph_store_url = "http://127.0.0.1:7878/store"\n'
        'update_url = "http://127.0.0.1:7878/update"\nstore_url = "http://127.0.0.1:7878/query"\n')
    c = load(tmp_path)
    assert (c.enabled, c.rpc_url, c.genesis, c.interval, c.concurrency) == (
        True, "http://127.0.0.1:26657", "g.json", 60.0, 3)
    assert (c.request_timeout, c.member_timeout, c.max_document_bytes, c.max_page_bytes) == (
        2.5, 30.0, 1000, 2000)
    assert (c.max_pages, c.max_triples, c.page_size) == (5, 100, 50)
    assert c.external and c.update_url == "http://127.0.0.1:7878/update"


@pytest.mark.parametrize(("table", "said"), [
    ({"enabled": "yes"}, "enabled must be true or false"),
    ({"interval": 0}, "interval must be a number of seconds"),
    ({"interval": True}, "interval must be a number of seconds"),
    ({"concurrency": 0}, "concurrency must be a whole number"),
    ({"max_pages": 1.5}, "max_pages must be a whole number"),
    ({"rpc_url": "ftp://x"}, "rpc_url must be an http(s) URL"),
    ({"genesis": ""}, "genesis must be a non-empty string"),
    ({"enabled": True}, "enabled needs rpc_url"),
    ({"graph_store_url": "http://s/store"}, "graph_store_url needs update_url"),
    ({"intervall": 5}, "unknown keys: intervall"),
])
def test_a_wrong_value_is_one_clear_sentence(table: dict, said: str) -> None:
    with pytest.raises(ConnectorError) as caught:
        from_table(table, "communs.toml")
    assert said in str(caught.value) and "[crawler]" in str(caught.value)


def test_a_file_that_is_not_toml_is_refused(tmp_path: Path) -> None:
    (tmp_path / "communs.toml").write_text("[crawler\n")
    with pytest.raises(ConnectorError, match="not valid TOML"):
        load(tmp_path)
