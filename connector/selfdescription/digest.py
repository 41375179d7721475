"""The digest a ledger registry holds of a member's self-description: SHA-256 over its claims
(the credentials' subjects), not over the signed document, which is signed afresh at every
start and every week with new dates and ids. Anyone can recompute it from the credentials in
the document served at the member's endpoint: each subject as canonical JSON (sorted keys, no
spaces, UTF-8), sorted, joined with newlines."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any


def claims_digest(credentials: Iterable[Mapping[str, Any]]) -> str:
    """The hex SHA-256 of the subjects of CREDENTIALS (unsigned or decoded credentials)."""
    subjects = sorted(json.dumps(c.get("credentialSubject"), sort_keys=True,
                                 separators=(",", ":"), ensure_ascii=False)
                      for c in credentials)
    return hashlib.sha256("\n".join(subjects).encode()).hexdigest()
