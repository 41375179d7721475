"""[transfer] provider_decisions: "auto" (default: a request the agreement allows starts at
once) or "manual" (the operator starts each one); anything else stops the node with a sentence."""

from __future__ import annotations

import dataclasses

import pytest

from connector.config import NodeConfig, load, save
from connector.errors import ConnectorError


def _node(tmp_path) -> NodeConfig:
    config = NodeConfig(home=tmp_path, name="ACME", public_url="http://127.0.0.1:8181")
    save(config)
    return config


def test_automatic_by_default_and_manual_when_asked(tmp_path):
    config = _node(tmp_path)
    assert load(tmp_path).transfer_provider_decisions == "auto"
    assert "[transfer]" not in (tmp_path / "communs.toml").read_text()
    save(dataclasses.replace(config, transfer_provider_decisions="manual"))
    assert load(tmp_path).transfer_provider_decisions == "manual"


def test_another_value_is_a_clear_error(tmp_path):
    _node(tmp_path)
    with (tmp_path / "communs.toml").open("a") as toml:
        toml.write('\n[transfer]\nprovider_decisions = "sometimes"\n')
    with pytest.raises(ConnectorError, match=r'\[transfer\] provider_decisions must be "auto" or "manual"'):
        load(tmp_path)
