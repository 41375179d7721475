"""Membership by vote, between real nodes on a real four-validator ledger: an organization
cannot negotiate a members-only dataset until the members vote it in; once in, it negotiates,
transfers and computes; once removed by vote, its running transfer and compute job are ended
and its next request refused."""

from __future__ import annotations

import asyncio
import json

import pytest

from connector.config import load
from connector.ledger.config import membership_issuer
from connector.ledger.service import LEDGER
from policies import terms as T
from policies.model import Action, Constraint, Policy, PolicyType, Ref, Rule, RuleKind
from policies.serialize import to_jsonld
from tests.integration.ledgered import Federation, communs, until
from tests.nodes import client, publish, serving

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def federation(tmp_path_factory):
    fed = Federation(tmp_path_factory.mktemp("fed"), ["city", "acme"])
    city = fed.nodes["city"]
    (city / "data").mkdir(exist_ok=True)
    (city / "data" / "noise.csv").write_text("street,db\nRue A,61\nRue B,70\n")
    # compute-to-data for members of the federation's registry only
    members = Constraint(T.communs("membership"), T.odrl("isAnyOf"),
                         (Ref(membership_issuer(city, load(city).ledger)),))
    offer = Policy(PolicyType.OFFER, "urn:uuid:members-compute", assigner="did:web:x", permissions=(
        Rule(RuleKind.PERMISSION, (Action(T.COMPUTE),), constraints=(members,)),))
    (city / "members-compute.json").write_text(json.dumps(to_jsonld(offer)))
    fed.start()
    yield fed
    fed.stop()


async def _transfer_state(http, node, transfer_id: str) -> str:
    async with http.get(f"{node.management}/api/v1/transfers/{transfer_id}", headers=node.auth) as r:
        return (await r.json())["state"]


async def test_joined_by_vote_then_removed_by_vote(federation, capsys):
    city_dir, acme_dir = federation.nodes["city"], federation.nodes["acme"]
    async with serving(city_dir) as city, serving(acme_dir) as acme, client() as http:
        dataset = await publish(http, city, city_dir / "data" / "noise.csv", "Street noise", "members")
        computed = await publish(http, city, city_dir / "data" / "noise.csv", "Street noise, computed",
                                 str(city_dir / "members-compute.json"))

        # before the vote: not a member, the dataset is not even offered to it
        code, err = await communs(capsys, "negotiate", city.public, dataset["id"], "--wait",
                                  "--dir", str(acme_dir), ok=False)
        assert code == 1 and "dataset" in err.lower(), err

        joined = await communs(capsys, "join", "--deposit", "1com", "--dir", str(acme_dir))
        proposal = int(joined["proposalId"])
        listed = await communs(capsys, "proposals", "--dir", str(city_dir))
        assert [p["messages"][0]["type"] for p in listed["proposals"] if p["id"] == proposal] == [
            "registry/register_member"]
        voted = await communs(capsys, "vote", str(proposal), "yes", "--dir", str(city_dir))
        assert voted["option"] == "yes"
        await asyncio.to_thread(federation.vote_all, proposal)
        ledger = city.running.public_app[LEDGER]
        await until("the vote admitting acme", lambda: ledger.member_of(acme.did))

        agreed = await communs(capsys, "negotiate", city.public, dataset["id"], "--wait",
                               "--dir", str(acme_dir))
        assert agreed["state"] == "FINALIZED", agreed
        # the provider checked the new member's self-description against the registry
        await until("the check of acme's self-description", lambda: _checked(ledger, acme.did))
        async with http.get(f"{city.management}/api/v1/ledger/members", headers=city.auth) as r:
            checks = {m["did"]: m["check"] for m in (await r.json())["members"]}
        assert checks[acme.did]["ok"] is True, checks[acme.did]
        request = {"providerUrl": city.public, "agreementId": agreed["agreementId"],
                   "format": "HttpData-PULL"}
        async with http.post(f"{acme.management}/api/v1/transfers", json=request, headers=acme.auth) as r:
            assert r.status == 201, await r.text()
            transfer = (await r.json())["id"]
        assert await until("the transfer's start", lambda: _started(http, acme, transfer))
        compute = await communs(capsys, "negotiate", city.public, computed["id"], "--wait",
                                "--dir", str(acme_dir))
        # a member's result leaves: its membership is checked again, on the ledger, at release
        body = {"providerUrl": city.public, "agreementId": compute["agreementId"], "algorithm": "print(1)\n"}
        async with http.post(f"{acme.management}/api/v1/compute", json=body, headers=acme.auth) as r:
            assert r.status == 201, await r.text()
            quick = await r.json()
        await until("the member's result", lambda: _job_state(http, acme, quick["id"], "SUCCEEDED"))
        body = {"providerUrl": city.public, "agreementId": compute["agreementId"],
                "algorithm": "import time\ntime.sleep(60)\n"}
        async with http.post(f"{acme.management}/api/v1/compute", json=body, headers=acme.auth) as r:
            assert r.status == 201, await r.text()
            job = await r.json()
        await until("the job's run", lambda: _job_state(http, acme, job["id"], "RUNNING"))

        # removed by vote: the running transfer is ended, a new negotiation refused
        removal = await asyncio.to_thread(federation.propose, [{
            "type": "registry/set_member_status", "did": acme.did, "status": "removed"}],
            "Remove acme")
        await communs(capsys, "vote", str(removal), "yes", "--dir", str(city_dir))
        await asyncio.to_thread(federation.vote_all, removal)
        await until("the removal", lambda: _not(ledger.member_of(acme.did)))
        await until("the end of the running transfer",
                    lambda: _ended(http, acme, transfer), timeout=15)
        await until("the cancelled job", lambda: _job_state(http, acme, job["id"], "KILLED"),
                    timeout=15)
        code, err = await communs(capsys, "negotiate", city.public, dataset["id"], "--wait",
                                  "--dir", str(acme_dir), ok=False)
        assert code == 1, err


async def _started(http, node, transfer_id: str) -> bool:
    return await _transfer_state(http, node, transfer_id) == "STARTED"


async def _ended(http, node, transfer_id: str) -> bool:
    return await _transfer_state(http, node, transfer_id) == "TERMINATED"


async def _not(awaitable) -> bool:
    return not await awaitable


async def _checked(ledger, did: str) -> bool:
    return did in ledger.checks


async def _job_state(http, node, job_id: str, state: str) -> bool:
    async with http.get(f"{node.management}/api/v1/compute/{job_id}", headers=node.auth) as r:
        return (await r.json())["state"] == state
