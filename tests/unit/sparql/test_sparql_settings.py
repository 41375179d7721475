"""The [sparql] table of communs.toml: each caller's share of the query workers."""

from __future__ import annotations

import pytest

from connector.config import SparqlConfig, load
from connector.errors import ConnectorError
from connector.sparql import Limits, Share, SparqlSettings

NODE = '[node]\nname = "ACME"\n[public]\nurl = "http://127.0.0.1:8181"\n'


def test_without_a_sparql_table_the_defaults_hold(tmp_path):
    (tmp_path / "communs.toml").write_text(NODE)
    assert load(tmp_path).sparql == SparqlConfig()
    # one set of defaults, whether the node reads them from its folder or a test uses Limits()
    assert SparqlSettings.of(SparqlConfig()) == SparqlSettings()


def test_the_shares_come_from_the_table(tmp_path):
    (tmp_path / "communs.toml").write_text(
        NODE + "[sparql]\nanonymous_running = 2\nanonymous_waiting = 0\nanonymous_timeout = 3\n"
        "member_timeout = 30.5\n"
    )
    limits = SparqlSettings.of(load(tmp_path).sparql).limits
    assert limits.anonymous == Share(running=2, waiting=0, timeout=3.0)
    assert limits.member == Share(running=2, waiting=8, timeout=30.5)
    assert limits.workers == Limits().workers


@pytest.mark.parametrize(
    "line, words",
    [
        ("anonymous_running = 0", "anonymous_running must be at least 1"),
        ("member_waiting = -1", "member_waiting must be at least 0"),
        ("member_running = 1.5", "member_running must be a int"),
        ("anonymous_timeout = 0", "anonymous_timeout must be a number of seconds"),
        ("member_timeout = 86400", "member_timeout must be a number of seconds"),
        ('anonymous_timeout = "5"', "anonymous_timeout must be a number of seconds"),
        ("anonymous_timeout = true", "anonymous_timeout must be a number of seconds"),
    ],
)
def test_bad_values_are_refused_with_their_name(tmp_path, line, words):
    (tmp_path / "communs.toml").write_text(NODE + "[sparql]\n" + line + "\n")
    with pytest.raises(ConnectorError, match=words) as refused:
        load(tmp_path)
    assert "communs.toml" in str(refused.value)
