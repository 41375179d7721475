"""The run loop: claims queued jobs, runs them through the Executor, records how they ended.

It runs while the public app serves (a cleanup_ctx resource), `[compute] parallel` jobs at a
time; the executor runs each job in its own processes, so the node keeps serving meanwhile.
A job found RUNNING when the loop starts was cut short by a stop or a crash: it is ended as
FAILED with that reason (and a signed receipt), never run again behind the consumer's back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiohttp import web

from connector.catalog.resources import CATALOG
from connector.compute.consumer import ComputeClient
from connector.compute.executor import Executor, Job, Limits
from connector.compute.inputs import stage
from connector.compute.model import ComputeJob, JobState
from connector.compute.sandbox import LocalSandbox
from connector.compute.service import ComputeService, now
from connector.compute.sql import SqlComputeStore
from connector.errors import ConnectorError
from connector.ledger.service import LEDGER
from connector.negotiation.manager import NEGOTIATIONS
from connector.node import NODE, Node

log = logging.getLogger(__name__)
COMPUTE = web.AppKey("compute", ComputeService)
CLIENT = web.AppKey("compute-client", ComputeClient)
POLL = 0.5  # seconds between two looks at an idle queue (a submission wakes the loop at once)
INTERRUPTED = "the node stopped while the job was running; it was not run again"


class Manager:
    def __init__(self, service: ComputeService, executor: Executor) -> None:
        self.service = service
        self.executor = executor
        self.running: dict[str, tuple[str, asyncio.Event]] = {}  # job id -> (consumer, cancel)

    async def member_changed(self, did: str, record: dict | None) -> None:
        """A consumer removed or suspended by the federation's vote loses its jobs: the running
        ones are cancelled, the queued ones end unrun."""
        if record is not None and record.get("status") == "member":
            return
        for owner, cancel in self.running.values():
            if owner == did:
                cancel.set()
        for job in await self.service.store.in_state(JobState.QUEUED):
            if job.counterparty_did == did:
                await self.service.abandon(job, "the consumer is no longer a member of the federation")

    def limits(self) -> Limits:
        c = self.service.config
        return Limits(cpu_seconds=c.cpu_seconds, wall_seconds=float(c.wall_seconds),
                      memory_bytes=c.memory_bytes, output_bytes=c.output_bytes)

    async def run_one(self, job: ComputeJob) -> None:
        service = self.service
        dataset = await service.catalog.store.get_by_iri(job.dataset_iri)
        folder = service.hashes.input_dir(service.catalog.data_dir, dataset) if dataset else None
        n = await service.negotiations.finalized(job.agreement_id, job.counterparty_did)
        if folder is None or n is None:
            await service.abandon(job, "the dataset or the agreement is gone")
            return
        workdir = service.home / "compute" / "work" / job.id
        try:
            dataset_hash = await service.hashes.dataset_hash(folder)
            workdir.mkdir(parents=True, exist_ok=False)
            staged = await asyncio.to_thread(stage, folder, workdir.with_name(f"{job.id}.input"))
            cancel = asyncio.Event()
            self.running[job.id] = (job.counterparty_did, cancel)
            outcome = await self.executor.run(
                Job(job.kind, job.algorithm.encode(), staged, self.limits()), workdir,  # type: ignore[arg-type]
                cancel=cancel)
            await service.finish(job, outcome, dataset_hash, n.agreement)
        finally:
            self.running.pop(job.id, None)
            await asyncio.to_thread(service.discard_workdir, job)

    async def run_once(self) -> bool:
        job = await self.service.store.claim(now())
        if job is None:
            return False
        try:
            await self.run_one(job)
        except asyncio.CancelledError:
            raise  # the node is stopping: `recover` ends the job at the next start
        except Exception as exc:  # noqa: BLE001 - one broken job must not stop the loop
            log.exception("compute job %s failed in the node", job.id)
            current = await self.service.store.get(job.id)
            if current is not None and current.state is JobState.RUNNING:
                await self.service.abandon(current, f"the node could not run the job ({type(exc).__name__})")
        return True

    async def worker(self) -> None:
        wake = self.service.wake
        while True:
            wake.clear()  # before looking: a job queued from now on wakes us again
            try:
                if await self.run_once():
                    continue
            except Exception:  # noqa: BLE001 - e.g. the database is briefly locked
                log.exception("the compute loop failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), POLL)


async def recover(service: ComputeService) -> int:
    """End the jobs a previous run of the node left RUNNING."""
    lost = await service.store.in_state(JobState.RUNNING)
    for job in lost:
        await service.abandon(job, INTERRUPTED)
        await asyncio.to_thread(service.discard_workdir, job)
    return len(lost)


# One service per node in this process, shared by the public app (which runs jobs) and the
# management app (where the operator releases them), so that waiters see every change.
_SERVICES: dict[int, ComputeService] = {}  # by id(node), dropped with the node


def service_for(node: Node, negotiations: Any = None, catalog: Any = None) -> ComputeService:
    service = _SERVICES.get(id(node))
    if service is None:
        service = ComputeService(
            store=SqlComputeStore(node.database), did=node.did, home=Path(node.config.home),
            signer=node.signer, resolver=node.resolver, negotiations=negotiations, catalog=catalog,
            config=node.config.compute,
        )
        _SERVICES[id(node)] = service
        weakref.finalize(node, _SERVICES.pop, id(node), None)
    service.negotiations = service.negotiations or negotiations
    service.catalog = service.catalog or catalog
    return service


def executor_for(node: Node) -> tuple[Executor | None, str | None]:
    """The default executor, or None and why jobs cannot run on this machine."""
    try:
        return LocalSandbox.checked(allow_unisolated=node.config.compute.allow_unisolated), None
    except ConnectorError as exc:
        return None, str(exc)
    except Exception as exc:  # noqa: BLE001 - a broken sandbox must not take the node down
        log.exception("the compute sandbox could not start")
        return None, f"the sandbox could not start ({type(exc).__name__})"


async def compute_context(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx for the public app, after negotiation_context: the service and its run loop."""
    node = app[NODE]
    service = service_for(node, app.get(NEGOTIATIONS), app.get(CATALOG))
    service.ledger = app.get(LEDGER)
    app[COMPUTE] = service
    await recover(service)  # what was running when the node stopped is over
    task = asyncio.create_task(start_workers(service, node), name="compute")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def start_workers(service: ComputeService, node: Node) -> None:
    """Probe the sandbox off the event loop (a real empty job: node start does not wait for it),
    then run `parallel` workers; with no usable executor, refuse jobs and end the queued ones."""
    executor, problem = await asyncio.to_thread(executor_for, node)
    if executor is None:
        service.unavailable = f"this node runs no compute jobs: {problem}"
        for job in await service.store.in_state(JobState.QUEUED):
            await service.abandon(job, service.unavailable)
        return
    manager = Manager(service, executor)
    if service.ledger is not None:  # membership decided by the federation's registry
        service.ledger.registry.listeners.append(manager.member_changed)
    workers = [asyncio.create_task(manager.worker(), name=f"compute-{i}") for i in range(service.config.parallel)]
    try:
        await asyncio.gather(*workers)
    finally:
        for worker in workers:
            worker.cancel()
        for worker in workers:
            with contextlib.suppress(asyncio.CancelledError):
                await worker


async def management_compute(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx for the management app, after management_negotiations."""
    node = app[NODE]
    app[COMPUTE] = service_for(node, app.get(NEGOTIATIONS), app.get(CATALOG))
    app[CLIENT] = ComputeClient(
        store=app[COMPUTE].store, did=node.did, home=Path(node.config.home), signer=node.signer,
        session=node.session, resolver=node.resolver, negotiations=app.get(NEGOTIATIONS),
        ledger=app.get(LEDGER),
    )
    yield
