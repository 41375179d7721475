"""The consumer's side of compute-to-data: submit an algorithm to a provider under one of our
agreements, follow the job, download its result and verify the provider's receipt.

Our copy of the job mirrors the provider's state; it is refreshed when asked (the
management API's GET, which can wait). A result is kept only if the receipt verifies: signed
by the agreement's provider, for our agreement, job and algorithm, and naming the exact hash
of the archive we downloaded. Otherwise the job ends FAILED here with the reason.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aiohttp

from connector import strictjson
from connector.answers import parsed_sentence
from connector.auth.client import did_of_endpoint, dsp_request
from connector.catalog.client import dsp_base
from connector.compute import receipt
from connector.compute.archive import CHUNK, file_hash
from connector.compute.executor import JOB_KINDS
from connector.compute.model import ComputeJob, JobState, Resources, Role, algorithm_hash, mirror
from connector.compute.service import MAX_ALGORITHM_BYTES, now
from connector.compute.store import ComputeStore
from connector.errors import ConnectorError, Reason
from connector.identity.did import Signer
from connector.ledger.market import price_of

MAX_RESULT_BYTES = 1 << 32
_STATUS_REASON = {403: Reason.FORBIDDEN, 404: Reason.NOT_FOUND, 409: Reason.CONFLICT, 413: Reason.TOO_LARGE}


@dataclass
class ComputeClient:
    store: ComputeStore
    did: str
    home: Path
    signer: Signer
    session: aiohttp.ClientSession
    resolver: Any
    negotiations: Any
    ledger: Any = None  # connector.ledger.service.LedgerService: pays each paid run

    def result_path(self, job: ComputeJob) -> Path:
        return self.home / "compute" / "received" / f"{job.id}.tar"

    async def _call(self, job_or_did: Any, method: str, url: str, **options: Any) -> tuple[int, Any]:
        audience = job_or_did.counterparty_did if isinstance(job_or_did, ComputeJob) else job_or_did
        try:
            async with dsp_request(self.session, method, url, signer=self.signer,
                                   audience_did=audience, **options) as response:
                body = strictjson.loads(await response.read())
                return response.status, body
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise ConnectorError(Reason.BAD_INPUT, f"cannot reach the provider at {url}: {exc}") from None

    async def submit(self, provider_url: str, agreement_id: str, algorithm: str, kind: str = "python",
                     publisher_signature: str | None = None) -> ComputeJob:
        if kind not in JOB_KINDS:
            raise ConnectorError(Reason.BAD_INPUT, f"kind must be one of {', '.join(JOB_KINDS)}")
        if not algorithm.strip() or len(algorithm.encode()) > MAX_ALGORITHM_BYTES:
            raise ConnectorError(Reason.BAD_INPUT, f"the algorithm must be 1 to {MAX_ALGORITHM_BYTES} bytes of text")
        n = await self.negotiations.finalized(agreement_id)
        agreement = n.agreement if n is not None else None
        if not agreement or n.role.value != "CONSUMER" or agreement.get("assignee") != self.did:
            raise ConnectorError(Reason.NOT_FOUND, f"no finalized agreement {agreement_id} of ours")
        provider = n.counterparty_did
        if did_of_endpoint(provider_url) != provider:
            raise ConnectorError(Reason.BAD_INPUT, f"{provider_url} is not the agreement's provider {provider}")
        base = await dsp_base(self.session, provider_url)
        price = price_of(agreement)
        if price is not None and self.ledger is not None:  # a paid run: pay before asking
            await self.ledger.market.pay(agreement_id, str(agreement.get("target")), price)
        moment = now()
        job = ComputeJob(  # saved first: if the provider cannot be reached, a refresh sends it again
            id=str(uuid.uuid4()), role=Role.CONSUMER, state=JobState.QUEUED, agreement_id=agreement_id,
            dataset_iri=str(agreement.get("target")), counterparty_did=provider, kind=kind,
            algorithm=algorithm, algorithm_hash=algorithm_hash(algorithm), provider_address=base,
            publisher_signature=publisher_signature, created_at=moment, updated_at=moment,
        )
        await self.store.create(job)
        sent, refusal = await self._send(job)
        if refusal is not None:
            raise refusal
        return sent

    async def _send(self, job: ComputeJob) -> tuple[ComputeJob, ConnectorError | None]:
        """Submit JOB to its provider (idempotent: our job id goes along as consumerJobId).
        Unreachable: unchanged, sent again at the next refresh; refused (any other answer but
        201/200, 503 "runs no jobs" included): FAILED, and the error."""
        body = {"agreementId": job.agreement_id, "kind": job.kind, "algorithm": job.algorithm,
                "consumerJobId": job.id}
        if job.publisher_signature:
            body["publisherSignature"] = job.publisher_signature
        try:
            status, answer = await self._call(job, "POST", f"{job.provider_address}/compute/jobs", json=body)
        except ConnectorError:
            return job, None
        if status in (200, 201) and isinstance(answer, dict) and isinstance(answer.get("id"), str):
            bound = replace(job, remote_id=answer["id"], version=job.version + 1, updated_at=now())
            if not await self.store.save(bound):
                return await self.get(job.id), None
            return await self._apply(bound, answer), None
        if status in (502, 504):
            return job, None  # a proxy's hiccup: sent again at the next refresh
        refusal = ConnectorError(_STATUS_REASON.get(status, Reason.BAD_INPUT),
                                 f"the provider refused the job ({status}): {parsed_sentence(status, answer)}")
        failed = mirror(job, JobState.FAILED, now(), reason=str(refusal), finished_at=now())
        await self.store.save(failed)
        return failed, refusal

    async def get(self, job_id: str) -> ComputeJob:
        job = await self.store.get(job_id)
        if job is None or job.role is not Role.CONSUMER:
            raise ConnectorError(Reason.NOT_FOUND, f"no compute job {job_id} of ours")
        return job

    async def refresh(self, job_id: str, wait: float = 0.0) -> ComputeJob:
        """Our job after asking the provider (waiting up to WAIT seconds for a change)."""
        job = await self.get(job_id)
        if job.state.final:
            return job
        if job.remote_id is None:
            return (await self._send(job))[0]
        url = f"{job.provider_address}/compute/jobs/{job.remote_id}"
        status, answer = await self._call(job, "GET", url, params={"wait": str(wait)},
                                          timeout=aiohttp.ClientTimeout(total=wait + 30))
        if status != 200 or not isinstance(answer, dict):
            raise ConnectorError(Reason.BAD_INPUT, f"the provider answered {status}: {parsed_sentence(status, answer)}")
        return await self._apply(job, answer)

    async def _apply(self, job: ComputeJob, answer: dict[str, Any]) -> ComputeJob:
        try:
            state = JobState(answer.get("state"))
        except ValueError:
            return job
        changes: dict[str, Any] = {"reason": answer.get("reason") if isinstance(answer.get("reason"), str) else None}
        if state.final:
            changes.update(await self._settle(job, state, answer))
            state = changes.pop("state", state)  # FAILED here when the receipt is refused
        nxt = mirror(job, state, now(), **changes)
        if nxt is not job and not await self.store.save(nxt):
            return await self.get(job.id)  # someone else refreshed it meanwhile
        return nxt

    async def _settle(self, job: ComputeJob, state: JobState, answer: dict[str, Any]) -> dict[str, Any]:
        """The final fields of our copy: the verified receipt and, if any, the downloaded result."""
        jws = answer.get("receipt")
        if not isinstance(jws, str):
            return {"state": JobState.FAILED, "reason": "the provider sent no receipt"}
        result_hash = None
        if state.has_result:
            try:
                result_hash = await self._download(job)
            except ConnectorError as exc:
                return {"state": JobState.FAILED, "reason": f"the result could not be downloaded: {exc}"}
        expected = {"jobId": job.remote_id, "agreementId": job.agreement_id, "consumer": self.did,
                    "algorithmHash": job.algorithm_hash, "status": state.value}
        claims, problems = await receipt.verify(jws, self.resolver, provider_did=job.counterparty_did,
                                                expected=expected, result_hash=result_hash)
        if state.has_result and not (claims.get("result") or {}).get("hash"):
            problems.append("the receipt names no result")
        if problems:
            self.result_path(job).unlink(missing_ok=True)
            return {"state": JobState.FAILED, "receipt": jws,
                    "reason": "refused by this node: " + "; ".join(problems)}
        resources = claims.get("resources") or {}
        try:
            used = Resources(float(resources["cpuSeconds"]), int(resources["maxRssBytes"]),
                             float(resources["wallSeconds"]), int(resources["outputBytes"]))
        except (KeyError, TypeError, ValueError):
            used = Resources()
        return {"receipt": jws, "result_hash": result_hash, "resources": used,
                "dataset_hash": (claims.get("dataset") or {}).get("hash"), "finished_at": now()}

    async def _download(self, job: ComputeJob) -> str:
        url = f"{job.provider_address}/compute/jobs/{job.remote_id}/result"
        target = self.result_path(job)
        partial = target.with_suffix(".part")
        partial.parent.mkdir(parents=True, exist_ok=True)
        try:
            async with dsp_request(self.session, "GET", url, signer=self.signer,
                                   audience_did=job.counterparty_did,
                                   timeout=aiohttp.ClientTimeout(total=600, sock_read=60)) as response:
                if response.status != 200:
                    raise ConnectorError(Reason.BAD_INPUT, f"the provider answered {response.status}")
                size = 0
                with partial.open("wb") as handle:
                    async for chunk in response.content.iter_chunked(CHUNK):
                        size += len(chunk)
                        if size > MAX_RESULT_BYTES:
                            raise ConnectorError(Reason.TOO_LARGE, "the result is larger than this node accepts")
                        handle.write(chunk)
        except (aiohttp.ClientError, TimeoutError) as exc:
            partial.unlink(missing_ok=True)
            raise ConnectorError(Reason.BAD_INPUT, f"{type(exc).__name__}: {exc}") from None
        except ConnectorError:
            partial.unlink(missing_ok=True)
            raise
        partial.replace(target)
        return await asyncio.to_thread(file_hash, target)


