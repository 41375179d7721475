"""The provider's run loop against a real SQLite store and the real local sandbox: a job cut
short by a stop is ended FAILED with a signed receipt at the next start (never run again), a
job whose dataset is gone fails with the reason, the node's knob holds every result for
release, a retried submission finds its job, and a SPARQL query runs over an RDF dataset."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connector.auth.caller import Caller
from connector.catalog.model import Access, Dataset, Distribution
from connector.catalog.service import CatalogService
from connector.catalog.store import InMemoryCatalogStore
from connector.compute import receipt
from connector.compute.archive import unpack
from connector.compute.manager import INTERRUPTED, Manager, recover
from connector.compute.model import ComputeJob, JobState, Role, algorithm_hash
from connector.compute.sandbox import LocalSandbox
from connector.compute.service import ComputeRefusal, ComputeService
from connector.compute.sql import SqlComputeStore
from connector.config import ComputeConfig
from connector.identity.did import Signer
from connector.identity.keys import generate_key
from connector.identity.resolver import DidResolver
from connector.negotiation.model import ContractNegotiation, State
from connector.negotiation.model import Role as NRole
from connector.negotiation.service import NegotiationService
from connector.negotiation.store import InMemoryNegotiationStore
from tests.conftest import open_test_database

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SCRIPT = "import os\nopen(os.path.join(os.environ['COMMUNS_OUTPUT'], 'n.txt'), 'w').write(str(len(os.listdir(os.environ['COMMUNS_INPUT']))))\n"


def job(n: int, state: JobState, dataset: str = "urn:uuid:d") -> ComputeJob:
    return ComputeJob(
        id=f"job-{n}",
        role=Role.PROVIDER,
        state=state,
        agreement_id="urn:uuid:a",
        dataset_iri=dataset,
        counterparty_did="did:web:consumer",
        kind="python",
        algorithm=SCRIPT,
        algorithm_hash=algorithm_hash(SCRIPT),
        created_at=T0,
        updated_at=T0,
        started_at=T0 if state is JobState.RUNNING else None,
    )


async def service(
    tmp_path: Path, database, signer: Signer, name: str = "a.csv", text: str = "x\n1\n", **config
) -> ComputeService:
    catalog = CatalogService(
        InMemoryCatalogStore(), home=tmp_path, did=signer.did, public_url="http://127.0.0.1:1"
    )
    (catalog.data_dir / "d1").mkdir(parents=True)
    (catalog.data_dir / "d1" / name).write_text(text)
    await catalog.store.put(
        Dataset(
            id="d1",
            iri="urn:uuid:d",
            title="d",
            publisher=signer.did,
            access=Access.PUBLIC,
            offers=(),
            distributions=(Distribution(iri="urn:uuid:d#1", file=f"d1/{name}"),),
        )
    )
    agreement = {
        "@id": "urn:uuid:a",
        "@type": "Agreement",
        "target": "urn:uuid:d",
        "assigner": signer.did,
        "assignee": "did:web:consumer",
        "timestamp": "2026-01-01T00:00:00Z",
        "permission": [{"action": "https://w3id.org/communs/odrl/compute"}],
    }
    negotiations = NegotiationService(
        InMemoryNegotiationStore(),
        signer.did,
        "http://127.0.0.1:1/dsp",
        signer,
        session=None,
        resolver=DidResolver(None),
    )
    await negotiations.store.create(
        ContractNegotiation(
            id="n",
            role=NRole.PROVIDER,
            state=State.FINALIZED,
            consumer_pid="c",
            provider_pid="n",
            counterparty_did="did:web:consumer",
            counterparty_address=None,
            dataset_id="urn:uuid:d",
            offer={},
            agreement=agreement,
            created_at=T0,
            updated_at=T0,
        )
    )
    return ComputeService(
        store=SqlComputeStore(database),
        did=signer.did,
        home=tmp_path,
        signer=signer,
        resolver=DidResolver(None),
        negotiations=negotiations,
        catalog=catalog,
        config=ComputeConfig(**config),
    )


async def test_restart_fails_interrupted_jobs_and_runs_queued_ones(tmp_path):
    signer = Signer.for_did_key(generate_key("Ed25519"))
    async with open_test_database("sqlite", tmp_path) as database:
        svc = await service(tmp_path, database, signer)
        await svc.store.create(job(1, JobState.RUNNING))
        await svc.store.create(job(2, JobState.QUEUED))
        await svc.store.create(job(3, JobState.QUEUED, dataset="urn:uuid:withdrawn"))
        manager = Manager(svc, LocalSandbox.checked())
        assert await recover(svc) == 1
        lost = await svc.store.get("job-1")
        assert lost.state is JobState.FAILED and lost.reason == INTERRUPTED
        claims, problems = await receipt.verify(
            lost.receipt,
            svc.resolver,
            provider_did=signer.did,
            expected={"jobId": "job-1", "status": "FAILED"},
        )
        assert problems == [] and claims["result"] is None
        assert await manager.run_once() and await manager.run_once()
        assert not await manager.run_once()  # nothing left
        ran = await svc.store.get("job-2")
        assert ran.state is JobState.SUCCEEDED and ran.dataset_hash and ran.result_hash
        assert svc.result_path(ran).is_file()
        gone = await svc.store.get("job-3")
        assert gone.state is JobState.FAILED and "gone" in gone.reason
        assert list((tmp_path / "compute" / "work").iterdir()) == []  # private folders removed


async def test_the_node_can_ask_for_manual_release_of_everything(tmp_path):
    signer = Signer.for_did_key(generate_key("Ed25519"))
    async with open_test_database("sqlite", tmp_path) as database:
        svc = await service(tmp_path, database, signer, manual_release=True)
        body = {"agreementId": "urn:uuid:a", "algorithm": SCRIPT, "consumerJobId": "mine-1"}
        created, submitted = await svc.submit(Caller("did:web:consumer"), body)
        assert (
            created
            and submitted.manual_release
            and submitted.run == 1
            and submitted.remote_id == "mine-1"
        )
        # the same submission again (a retry) finds the same job; the id reused for another job is refused
        assert await svc.submit(Caller("did:web:consumer"), body) == (False, submitted)
        with pytest.raises(ComputeRefusal) as refused:
            await svc.submit(Caller("did:web:consumer"), {**body, "algorithm": SCRIPT + "\n"})
        assert refused.value.status == 409 and await svc.store.runs("urn:uuid:a") == 1
        # someone else with the same id learns nothing: not their agreement
        with pytest.raises(ComputeRefusal) as refused:
            await svc.submit(Caller("did:web:other"), body)
        assert refused.value.status == 404
        assert await Manager(svc, LocalSandbox.checked()).run_once()
        held = await svc.store.get(submitted.id)
        assert held.state is JobState.AWAITING_RELEASE and held.receipt is None
        released = await svc.release(submitted.id, approve=True)
        assert released.state is JobState.RELEASED and released.receipt


async def test_a_sparql_query_over_an_rdf_dataset(tmp_path):
    signer = Signer.for_did_key(generate_key("Ed25519"))
    turtle = "<urn:s:1> <urn:p:pm10> 12 .\n<urn:s:2> <urn:p:pm10> 30 .\n"
    query = "SELECT (AVG(?v) AS ?mean) WHERE { ?s <urn:p:pm10> ?v }"
    async with open_test_database("sqlite", tmp_path) as database:
        svc = await service(tmp_path, database, signer, name="air.ttl", text=turtle)
        _, submitted = await svc.submit(
            Caller("did:web:consumer"),
            {"agreementId": "urn:uuid:a", "kind": "sparql", "algorithm": query},
        )
        assert await Manager(svc, LocalSandbox.checked()).run_once()
        done = await svc.store.get(submitted.id)
        assert done.state is JobState.SUCCEEDED, done.reason
        unpack(svc.result_path(done), tmp_path / "out")
        results = json.loads((tmp_path / "out" / "result.srj").read_text())
        assert float(results["results"]["bindings"][0]["mean"]["value"]) == 21.0
