"""Where a local federation lives: `federation.json` in its folder names every organization,
its connector's folder, ports and DID, and its validator's folder and address. A second `up`
reads it back instead of creating anything."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from connector.errors import ConnectorError, Reason

FILE = "federation.json"
DEFAULT_DIR = Path(".federation")


@dataclass(frozen=True)
class Member:
    slug: str
    name: str
    did: str
    public_url: str
    management_url: str
    validator_address: str
    account: str
    rpc_url: str


@dataclass(frozen=True)
class Federation:
    folder: Path
    chain_id: str
    members: tuple[Member, ...]

    # folders are kept relative to the federation's: it may be moved whole
    def connector(self, member: Member) -> Path:
        return self.folder / member.slug / "connector"

    def validator(self, member: Member) -> Path:
        return self.folder / member.slug / "validator"

    def save(self) -> None:
        data = {"chain_id": self.chain_id, "members": [asdict(m) for m in self.members]}
        (self.folder / FILE).write_text(json.dumps(data, indent=2) + "\n")

    @classmethod
    def load(cls, folder: Path) -> Federation | None:
        """The federation in FOLDER, or None when it holds none yet."""
        path = folder / FILE
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text())
            members = tuple(Member(**m) for m in data["members"])
            return cls(folder, str(data["chain_id"]), members)
        except (ValueError, KeyError, TypeError) as exc:
            raise ConnectorError(Reason.BAD_CONFIG, f"{path} is damaged ({exc}); remove {folder} "
                                 f"to start a new federation") from None
