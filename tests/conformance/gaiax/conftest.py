from __future__ import annotations

from pathlib import Path

import pytest

from vocab.shacl import ShapesRegistry

EXAMPLES = Path(__file__).parent / "examples"


@pytest.fixture(scope="session")
def shapes(tmp_path_factory: pytest.TempPathFactory) -> ShapesRegistry:
    """One registry per session, with its own cache folder (never the user's)."""
    return ShapesRegistry(tmp_path_factory.mktemp("shapes-cache"))
