"""The senders give up: a counterparty that never answers, or an address the node may not
reach, ends the negotiation or transfer (with the reason) instead of being retried forever.
Real senders, real HTTP to a closed loopback port, in-memory stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from connector.identity.did import Signer
from connector.identity.keys import generate_key
from connector.identity.resolver import DidResolver
from connector.negotiation import manager as negotiation
from connector.negotiation.model import MessageKind as N
from connector.negotiation.model import Role
from connector.negotiation.model import State as NState
from connector.negotiation.model import start as open_negotiation
from connector.negotiation.service import NegotiationService
from connector.negotiation.store import InMemoryNegotiationStore
from connector.storage.outbox import ATTEMPTS
from connector.transfer import manager as transfer
from connector.transfer.model import PULL, MessageKind, State
from connector.transfer.model import start as open_transfer
from connector.transfer.service import TransferService
from connector.transfer.store import InMemoryTransferStore
from tests.nodes import free_port

ME = Signer.for_did_key(generate_key("Ed25519"))
LATER = timedelta(hours=1)  # past any backoff


@pytest.fixture
async def services():
    async with aiohttp.ClientSession() as session:
        negotiations = NegotiationService(InMemoryNegotiationStore(), did=ME.did, dsp_url="http://127.0.0.1:1/dsp",
                                          signer=ME, session=session, resolver=DidResolver(session))
        transfers = TransferService(InMemoryTransferStore(), did=ME.did, dsp_url="http://127.0.0.1:1/dsp",
                                    public_url="http://127.0.0.1:1", signer=ME, session=session,
                                    negotiations=negotiations)
        yield negotiations, transfers


async def requested(service: TransferService, address: str):
    p = open_transfer(new_id="urn:uuid:t", counterparty_did="did:web:provider.example", counterparty_address=address,
                      agreement_id="urn:uuid:a", dataset_id=None, format=PULL, data_address=None,
                      now=datetime.now(UTC))
    assert await service.store.create(p, [service._outbox(p, MessageKind.REQUEST)])
    return p


async def send_due(sender, at: datetime) -> int:
    claimed = await sender.store.claim(sender.owner, at, timedelta(minutes=1))
    for message in claimed:
        await sender.send(message)
    return len(claimed)


async def test_a_counterparty_that_never_answers_is_given_up_after_its_attempts(services):
    _, service = services
    p = await requested(service, f"http://127.0.0.1:{free_port()}/dsp")  # nothing listens
    sender = transfer.Manager(service)
    assert sender.attempts == ATTEMPTS == 10
    sender.attempts = 3
    moment = datetime.now(UTC)
    for attempt in range(1, 4):
        assert await send_due(sender, moment + attempt * LATER) == 1
        found = await service.store.get(p.id)
        assert found.state is (State.TERMINATED if attempt == 3 else State.REQUESTED)
    assert "TransferRequestMessage could not be delivered: 3 attempts failed" in found.reason
    assert "ClientConnectorError" in found.reason
    assert await send_due(sender, moment + 9 * LATER) == 0  # nothing left to send


async def test_an_address_the_node_may_not_reach_is_given_up_at_once(services):
    negotiations, transfers = services
    p = await requested(transfers, "http://169.254.169.254/dsp")
    assert await send_due(transfer.Manager(transfers), datetime.now(UTC)) == 1
    ended = await transfers.store.get(p.id)
    assert ended.state is State.TERMINATED and "not an address this node may connect to" in ended.reason

    n = open_negotiation(Role.CONSUMER, new_id="urn:uuid:n", counterparty_did="did:web:provider.example",
                         counterparty_address="http://10.1.2.3/dsp", offer={}, now=datetime.now(UTC))
    await negotiations._save(n, [negotiations._outbox(n, N.CONTRACT_REQUEST, callback=True)], new=True)
    assert await send_due(negotiation.Manager(negotiations), datetime.now(UTC)) == 1
    assert (await negotiations.store.get(n.id)).state is NState.TERMINATED
