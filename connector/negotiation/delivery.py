"""Whether a message the counterparty refused on a retry had in fact been delivered before.

DSP refuses a message the state machine does not allow, even one re-delivered byte for byte
(model.py). So when our first attempt reached the counterparty but its answer was lost (a
timeout, a dropped connection), the outbox's retry is refused. Before ending the process for
that refusal, the sender asks the counterparty's state (DSP `GET .../negotiations/{pid}`, on
the provider or on the consumer's callback) and counts the message as delivered when that
state is the one the message leads to, or one only reachable through it.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp

from connector import strictjson
from connector.auth.client import dsp_request, read_capped
from connector.identity.addresses import AddressRefused
from connector.negotiation import codec
from connector.negotiation.model import RULES, ContractNegotiation, MessageKind, State
from connector.negotiation.store import OutboxMessage

log = logging.getLogger(__name__)
MAX_STATE = 64 * 1024  # a ContractNegotiation is a few hundred bytes

# The states that follow each state on the way to an agreement. REQUESTED and OFFERED lead to
# each other, so neither proves the other was reached: the counterparty could still be where
# it was before our message.
_AFTER: dict[State, frozenset[State]] = {
    State.REQUESTED: frozenset({State.AGREED, State.VERIFIED, State.FINALIZED}),
    State.OFFERED: frozenset({State.ACCEPTED, State.AGREED, State.VERIFIED, State.FINALIZED}),
    State.ACCEPTED: frozenset({State.AGREED, State.VERIFIED, State.FINALIZED}),
    State.AGREED: frozenset({State.VERIFIED, State.FINALIZED}),
    State.VERIFIED: frozenset({State.FINALIZED}),
    State.FINALIZED: frozenset(),
    State.TERMINATED: frozenset(),
}


def reached(kind: MessageKind, theirs: State) -> bool:
    """Whether a counterparty in state THEIRS has taken our message of KIND."""
    target = RULES[kind].target
    return theirs is target or theirs in _AFTER[target]


def state_of(body: Any, n: ContractNegotiation) -> State | None:
    """The state in a DSP ContractNegotiation answered for N (None: not N, or not valid)."""
    if not isinstance(body, dict) or codec.problems("ContractNegotiation", body):
        return None
    if (body.get("consumerPid"), body.get("providerPid")) != (n.consumer_pid, n.provider_pid):
        return None
    try:
        return State(body["state"])  # the schema allows only DSP 2025-1's names
    except ValueError:
        return None


async def delivered(service: Any, message: OutboxMessage) -> bool:
    """Whether MESSAGE, refused now, had reached the counterparty before: it is in the state
    MESSAGE leads to, or past it. SERVICE: the NegotiationService (store, session, signer)."""
    if message.kind is MessageKind.TERMINATION:
        return False  # a termination's refusal ends nothing more (the manager ignores it)
    n = await service.store.get(message.negotiation_id)
    if n is None or not n.counterparty_pid or not n.counterparty_address:
        return False  # without their pid (an opening message's answer lost) there is no asking
    url = f"{n.counterparty_address.rstrip('/')}/negotiations/{n.counterparty_pid}"
    try:
        await service.callbacks.target(url)
        async with dsp_request(service.session, "GET", url, signer=service.signer,
                               audience_did=message.audience or n.counterparty_did) as response:
            body = await read_capped(response, MAX_STATE)
            if response.status != 200:
                log.info("asking %s how %s went: status %s", url, message.kind.value, response.status)
                return False
        theirs = state_of(strictjson.loads(body), n)
    except (AddressRefused, TimeoutError, aiohttp.ClientError, ValueError) as exc:
        log.info("asking %s how %s went failed: %s", url, message.kind.value, exc)
        return False
    return theirs is not None and reached(message.kind, theirs)
