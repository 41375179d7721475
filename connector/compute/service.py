"""The provider's compute-to-data use cases: accept a job under an agreement, finish it after
the executor ran it, release or reject its result, and sign the receipt.

Submission checks, before anything is stored: a FINALIZED agreement of ours with this caller
as assignee, a dataset with files here, a publisher signature that verifies (when given),
and the agreement's ODRL policy evaluated in the compute scope for this algorithm (its hash,
its publisher), this run's ordinal (odrl:count) and an empty result. The release check after
the run evaluates the same policy with the real output size. A refusal changes nothing.
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from connector import strictjson
from connector.auth.caller import Caller
from connector.compute import receipt
from connector.compute.archive import pack
from connector.compute.executor import JOB_KINDS, Outcome
from connector.compute.inputs import InputHashes
from connector.compute.model import ComputeJob, JobState, Resources, Role, advance, algorithm_hash
from connector.compute.publisher import verify_publisher
from connector.compute.store import ComputeStore
from connector.config import ComputeConfig
from connector.identity.did import Signer
from connector.ledger.market import UCOM, price_of
from connector.negotiation.codec import agreement_policy
from connector.negotiation.service import membership_issuers
from policies import terms as T
from policies.evaluate import Decision, ReasonCode, Request, evaluate
from policies.operands import Context, Payment, Scope

MAX_ALGORITHM_BYTES = 256 * 1024
MAX_ID = 512
MANUAL, AUTOMATIC = T.communs("manual"), T.communs("automatic")
_IDS = uuid.UUID("6f1d3c2e-8a59-4c1b-9d3e-2b7f0c4a5e91")  # derives our job id from the consumer's


class ComputeRefusal(Exception):
    """A refused request: `status` 400 (malformed), 403 (policy), 404 (not yours), 409, 503."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def now() -> datetime:
    return datetime.now(UTC)


def _why(decision: Decision) -> str:
    useful = [r.message for r in decision.reasons if r.code not in (ReasonCode.PERMITTED, ReasonCode.DEFERRED)]
    return "; ".join(useful or [r.message for r in decision.reasons])[:500]


def _agreed_at(agreement: dict[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(str(agreement.get("timestamp")).replace("Z", "+00:00"))
    except ValueError:
        return None


@dataclass
class ComputeService:
    store: ComputeStore
    did: str
    home: Path
    signer: Signer
    resolver: Any  # connector.identity.resolver.DidResolver
    negotiations: Any  # connector.negotiation.service.NegotiationService
    catalog: Any  # connector.catalog.service.CatalogService
    config: ComputeConfig = field(default_factory=ComputeConfig)
    unavailable: str | None = None  # why this node runs no jobs (no isolation), else None
    hashes: InputHashes = field(default_factory=InputHashes)
    ledger: Any = None  # connector.ledger.service.LedgerService: each paid run is paid first
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # run counting and creation, atomically
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    wake: asyncio.Event = field(default_factory=asyncio.Event)  # the run loop: a job was queued

    @property
    def results(self) -> Path:
        return self.home / "compute" / "results"

    def result_path(self, job: ComputeJob) -> Path:
        return self.results / f"{job.id}.tar"

    # ---- submission -------------------------------------------------------------------

    async def submit(self, caller: Caller, body: Any) -> tuple[bool, ComputeJob]:
        """(created?, the job): the same consumerJobId again gets the job it created (idempotent)."""
        agreement_id, kind, algorithm, signature, theirs = self._parse(body)
        if self.unavailable:
            raise ComputeRefusal(503, self.unavailable)
        job_id = str(uuid.uuid5(_IDS, f"{caller.did}\n{theirs}")) if theirs else str(uuid.uuid4())
        if theirs and (known := await self.store.get(job_id)) is not None:
            if (known.agreement_id, known.algorithm_hash, known.kind) != (agreement_id, algorithm_hash(algorithm), kind):
                raise ComputeRefusal(409, "this consumerJobId was used for another job")
            return False, known
        n = await self.negotiations.finalized(agreement_id, caller.did)
        agreement = n.agreement if n is not None else None
        if (not agreement or n.role.value != "PROVIDER" or agreement.get("assignee") != caller.did
                or agreement.get("assigner") != self.did):
            raise ComputeRefusal(404, "no such agreement")  # never reveal others'
        dataset = await self.catalog.store.get_by_iri(agreement.get("target") or "")
        if dataset is None:
            raise ComputeRefusal(404, "the agreement's dataset is no longer offered")
        if self.hashes.input_dir(self.catalog.data_dir, dataset) is None:
            raise ComputeRefusal(409, "the dataset has no files at this node to compute on")
        digest = algorithm_hash(algorithm)
        publisher = None
        if signature is not None:
            publisher = await verify_publisher(signature, digest, self.resolver)
            if publisher is None:
                raise ComputeRefusal(400, "the algorithm's publisher signature does not verify")
        try:
            policy = agreement_policy(agreement)
        except Exception as exc:  # noqa: BLE001 - the policy library's errors
            raise ComputeRefusal(403, f"the agreement's policy is not usable: {exc}") from None
        price = price_of(agreement) if self.ledger is not None else None
        if price is not None:  # paid runs: wait for this run's payment outside the lock...
            await self._unpaid(agreement_id, agreement, caller, price, await self.store.runs(agreement_id))
        async with self._lock:
            runs = await self.store.runs(agreement_id)
            if price is not None:  # ...and count again, without waiting, under it
                await self._unpaid(agreement_id, agreement, caller, price, runs, wait=0.0)
            manual, decision = self._decide(policy, caller, agreement, digest, publisher, runs, 0)
            if not decision.allowed:
                raise ComputeRefusal(403, "the agreement does not allow this job: " + _why(decision))
            moment = now()
            job = ComputeJob(
                id=job_id, role=Role.PROVIDER, state=JobState.QUEUED,
                agreement_id=agreement_id, dataset_iri=dataset.iri, counterparty_did=caller.did,
                kind=kind, algorithm=algorithm, algorithm_hash=digest, publisher=publisher,
                manual_release=manual, run=runs + 1, remote_id=theirs, created_at=moment, updated_at=moment,
            )
            if not await self.store.create(job):
                raise ComputeRefusal(409, "this job is being submitted concurrently; ask for it again")
        self.wake.set()
        return True, job

    @staticmethod
    def _parse(body: Any) -> tuple[str, str, str, str | None, str | None]:
        if not isinstance(body, dict):
            raise ComputeRefusal(400, "the body must be a JSON object")
        agreement_id, kind = body.get("agreementId"), body.get("kind", "python")
        algorithm, signature = body.get("algorithm"), body.get("publisherSignature")
        theirs = body.get("consumerJobId")
        if theirs is not None and (not isinstance(theirs, str) or not 0 < len(theirs) <= 128):
            raise ComputeRefusal(400, "consumerJobId must be a string of at most 128 characters")
        if not isinstance(agreement_id, str) or not 0 < len(agreement_id) <= MAX_ID:
            raise ComputeRefusal(400, "agreementId must be the agreement's @id")
        if kind not in JOB_KINDS:
            raise ComputeRefusal(400, f"kind must be one of {', '.join(JOB_KINDS)}")
        if not isinstance(algorithm, str) or not algorithm.strip():
            raise ComputeRefusal(400, "algorithm must be the script or query text")
        if len(algorithm.encode()) > MAX_ALGORITHM_BYTES:
            raise ComputeRefusal(413, f"the algorithm is larger than {MAX_ALGORITHM_BYTES} bytes")
        if signature is not None and (not isinstance(signature, str) or len(signature) > 16384):
            raise ComputeRefusal(400, "publisherSignature must be a compact JWS")
        return agreement_id, kind, algorithm, signature, theirs

    async def _unpaid(self, agreement_id: str, agreement: dict[str, Any], caller: Caller, price: int,
                      runs: int, wait: float | None = None) -> None:
        """ComputeRefusal (402) unless run number RUNS+1 under the agreement is paid."""
        options = {} if wait is None else {"wait": wait}
        why = await self.ledger.market.payment_refusal(agreement_id, str(agreement.get("target")),
                                                       caller.did, price, runs, **options)
        if why:
            raise ComputeRefusal(402, why)

    async def _consumer(self, job: ComputeJob) -> Caller | None:
        """The consumer as the release check sees it: a member by the ledger's registry when it
        still is one (its credentials were checked at submission and are not kept)."""
        if self.ledger is None or not await self.ledger.member_of(job.counterparty_did):
            return None
        return Caller(job.counterparty_did, registry=self.ledger.issuer)

    def _paid(self, agreement: dict[str, Any]) -> Payment | None:
        """What a run under AGREEMENT has paid: its price, checked on the ledger at submission."""
        price = price_of(agreement) if self.ledger is not None else None
        return None if price is None else Payment(Decimal(price), UCOM)

    def _decide(self, policy: Any, caller: Caller | None, agreement: dict[str, Any], digest: str,
                publisher: str | None, runs: int, output_bytes: int,
                release: str | None = None) -> tuple[bool, Decision]:
        """(manual release?, the decision): automatic release unless the node or the policy asks
        for a person; RELEASE fixes the mode (the release check reuses the submission's)."""

        def attempt(mode: str) -> Decision:
            values: dict[str, object] = {T.communs("algorithm"): digest, T.communs("outputSize"): output_bytes,
                                         T.communs("release"): mode}
            if publisher:
                values[T.communs("algorithmPublisher")] = publisher
            context = Context(
                now=now(), requester=str(agreement.get("assignee")), scope=Scope.COMPUTE, count=runs,
                agreement_time=_agreed_at(agreement), values=values,
                claims={"membership": membership_issuers(caller)} if caller else {},
                payment=self._paid(agreement),
            )
            return evaluate(policy, Request(T.COMPUTE), context)

        if release is not None:
            return release == MANUAL, attempt(release)
        if self.config.manual_release:
            return True, attempt(MANUAL)
        automatic = attempt(AUTOMATIC)
        if automatic.allowed:
            return False, automatic
        manual = attempt(MANUAL)
        if manual.allowed:
            return True, manual

        # both refused: when the policy wants a person to release, the manual run says why
        wants_manual = any("communs:release" in r.message for r in automatic.reasons)
        return False, manual if wants_manual else automatic

    # ---- reading ----------------------------------------------------------------------

    async def get_for(self, job_id: str, caller: Caller) -> ComputeJob:
        job = await self.store.get(job_id)
        if job is None or job.role is not Role.PROVIDER or job.counterparty_did != caller.did:
            raise ComputeRefusal(404, "no such job")  # never reveal others'
        return job

    async def wait(self, job: ComputeJob, seconds: float) -> ComputeJob:
        """JOB once it left its state (or once SECONDS passed): the long poll of a status."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, min(seconds, 30.0))
        was = job.state
        while not job.state.final and job.state is was and loop.time() < deadline:
            changed = self._changed
            try:  # a release by the management app's instance is seen by the poll
                await asyncio.wait_for(changed.wait(), timeout=min(0.5, deadline - loop.time()))
            except TimeoutError:
                pass
            job = await self.store.get(job.id) or job
        return job

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    # ---- the run's end ----------------------------------------------------------------

    async def _save(self, job: ComputeJob) -> ComputeJob | None:
        if job.state.final:
            job = replace(job, receipt=receipt.sign(job, self.signer))
        saved = await self.store.save(job)
        self._notify()
        return job if saved else None

    async def finish(self, job: ComputeJob, outcome: Outcome, dataset_hash: str | None,
                     agreement: dict[str, Any] | None) -> ComputeJob | None:
        """Record how the run of JOB ended (RUNNING -> a final state or AWAITING_RELEASE)."""
        resources = Resources(outcome.cpu_seconds, outcome.max_rss_bytes, outcome.wall_seconds,
                              outcome.output_bytes)
        common: dict[str, Any] = dict(reason=outcome.reason, exit_code=outcome.exit_code, log=outcome.log,
                                      resources=resources, dataset_hash=dataset_hash, finished_at=now())
        if outcome.status != "succeeded":
            state = JobState.KILLED if outcome.status == "killed" else JobState.FAILED
            return await self._save(advance(job, state, now(), **common))
        refusal = None
        if agreement is None:
            refusal = "the agreement is no longer finalized"
        else:
            _, decision = self._decide(agreement_policy(agreement), await self._consumer(job), agreement,
                                       job.algorithm_hash, job.publisher, job.run - 1, outcome.output_bytes,
                                       MANUAL if job.manual_release else AUTOMATIC)
            if not decision.allowed:
                refusal = "the agreement's policy does not let this result leave: " + _why(decision)
        if refusal:
            common["reason"] = refusal
            return await self._save(advance(job, JobState.REJECTED, now(), **common))
        archive = self.result_path(job)
        result_hash = await asyncio.to_thread(pack, outcome.output_dir, archive)
        state = JobState.AWAITING_RELEASE if job.manual_release else JobState.SUCCEEDED
        return await self._save(advance(job, state, now(), **common, result_hash=result_hash))

    async def abandon(self, job: ComputeJob, reason: str) -> ComputeJob | None:
        """End a job that cannot run (or whose run was lost in a restart) as FAILED."""
        return await self._save(advance(job, JobState.FAILED, now(), reason=reason, finished_at=now()))

    # ---- release (the operator) -------------------------------------------------------

    async def release(self, job_id: str, approve: bool, reason: str | None = None) -> ComputeJob:
        from connector.errors import ConnectorError
        from connector.errors import Reason as Err

        job = await self.store.get(job_id)
        if job is None or job.role is not Role.PROVIDER:
            raise ConnectorError(Err.NOT_FOUND, f"no job {job_id}")
        if job.state is not JobState.AWAITING_RELEASE:
            raise ConnectorError(Err.CONFLICT, f"the job is {job.state.value}, not AWAITING_RELEASE")
        if approve:
            nxt = advance(job, JobState.RELEASED, now())
        else:
            nxt = advance(job, JobState.REJECTED, now(), reason=reason or "the provider did not release the result")
        saved = await self._save(nxt)
        if saved is None:
            raise ConnectorError(Err.CONFLICT, "the job changed meanwhile; try again")
        if not approve:
            self.result_path(job).unlink(missing_ok=True)
        return saved

    def discard_workdir(self, job: ComputeJob) -> None:
        work = self.home / "compute" / "work"
        shutil.rmtree(work / job.id, ignore_errors=True)
        shutil.rmtree(work / f"{job.id}.input", ignore_errors=True)


def status_json(job: ComputeJob) -> dict[str, Any]:
    """A job as its consumer sees it over DSP (no log: it could carry the provider's data)."""
    return {
        "id": job.id, "state": job.state.value, "reason": job.reason, "agreementId": job.agreement_id,
        "kind": job.kind, "algorithmHash": job.algorithm_hash, "run": job.run,
        "resources": job.resources.to_json(), "resultHash": job.result_hash if job.state.has_result else None,
        "receipt": job.receipt, "createdAt": job.created_at.isoformat(),
        "startedAt": job.started_at.isoformat() if job.started_at else None,
        "finishedAt": job.finished_at.isoformat() if job.finished_at else None,
    }


def summary(job: ComputeJob) -> dict[str, Any]:
    """A job as the management API shows it (both roles)."""
    from connector.identity.jose import decode_parts

    claims = None
    try:
        claims = decode_parts(job.receipt)[1] if job.receipt else None
    except (ValueError, UnicodeDecodeError):
        pass  # a refused receipt the consumer kept as evidence: shown as is, not parsed
    return {
        **status_json(job), "role": job.role.value, "counterparty": job.counterparty_did,
        "datasetIri": job.dataset_iri, "publisher": job.publisher, "manualRelease": job.manual_release,
        "exitCode": job.exit_code, "log": job.log, "algorithm": job.algorithm, "datasetHash": job.dataset_hash,
        "resultHash": job.result_hash, "remoteId": job.remote_id, "providerAddress": job.provider_address,
        "receiptClaims": claims, "updatedAt": job.updated_at.isoformat(),
    }


def parse_json(text: str | bytes) -> Any:
    try:
        return strictjson.loads(text)
    except ValueError as exc:
        raise ComputeRefusal(400, f"the body is not valid JSON: {exc}") from None
