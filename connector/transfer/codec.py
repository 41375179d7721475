"""DSP 2025-1 transfer messages (JSON-LD, compact under the DSP context) <-> `Message`.

Inbound bodies are validated against the vendored DSP schemas in `schemas/` (byte-for-byte
upstream copies, registered under their `$id`; nothing is fetched). Upstream defect: the
suspension, termination and error schemas reference `#definitions/...` without the slash a
JSON pointer needs; the registry repairs that one reference form when it loads them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from connector import strictjson
from connector.schemas import Schemas
from connector.transfer.model import Message, MessageKind, TransferProcess

DSP_CONTEXT = "https://w3id.org/dspace/2025/1/context.jsonld"
PURPOSE = "https://w3id.org/communs/purpose"  # our extension: the consumer's declared purpose
HTTP = "https://w3id.org/idsa/v4.1/HTTP"
HERE = Path(__file__).with_name("schemas")
BASE = "https://w3id.org/dspace/2025/1/transfer/"
SCHEMAS = {
    kind: BASE + name
    for kind, name in {
        "TransferRequestMessage": "transfer-request-message-schema.json",
        "TransferStartMessage": "transfer-start-message-schema.json",
        "TransferSuspensionMessage": "transfer-suspension-message-schema.json",
        "TransferCompletionMessage": "transfer-completion-message-schema.json",
        "TransferTerminationMessage": "transfer-termination-message-schema.json",
        "TransferProcess": "transfer-process-schema.json",
        "TransferError": "transfer-error-schema.json",
    }.items()
}


class CodecError(ValueError):
    """The body is not the DSP message the endpoint expects (maps to 400)."""


def _repair(text: str) -> str:
    return text.replace(".json#definitions/", ".json#/definitions/")  # the upstream defect


_SCHEMAS = Schemas(HERE, _repair)


def problems(dsp_type: str, document: Any, limit: int = 5) -> list[str]:
    """Why DOCUMENT is not a valid DSP `dsp_type` (empty when it is)."""
    return _SCHEMAS.problems(SCHEMAS[dsp_type], document, limit)


def decode(text: str | bytes, allowed: tuple[str, ...]) -> Message:
    """The Message in a request body whose @type must be one of `allowed`; CodecError else."""
    try:
        body = strictjson.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CodecError(f"the body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise CodecError("the body must be a JSON object")
    dsp_type = body.get("@type")
    if dsp_type not in allowed:
        raise CodecError(f"expected {' or '.join(allowed)}, got @type {dsp_type!r}")
    if errors := problems(dsp_type, body):
        raise CodecError(f"not a valid {dsp_type}: " + "; ".join(errors))
    purpose = body.get(PURPOSE)
    reasons = body.get("reason")
    reason = "; ".join(str(r) for r in reasons)[:500] if isinstance(reasons, list) else None
    return Message(
        kind=MessageKind(dsp_type), consumer_pid=body.get("consumerPid"), provider_pid=body.get("providerPid"),
        agreement_id=body.get("agreementId"), format=body.get("format"), data_address=body.get("dataAddress"),
        callback_address=body.get("callbackAddress"), purpose=purpose if isinstance(purpose, str) else None,
        code=body.get("code"), reason=reason,
    )


def encode(kind: MessageKind, p: TransferProcess, *, callback: str | None = None,
           data_address: dict[str, Any] | None = None, reason: str | None = None) -> dict[str, Any]:
    """The DSP JSON-LD body of an outbound message for process P."""
    body: dict[str, Any] = {"@context": [DSP_CONTEXT], "@type": kind.value, "consumerPid": p.consumer_pid}
    if kind is MessageKind.REQUEST:
        body.update(agreementId=p.agreement_id, format=p.format, callbackAddress=callback)
        if p.data_address:
            body["dataAddress"] = p.data_address
        if p.purpose:
            body[PURPOSE] = p.purpose
        return body
    body["providerPid"] = p.provider_pid
    if kind is MessageKind.START and data_address:
        body["dataAddress"] = data_address
    if kind in (MessageKind.SUSPENSION, MessageKind.TERMINATION) and reason:
        body["code"] = kind.value.removeprefix("Transfer").removesuffix("Message").lower()
        body["reason"] = [reason]
    return body


def process_json(p: TransferProcess) -> dict[str, Any]:
    """The DSP TransferProcess for a process (an unknown pid is written as "")."""
    return {"@context": [DSP_CONTEXT], "@type": "TransferProcess", "providerPid": p.provider_pid or "",
            "consumerPid": p.consumer_pid or "", "state": p.state.value}


def error_json(status: int, reason: str, *, consumer_pid: str | None = None,
               provider_pid: str | None = None) -> dict[str, Any]:
    return {"@context": [DSP_CONTEXT], "@type": "TransferError", "providerPid": provider_pid or "",
            "consumerPid": consumer_pid or "", "code": str(status), "reason": [reason]}


def data_address(endpoint: str, properties: dict[str, str]) -> dict[str, Any]:
    """A DSP DataAddress for an HTTP endpoint with its properties (e.g. authorization)."""
    address: dict[str, Any] = {"@type": "DataAddress", "endpointType": HTTP, "endpoint": endpoint}
    if properties:
        address["endpointProperties"] = [
            {"@type": "EndpointProperty", "name": k, "value": v} for k, v in properties.items()
        ]
    return address


def properties(address: dict[str, Any] | None) -> dict[str, str]:
    """The endpointProperties of a DataAddress as a dict."""
    items = (address or {}).get("endpointProperties") or []
    return {p["name"]: p["value"] for p in items if isinstance(p, dict) and "name" in p and "value" in p}
