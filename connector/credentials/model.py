"""A credential the node holds (issued to it) or has issued to someone else."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    HELD = "held"
    ISSUED = "issued"


class Format(StrEnum):
    LDP = "ldp"
    JWT = "jwt"


@dataclass(frozen=True)
class StoredCredential:
    id: str
    role: Role
    format: Format
    issuer: str
    subject: str | None
    types: tuple[str, ...]
    issued_at: datetime
    expires_at: datetime | None
    document: str  # the credential as issued: JSON text (ldp) or the compact JWT

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def summary(self) -> dict[str, object]:
        """The JSON shape the management API and `--json` print."""
        return {
            "id": self.id,
            "role": self.role.value,
            "format": self.format.value,
            "issuer": self.issuer,
            "subject": self.subject,
            "types": list(self.types),
            "issuedAt": self.issued_at.isoformat(),
            "expiresAt": self.expires_at.isoformat() if self.expires_at else None,
        }
