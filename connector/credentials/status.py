"""The issuer's revocation list: which entries this node gave out, which it revoked.

Each credential issued with a status gets the next entry of the node's one revocation list
and a `credentialStatus` pointing at the list credential the node publishes (public,
`/credentials/status/{bitstring|sl2021}`): a BitstringStatusListCredential for VC 2.0
credentials, a StatusList2021Credential for VC 1.1 ones (DCP's two profiles), both over the
same bits. The list credential is signed when asked for and valid a few minutes, which bounds
how long a verifier may cache it.

The state is a small JSON file in the node's folder (`status/revocation.json`), replaced
atomically under an exclusive lock: the serving node and a CLI run on the same folder never
hand out the same entry twice or lose a revocation.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from connector.errors import ConnectorError, Reason
from connector.identity.did import Signer
from connector.identity.jose import issue_vc_jwt
from connector.identity.jwt11 import issue_vc11_jwt
from connector.identity.status import encode_list
from connector.identity.verification import utcnow, xsd_now

STATUS_DIR = "status"
LIST_SIZE = 131072  # entries: the 16 KiB minimum the specifications ask for (herd privacy)
LIST_VALIDITY = timedelta(minutes=5)
SCHEMES = {"bitstring": ("BitstringStatusListEntry", "BitstringStatusList"),
           "sl2021": ("StatusList2021Entry", "StatusList2021")}
VC_V1 = "https://www.w3.org/2018/credentials/v1"
VC_V2 = "https://www.w3.org/ns/credentials/v2"


class StatusRegistry:
    def __init__(self, home: Path, public_url: str) -> None:
        self.folder = Path(home) / STATUS_DIR
        self.file = self.folder / "revocation.json"
        self.base = public_url.rstrip("/") + "/credentials/status/"

    def url(self, scheme: str) -> str:
        return self.base + scheme

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, Any]]:
        """The state, to change in place; written back atomically when the block ends."""
        self.folder.mkdir(mode=0o700, exist_ok=True)
        with open(self.folder / ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            state = self._read()
            before = json.dumps(state, sort_keys=True)
            yield state
            if json.dumps(state, sort_keys=True) != before:
                temp = self.file.with_suffix(".tmp")
                with open(temp, "w") as out:
                    json.dump(state, out)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(temp, self.file)

    def _read(self) -> dict[str, Any]:
        try:
            state = json.loads(self.file.read_text())
        except FileNotFoundError:
            return {"next": 0, "revoked": []}
        except ValueError:
            raise ConnectorError(Reason.BAD_INPUT, f"the status list state {self.file} is corrupted") from None
        return state

    def allocate(self) -> int:
        with self._locked() as state:
            index = state["next"]
            if index >= LIST_SIZE:
                raise ConnectorError(Reason.BAD_INPUT, f"the revocation list is full ({LIST_SIZE} entries)")
            state["next"] = index + 1
        return index

    def revoke(self, index: int) -> bool:
        """Set the entry; False if it already was."""
        with self._locked() as state:
            if not 0 <= index < state["next"]:
                raise ConnectorError(Reason.NOT_FOUND, f"entry {index} of the revocation list was never issued")
            if index in state["revoked"]:
                return False
            state["revoked"] = sorted({*state["revoked"], index})
        return True

    def bits(self) -> bytes:
        bits = bytearray(LIST_SIZE // 8)
        for index in self._read()["revoked"]:
            bits[index // 8] |= 0x80 >> (index % 8)
        return bytes(bits)

    def entry(self, index: int, fmt: str) -> dict[str, Any]:
        """The credentialStatus of entry INDEX for a credential of format FMT (jwt, jwt11)."""
        scheme = "bitstring" if fmt == "jwt" else "sl2021"
        url = self.url(scheme)
        return {"id": f"{url}#{index}", "type": SCHEMES[scheme][0], "statusPurpose": "revocation",
                "statusListIndex": str(index), "statusListCredential": url}

    def list_credential(self, scheme: str, signer: Signer, now: datetime | None = None) -> str:
        """The signed list credential (a vc+jwt, or a VC-JWT 1.1 for StatusList2021)."""
        if scheme not in SCHEMES:
            raise ConnectorError(Reason.NOT_FOUND, f"no status list {scheme!r} (bitstring or sl2021)")
        now = now or utcnow()
        url, kind = self.url(scheme), SCHEMES[scheme][1]
        subject = {"id": f"{url}#list", "type": kind, "statusPurpose": "revocation",
                   "encodedList": encode_list(self.bits(), multibase=scheme == "bitstring")}
        credential: dict[str, Any] = {"id": url, "type": ["VerifiableCredential", kind + "Credential"],
                                      "issuer": signer.did, "credentialSubject": subject}
        if scheme == "bitstring":
            credential = {"@context": [VC_V2], **credential, "validFrom": xsd_now(now),
                          "validUntil": xsd_now(now + LIST_VALIDITY)}
            return issue_vc_jwt(credential, signer)
        credential = {"@context": [VC_V1], **credential, "issuanceDate": xsd_now(now),
                      "expirationDate": xsd_now(now + LIST_VALIDITY)}
        return issue_vc11_jwt(credential, signer)


def index_of(credential: dict[str, Any], registry: StatusRegistry) -> int | None:
    """The entry of our revocation list a credential we issued names, if any."""
    found = credential.get("credentialStatus")
    for item in found if isinstance(found, list) else [found]:
        if not isinstance(item, dict) or item.get("statusPurpose") != "revocation":
            continue
        url, index = item.get("statusListCredential"), item.get("statusListIndex")
        if isinstance(url, str) and url.startswith(registry.base) and str(index).isdigit():
            return int(index)
    return None
