"""DSP 2025-1 negotiation messages (JSON-LD, compact under the DSP context) <-> `Message`.

Inbound bodies are validated against the vendored DSP schemas in `schemas/` (registered under
their `$id`, nothing is fetched). Outbound bodies are built to the same schemas.

The provider's signature over an agreement travels beside it in the ContractAgreementMessage,
as `SIGNATURE` (a compact JWS); inside the domain it is kept in the agreement dict under the
same key, so that the stored agreement carries its proof.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from connector import strictjson
from connector.negotiation.model import ContractNegotiation, Message, MessageKind
from connector.schemas import Schemas

DSP_CONTEXT = "https://w3id.org/dspace/2025/1/context.jsonld"
SIGNATURE = "https://w3id.org/communs/agreementSignature"
HERE = Path(__file__).with_name("schemas")
BASE = "https://w3id.org/dspace/2025/1/negotiation/"

SCHEMAS: dict[str, str] = {
    "ContractRequestMessage": BASE + "contract-request-message-schema.json",
    "ContractOfferMessage": BASE + "contract-offer-message-schema.json",
    "ContractNegotiationEventMessage": BASE + "contract-negotiation-event-message-schema.json",
    "ContractAgreementMessage": BASE + "contract-agreement-message-schema.json",
    "ContractAgreementVerificationMessage": BASE
    + "contract-agreement-verification-message-schema.json",
    "ContractNegotiationTerminationMessage": BASE
    + "contract-negotiation-termination-message-schema.json",
    "ContractNegotiation": BASE + "contract-negotiation-schema.json",
    "ContractNegotiationError": BASE + "contract-negotiation-error-schema.json",
}


class CodecError(ValueError):
    """The body is not the DSP message the endpoint expects (maps to 400)."""


_SCHEMAS = Schemas(HERE)


def problems(dsp_type: str, document: Any, limit: int = 5) -> list[str]:
    """Why DOCUMENT is not a valid DSP `dsp_type` (empty when it is)."""
    return _SCHEMAS.problems(SCHEMAS[dsp_type], document, limit)


def _kind(body: dict[str, Any]) -> MessageKind:
    dsp_type = body.get("@type")
    if dsp_type == "ContractNegotiationEventMessage":
        return MessageKind(f"{dsp_type}:{body.get('eventType')}")
    return MessageKind(dsp_type)


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
    agreement = body.get("agreement")
    if agreement is not None:
        agreement = dict(agreement)
        if body.get(SIGNATURE) is not None:  # kept whatever it is: a malformed one is refused
            agreement[SIGNATURE] = body[SIGNATURE]
    offer = body.get("offer")
    return Message(
        kind=_kind(body),
        consumer_pid=body.get("consumerPid"),
        provider_pid=body.get("providerPid"),
        offer=offer,
        agreement=agreement,
        callback_address=body.get("callbackAddress"),
        dataset_id=(offer or {}).get("target") if isinstance(offer, dict) else None,
    )


def encode(message: Message, reason: str | None = None) -> dict[str, Any]:
    """The DSP JSON-LD body of an outbound message."""
    body: dict[str, Any] = {"@context": [DSP_CONTEXT], "@type": message.kind.dsp_type}
    if message.provider_pid:
        body["providerPid"] = message.provider_pid
    if message.consumer_pid:
        body["consumerPid"] = message.consumer_pid
    if message.kind.event_type:
        body["eventType"] = message.kind.event_type
    if message.offer is not None and message.kind in (
        MessageKind.CONTRACT_REQUEST,
        MessageKind.CONTRACT_OFFER,
    ):
        body["offer"] = message.offer
    if message.agreement is not None and message.kind is MessageKind.CONTRACT_AGREEMENT:
        agreement = dict(message.agreement)
        signature = agreement.pop(SIGNATURE, None)
        body["agreement"] = agreement
        if signature:
            body[SIGNATURE] = signature
    if message.callback_address:
        body["callbackAddress"] = message.callback_address
    if message.kind is MessageKind.TERMINATION and reason:
        body["code"] = "terminated"
        body["reason"] = [reason]
    return body


def negotiation_json(negotiation: ContractNegotiation) -> dict[str, Any]:
    """The DSP ContractNegotiation for a process (an unknown pid is written as "")."""
    return {
        "@context": [DSP_CONTEXT],
        "@type": "ContractNegotiation",
        "providerPid": negotiation.provider_pid or "",
        "consumerPid": negotiation.consumer_pid or "",
        "state": negotiation.state.dsp,
    }


def error_json(
    status: int, reason: str, *, consumer_pid: str | None = None, provider_pid: str | None = None
) -> dict[str, Any]:
    return {
        "@context": [DSP_CONTEXT],
        "@type": "ContractNegotiationError",
        "providerPid": provider_pid or "",
        "consumerPid": consumer_pid or "",
        "code": str(status),
        "reason": [reason],
    }


def agreement_policy(agreement: dict[str, Any]) -> Any:
    """The ODRL policy of an agreement or offer as stored (no context, maybe our signature):
    policies.model.Policy, or PolicyError."""
    from policies.parse import parse_policy
    from policies.serialize import DEFAULT_CONTEXT

    body = {k: v for k, v in agreement.items() if k not in (SIGNATURE, "@context")}
    return parse_policy({"@context": DEFAULT_CONTEXT, **body})
