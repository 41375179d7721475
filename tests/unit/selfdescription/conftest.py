from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from connector.identity.did import Signer, did_web_document
from connector.identity.keys import KeyStore
from connector.identity.resolver import DidResolver
from connector.selfdescription.model import Participant
from vocab.shacl import ShapesRegistry

DID = "did:web:acme.example"
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


class StaticResolver(DidResolver):
    """Resolves the given did:web documents from memory (and did:key as usual): no network."""

    def __init__(self, documents: dict[str, dict[str, Any]]) -> None:
        super().__init__(None)
        self.documents = documents

    async def resolve(self, did: str) -> dict[str, Any]:
        base = did.split("#", 1)[0]
        if base in self.documents:
            return self.documents[base]
        return await super().resolve(did)


@pytest.fixture(scope="session")
def shapes(tmp_path_factory: pytest.TempPathFactory) -> ShapesRegistry:
    return ShapesRegistry(tmp_path_factory.mktemp("shapes-cache"))


@pytest.fixture(scope="session")
def store(tmp_path_factory: pytest.TempPathFactory) -> KeyStore:
    return KeyStore.create(tmp_path_factory.mktemp("node") / "keys")


@pytest.fixture(scope="session")
def signer(store: KeyStore) -> Signer:
    return Signer.for_store(store, DID, "P-256")


@pytest.fixture(scope="session")
def resolver(store: KeyStore) -> StaticResolver:
    return StaticResolver({DID: did_web_document(DID, store, [])})


@pytest.fixture
def participant() -> Participant:
    return Participant.of("ACME SA", DID, "BE-BRU", "vatID:BE0762747721")
