"""Credential status lists: what a credential's `credentialStatus` says, read offline.

Two schemes, one per DCP profile: W3C Bitstring Status List (`BitstringStatusListEntry` in a
VC 2.0 credential, the list a `BitstringStatusListCredential`, `encodedList` multibase
base64url of GZIP) and its predecessor StatusList2021 (`StatusList2021Entry`,
`StatusList2021Credential`, `encodedList` base64url of GZIP without the multibase prefix).
Bit 0 is the left-most bit of the first byte. A set bit means revoked (or suspended) for the
purposes this node acts on; other purposes (message, refresh) are not about validity.
"""

from __future__ import annotations

import base64
import gzip
import zlib
from dataclasses import dataclass
from typing import Any

ENTRY_TYPES = {"BitstringStatusListEntry": "BitstringStatusList",
               "StatusList2021Entry": "StatusList2021"}
LIST_CREDENTIAL_TYPES = {"BitstringStatusList": "BitstringStatusListCredential",
                         "StatusList2021": "StatusList2021Credential"}
INVALIDATING = ("revocation", "suspension")  # the purposes that make a credential unusable
MAX_LIST_BITS = 16 * 8 * 1024 * 1024  # 16 MiB decompressed: far above any real list, and no bomb


class StatusError(ValueError):
    """A status entry or list that cannot be read: one sentence for the user."""


@dataclass(frozen=True)
class StatusEntry:
    scheme: str  # BitstringStatusList or StatusList2021
    purpose: str
    index: int
    list_url: str


def entries(credential: dict[str, Any]) -> list[StatusEntry]:
    """The status entries of CREDENTIAL this node acts on (revocation, suspension);
    StatusError for one of a known type that is malformed."""
    found = credential.get("credentialStatus")
    if found is None:
        return []
    items = found if isinstance(found, list) else [found]
    kept: list[StatusEntry] = []
    for item in items:
        if not isinstance(item, dict):
            raise StatusError("the credentialStatus is not a JSON object")
        kinds = item.get("type")
        kinds = kinds if isinstance(kinds, list) else [kinds]
        scheme = next((ENTRY_TYPES[k] for k in kinds if k in ENTRY_TYPES), None)
        if scheme is None:
            raise StatusError(f"the status type {kinds!r} is not supported "
                              f"({', '.join(ENTRY_TYPES)} are): its validity cannot be checked")
        purpose = item.get("statusPurpose")
        if purpose not in INVALIDATING:
            continue
        index, url = item.get("statusListIndex"), item.get("statusListCredential")
        if isinstance(index, str) and index.isdigit() and len(index) < 12:
            index = int(index)
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise StatusError("the credential's statusListIndex is not a non-negative integer")
        if not isinstance(url, str):
            raise StatusError("the credential's statusListCredential is not a URL")
        size = item.get("statusSize", 1)
        if size not in (1, "1"):
            raise StatusError(f"a {purpose} status of {size!r} bits is not supported (1 bit is)")
        kept.append(StatusEntry(scheme, purpose, index, url))
    return kept


def _base64(text: str) -> bytes:
    padded = text + "=" * (-len(text) % 4)
    try:
        return base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except ValueError:
        raise StatusError("the status list's encodedList is not base64") from None


def _gunzip(data: bytes) -> bytes:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip framing
    try:
        bits = inflater.decompress(data, MAX_LIST_BITS // 8)
    except zlib.error:
        raise StatusError("the status list's encodedList is not GZIP data") from None
    if inflater.unconsumed_tail:
        raise StatusError("the status list is larger than communs accepts (16 MiB)")
    return bits


def decode_list(encoded: Any) -> bytes:
    """The bitstring of an encodedList: multibase base64url ('u') or plain base64(url) of GZIP."""
    if not isinstance(encoded, str) or not encoded:
        raise StatusError("the status list has no encodedList")
    if encoded.startswith("u"):  # multibase, Bitstring Status List
        try:
            data = _base64(encoded[1:])
        except StatusError:
            data = b""
        if data[:2] == b"\x1f\x8b":
            return _gunzip(data)
    return _gunzip(_base64(encoded))  # StatusList2021 (and lists written without the prefix)


def encode_list(bits: bytes, multibase: bool = True) -> str:
    """The encodedList of a bitstring (the issuer's side)."""
    text = base64.urlsafe_b64encode(gzip.compress(bits, mtime=0)).rstrip(b"=").decode()
    return "u" + text if multibase else text


def bit(bits: bytes, index: int) -> bool:
    if index >= len(bits) * 8:
        raise StatusError(f"the statusListIndex {index} is beyond the status list ({len(bits) * 8} entries)")
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def list_bits(entry: StatusEntry, list_credential: dict[str, Any]) -> bytes:
    """The bitstring of a verified status list credential that fits ENTRY; StatusError otherwise."""
    kinds = list_credential.get("type", [])
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if LIST_CREDENTIAL_TYPES[entry.scheme] not in kinds:
        raise StatusError(f"the document at {entry.list_url} is not a {LIST_CREDENTIAL_TYPES[entry.scheme]}")
    subject = list_credential.get("credentialSubject")
    subject = subject[0] if isinstance(subject, list) and len(subject) == 1 else subject
    if not isinstance(subject, dict):
        raise StatusError(f"the status list at {entry.list_url} has no subject")
    purposes = subject.get("statusPurpose")
    purposes = purposes if isinstance(purposes, list) else [purposes]
    if entry.purpose not in purposes:
        raise StatusError(f"the status list at {entry.list_url} is not a {entry.purpose} list")
    return decode_list(subject.get("encodedList"))
