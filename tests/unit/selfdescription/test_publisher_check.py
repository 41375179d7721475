"""The node refuses to publish (and `communs init` to finish) a self-description that fails, and
says why in one sentence (test_registration.py has the refusals)."""

from __future__ import annotations

from connector.selfdescription.model import Participant
from connector.selfdescription.publisher import SelfDescriptions
from tests.unit.selfdescription.conftest import DID


async def test_a_node_with_a_valid_number_publishes(signer, resolver):
    node = SelfDescriptions(Participant.of("ACME SA", DID, "FR-75", "vatID:FR11123456782"), signer)
    reports = await node.check(resolver)
    assert [r.conforms for r in reports] == [True, True]

