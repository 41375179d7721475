"""The credential store contract and its in-memory implementation."""

from __future__ import annotations

from typing import Protocol

from connector.credentials.model import Role, StoredCredential


class CredentialStore(Protocol):
    async def add(self, credential: StoredCredential) -> bool:
        """Store it; False (and no change) if a credential with that id and role exists."""

    async def get(self, credential_id: str, role: Role) -> StoredCredential | None: ...

    async def list(
        self, role: Role | None = None, type_: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[StoredCredential]:
        """Newest first."""

    async def delete(self, credential_id: str, role: Role) -> bool: ...


class InMemoryCredentialStore:
    def __init__(self) -> None:
        self._items: dict[tuple[str, Role], StoredCredential] = {}

    async def add(self, credential: StoredCredential) -> bool:
        key = (credential.id, credential.role)
        if key in self._items:
            return False
        self._items[key] = credential
        return True

    async def get(self, credential_id: str, role: Role) -> StoredCredential | None:
        return self._items.get((credential_id, role))

    async def list(
        self, role: Role | None = None, type_: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[StoredCredential]:
        # dicts keep insertion order: reversed is newest first, as in SQL
        found = [
            c
            for c in reversed(self._items.values())
            if (role is None or c.role == role) and (type_ is None or type_ in c.types)
        ]
        return found[offset : offset + limit]

    async def delete(self, credential_id: str, role: Role) -> bool:
        return self._items.pop((credential_id, role), None) is not None
