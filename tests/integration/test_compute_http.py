"""Compute-to-data between real nodes over real HTTP, jobs run in the real local sandbox.

A provider publishes its CSV under compute-only offers; a member negotiates them and runs
algorithms through its own node, which downloads the result and verifies the provider's
signed receipt. Policy refusals, a hostile job, forged receipts, someone else's job and
malformed submissions each get a clear answer, and the provider keeps serving throughout.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import io
import json
import tarfile
import time
from datetime import datetime

import pytest

from connector.auth.client import dsp_request
from connector.compute import receipt
from connector.compute.model import algorithm_hash
from connector.compute.publisher import sign_algorithm
from connector.compute.sql import SqlComputeStore
from connector.config import ComputeConfig, load, save
from connector.identity.did import did_web_from_url
from policies.serialize import to_jsonld
from policies.templates import compute_offer
from tests.nodes import client, init_federation, serving

AGGREGATE = """\
import csv, json, os
from pathlib import Path
total = count = 0
for path in sorted(Path(os.environ["COMMUNS_INPUT"]).glob("*.csv")):
    with path.open() as handle:
        for row in csv.DictReader(handle):
            total += float(row["pm10"]); count += 1
Path(os.environ["COMMUNS_OUTPUT"], "mean.json").write_text(json.dumps({"rows": count, "mean": total / count}))
print("aggregated", count, "rows")
"""
BIG = "import os\nopen(os.path.join(os.environ['COMMUNS_OUTPUT'], 'all.txt'), 'w').write('x' * 5000)\n"
LOOP = "while True:\n    pass\n"
UNLISTED = "print('not on the allow-list')\n"
FINAL = ("SUCCEEDED", "RELEASED", "FAILED", "KILLED", "REJECTED")
# The provider's limits. Which one stops a job that loops is for the machine's load to say:
# its CPU time on an idle machine, the wall clock on a busy one, where it gets less of a core.
CPU_SECONDS, WALL_SECONDS = 3, 8
LIMIT_REASONS = (f"the job used up its {CPU_SECONDS} s of CPU time",
                 f"the job ran past its wall-clock limit of {WALL_SECONDS} s")
SECRET = "Zorglub Quintavalle,98765"  # a row of a compute-only dataset (no hex: never in a hash)
EXIT_WITH_ROWS = "import os\nraise SystemExit(open(os.environ['COMMUNS_INPUT'] + '/salaries.csv').read())\n"
ROWS_AS_A_NAME = """\
import os
rows = open(os.environ["COMMUNS_INPUT"] + "/salaries.csv").read().splitlines()
os.symlink("/input", os.path.join(os.environ["COMMUNS_OUTPUT"], rows[-1]))
"""


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    anchor, provider, member = init_federation(tmp_path_factory)
    config = load(provider)
    limits = ComputeConfig(cpu_seconds=CPU_SECONDS, wall_seconds=WALL_SECONDS, parallel=2)
    save(dataclasses.replace(config, compute=limits))
    listed = [algorithm_hash(a) for a in (AGGREGATE, BIG, LOOP)]
    publisher = did_web_from_url(load(anchor).public_url)  # the anchor vouches for algorithms too
    policies = {
        "allow-list.json": compute_offer("urn:uuid:x", "did:web:x", algorithms=listed, publishers=[publisher],
                                         max_output_bytes=1000, max_runs=12),
        "manual.json": compute_offer("urn:uuid:y", "did:web:x", max_runs=2, manual_release=True),
        "any-algorithm.json": compute_offer("urn:uuid:z", "did:web:x", max_runs=5),
    }
    for name, policy in policies.items():
        (provider / name).write_text(json.dumps(to_jsonld(policy)))
    return anchor, provider, member


async def call(http, node, method, path, body=None, status=200, **options):
    async with http.request(method, node.management + path, json=body, headers=node.auth, **options) as response:
        assert response.status == status, await response.text()
        return await response.json() if response.content_type.endswith("json") else await response.read()


async def agreement_for(http, provider, member, path, policy) -> str:
    dataset = await call(http, provider, "POST", "/api/v1/datasets", {"source": str(path), "title": path.name, "policy": policy}, 201)
    started = await call(http, member, "POST", "/api/v1/negotiations", {"providerUrl": provider.public, "datasetId": dataset["id"]}, 201)
    deadline = time.monotonic() + 20
    while (n := await call(http, member, "GET", f"/api/v1/negotiations/{started['id']}"))["state"] not in ("FINALIZED", "TERMINATED"):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    assert n["state"] == "FINALIZED", n
    return n["agreementId"]


async def submit(http, member, provider, agreement, algorithm, status=201):
    body = {"providerUrl": provider.public, "agreementId": agreement, "algorithm": algorithm}
    return await call(http, member, "POST", "/api/v1/compute", body, status)


async def follow(http, member, job_id, timeout=30.0) -> dict:
    deadline = time.monotonic() + timeout
    while (job := await call(http, member, "GET", f"/api/v1/compute/{job_id}?wait=5"))["state"] not in FINAL:
        assert time.monotonic() < deadline, job
    return job


async def provider_job(http, provider, job_id, states=FINAL, timeout=30.0) -> dict:
    deadline = time.monotonic() + timeout
    while (job := await call(http, provider, "GET", f"/api/v1/jobs/{job_id}"))["state"] not in states:
        assert time.monotonic() < deadline, job
        await asyncio.sleep(0.05)
    return job


def untar(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}


def dsp(node, method, url, **options):
    return dsp_request(node.running.node.session, method, url, signer=node.running.node.signer, **options)


async def test_compute_jobs_between_real_nodes(folders):
    anchor_dir, provider_dir, member_dir = folders
    async with serving(anchor_dir) as anchor, serving(provider_dir) as provider, serving(member_dir) as member, client() as http:
        agreement = await agreement_for(http, provider, member, provider_dir / "data/air.csv", str(provider_dir / "allow-list.json"))

        # an allowed aggregate: the result and a receipt the consumer's node verified
        started = await submit(http, member, provider, agreement, AGGREGATE)
        assert started["role"] == "CONSUMER" and started["state"] in ("QUEUED", "RUNNING")
        done = await follow(http, member, started["id"])
        assert done["state"] == "SUCCEEDED", done
        files = untar(await call(http, member, "GET", f"/api/v1/compute/{done['id']}/result"))
        assert json.loads(files["mean.json"]) == {"rows": 2, "mean": 21.0}
        claims = done["receiptClaims"]
        assert claims["iss"] == provider.did and claims["consumer"] == member.did and claims["agreementId"] == agreement
        assert claims["algorithm"]["hash"] == algorithm_hash(AGGREGATE) and claims["status"] == "SUCCEEDED"
        assert claims["result"]["hash"] == done["resultHash"]
        csv_hash = hashlib.sha256((provider_dir / "data/air.csv").read_bytes()).hexdigest()
        assert claims["dataset"]["hash"] == "sha256:" + hashlib.sha256(f"air.csv\0{csv_hash}\n".encode()).hexdigest()
        assert claims["resources"]["wallSeconds"] > 0 and claims["startedAt"] <= claims["finishedAt"]
        theirs = await call(http, provider, "GET", f"/api/v1/jobs/{done['remoteId']}")
        assert theirs["state"] == "SUCCEEDED" and "aggregated 2 rows" in theirs["log"] and theirs["run"] == 1
        assert theirs["receipt"] == done["receipt"]

        # refused before anything runs: an algorithm off the allow-list
        refused = await submit(http, member, provider, agreement, UNLISTED, status=403)
        assert "communs:algorithm" in refused["detail"]
        # ... unless a publisher the policy trusts signed it (a signature by anyone else is refused)
        body = {"providerUrl": provider.public, "agreementId": agreement, "algorithm": UNLISTED,
                "publisherSignature": sign_algorithm(algorithm_hash(UNLISTED), member.running.node.signer)}
        assert "communs:algorithm" in (await call(http, member, "POST", "/api/v1/compute", body, 403))["detail"]
        body["publisherSignature"] = sign_algorithm(algorithm_hash(UNLISTED), anchor.running.node.signer)
        vouched = await follow(http, member, (await call(http, member, "POST", "/api/v1/compute", body, 201))["id"])
        assert vouched["state"] == "SUCCEEDED" and vouched["receiptClaims"]["algorithm"]["publisher"] == anchor.did

        jobs_before = len((await call(http, provider, "GET", "/api/v1/jobs"))["items"])

        # too large a result: run, then refused at release, nothing leaves
        big = await follow(http, member, (await submit(http, member, provider, agreement, BIG))["id"])
        assert big["state"] == "REJECTED" and "outputSize" in big["reason"] and big["receiptClaims"]["result"] is None
        await call(http, member, "GET", f"/api/v1/compute/{big['id']}/result", status=409)

        # a hostile job is killed at one of its limits and reported; the node serves meanwhile
        hostile = await submit(http, member, provider, agreement, LOOP)
        await provider_job(http, provider, hostile["remoteId"], ("RUNNING",))
        async with http.get(f"{provider.public}/health/live") as response:
            assert response.status == 200
        aside = await follow(http, member, (await submit(http, member, provider, agreement, AGGREGATE))["id"])
        assert aside["state"] == "SUCCEEDED"
        killed = await follow(http, member, hostile["id"])
        assert killed["state"] == "KILLED" and killed["reason"] in LIMIT_REASONS, killed
        assert killed["receiptClaims"]["status"] == "KILLED" and killed["receiptClaims"]["resources"]["cpuSeconds"] > 0
        # the other job ran beside it: it started before the hostile one ended
        started_aside = await call(http, provider, "GET", f"/api/v1/jobs/{aside['remoteId']}")
        ended = await call(http, provider, "GET", f"/api/v1/jobs/{hostile['remoteId']}")
        assert datetime.fromisoformat(started_aside["startedAt"]) < datetime.fromisoformat(ended["finishedAt"])

        # a result tampered with at the provider: the consumer's node refuses it
        tampered = await submit(http, member, provider, agreement, AGGREGATE)
        await provider_job(http, provider, tampered["remoteId"])
        with (provider_dir / "compute/results" / f"{tampered['remoteId']}.tar").open("ab") as handle:
            handle.write(b"\0" * 512)
        refused_result = await follow(http, member, tampered["id"])
        assert refused_result["state"] == "FAILED" and "does not match the hash" in refused_result["reason"]
        await call(http, member, "GET", f"/api/v1/compute/{tampered['id']}/result", status=409)

        # a receipt signed by someone else (put in the provider's database): refused too
        forged = await submit(http, member, provider, agreement, AGGREGATE)
        await provider_job(http, provider, forged["remoteId"])
        store = SqlComputeStore(provider.running.node.database)
        job = await store.get(forged["remoteId"])
        fake = receipt.sign(job, anchor.running.node.signer)
        assert await store.save(dataclasses.replace(job, receipt=fake, version=job.version + 1))
        refused_receipt = await follow(http, member, forged["id"])
        assert refused_receipt["state"] == "FAILED" and "not signed by the provider" in refused_receipt["reason"]

        # someone else's job or agreement: 404; no caller: 401
        url = f"{provider.public}/dsp/compute/jobs/{done['remoteId']}"
        for path in ("", "/result"):
            async with dsp(anchor, "GET", url + path) as response:
                assert response.status == 404 and (await response.json())["@type"] == "ComputeJobError"
            async with dsp(member, "GET", url + path) as response:
                assert response.status == 200
        async with http.get(url) as response:
            assert response.status == 401
        jobs_url = f"{provider.public}/dsp/compute/jobs"
        async with dsp(anchor, "POST", jobs_url, json={"agreementId": agreement, "algorithm": AGGREGATE}) as response:
            assert response.status == 404

        # a replayed submission (same consumerJobId) gets the job it made, not a second run
        replay = {"agreementId": agreement, "algorithm": AGGREGATE, "consumerJobId": "retry-1"}
        async with dsp(member, "POST", jobs_url, json=replay) as response:
            assert response.status == 201
            first = await response.json()
        async with dsp(member, "POST", jobs_url, json=replay) as response:
            assert response.status == 200 and (await response.json())["id"] == first["id"]
        async with dsp(member, "POST", jobs_url, json={**replay, "algorithm": BIG}) as response:
            assert response.status == 409

        # malformed and oversized submissions: 4xx, nothing stored
        jobs_now = len((await call(http, provider, "GET", "/api/v1/jobs"))["items"])
        bad = [("{not json", 400), (json.dumps([1]), 400), (json.dumps({"algorithm": AGGREGATE}), 400),
               (json.dumps({"agreementId": agreement, "algorithm": AGGREGATE, "kind": "rust"}), 400),
               (json.dumps({"agreementId": agreement, "algorithm": "   "}), 400),
               (json.dumps({"agreementId": agreement, "algorithm": AGGREGATE, "publisherSignature": "x.y.z"}), 400),
               (json.dumps({"agreementId": agreement, "algorithm": "#" * 300_000}), 413),
               ("x" * (2 << 20), 413)]
        for body, status in bad:
            async with dsp(member, "POST", jobs_url, data=body, headers={"Content-Type": "application/json"}) as response:
                assert response.status == status, (body[:60], await response.text())
        async with dsp(member, "GET", url + "?wait=99") as response:
            assert response.status == 400
        assert len((await call(http, provider, "GET", "/api/v1/jobs"))["items"]) == jobs_now == jobs_before + 6
        await submit(http, member, provider, "urn:uuid:no-such-agreement", AGGREGATE, status=404)
        await call(http, member, "POST", "/api/v1/compute", {"providerUrl": provider.public}, status=400)
        listed = await call(http, member, "GET", "/api/v1/jobs?role=CONSUMER")
        assert {j["state"] for j in listed["items"]} == {"SUCCEEDED", "REJECTED", "KILLED", "FAILED"}


async def test_manual_release_and_run_limit_with_the_cli(folders, capsys, tmp_path):
    from connector.cli.main import main

    anchor_dir, provider_dir, member_dir = folders

    errors = []

    def run_cli(folder, *argv, code=0):
        assert main([*argv, "--json", "--dir", str(folder)]) == code
        captured = capsys.readouterr()
        errors.append(captured.err)
        return json.loads(captured.out or "null")

    async def cli(folder, *argv, code=0):  # the CLI runs its own event loop: in a thread
        return await asyncio.to_thread(run_cli, folder, *argv, code=code)

    async with serving(provider_dir) as provider, serving(member_dir) as member, client() as http:
        agreement = await agreement_for(http, provider, member, provider_dir / "data/traffic.csv", str(provider_dir / "manual.json"))
        (tmp_path / "job.py").write_text(
            "import os, shutil\nfor name in os.listdir(os.environ['COMMUNS_INPUT']):\n"
            "    shutil.copy(os.path.join(os.environ['COMMUNS_INPUT'], name), os.path.join(os.environ['COMMUNS_OUTPUT'], 'copy-' + name))\n")
        argv = ["compute", provider.public, agreement, "--algorithm", str(tmp_path / "job.py"), "--timeout", "30"]
        consumer = asyncio.create_task(cli(member_dir, *argv, "--out", str(tmp_path / "out")))

        deadline = time.monotonic() + 20
        while not (waiting := await cli(provider_dir, "jobs", "list", "--state", "AWAITING_RELEASE")):
            assert time.monotonic() < deadline and not consumer.done()
            await asyncio.sleep(0.1)
        shown = await cli(provider_dir, "jobs", "show", waiting[0]["id"])
        assert shown["manualRelease"] and shown["receipt"] is None and shown["resources"]["outputBytes"] > 0
        assert shown["algorithm"] == (tmp_path / "job.py").read_text()  # what the operator judges
        assert await asyncio.to_thread(main, ["jobs", "show", waiting[0]["id"], "--dir", str(provider_dir)]) == 0
        assert "--- algorithm ---" in capsys.readouterr().out
        looked = await cli(provider_dir, "jobs", "result", waiting[0]["id"], "--out", str(tmp_path / "look"))
        assert looked["files"] == ["copy-traffic.csv"] and (tmp_path / "look/copy-traffic.csv").is_file()
        released = await cli(provider_dir, "jobs", "approve", waiting[0]["id"])
        assert released["state"] == "RELEASED" and released["receiptClaims"]["status"] == "RELEASED"
        result = await consumer
        await cli(provider_dir, "jobs", "approve", waiting[0]["id"], code=1)  # only once
        assert "not AWAITING_RELEASE" in errors[-1]
        assert result["state"] == "RELEASED" and result["files"] == ["copy-traffic.csv"]
        assert (tmp_path / "out/copy-traffic.csv").read_text() == "road,cars\nN7,1200\n"
        kept = json.loads((tmp_path / "out/receipt.json").read_text())
        assert kept["claims"]["result"]["hash"] == result["resultHash"] and kept["jws"] == result["receipt"]

        # the second run is rejected by the operator; the third exceeds the agreement's two runs
        second = asyncio.create_task(cli(member_dir, *argv, "--out", str(tmp_path / "out2"), code=1))
        while not (waiting := await cli(provider_dir, "jobs", "list", "--state", "AWAITING_RELEASE")):
            assert time.monotonic() < deadline + 20
            await asyncio.sleep(0.1)
        rejected = await cli(provider_dir, "jobs", "reject", waiting[0]["id"], "--reason", "this copies the raw data")
        assert rejected["state"] == "REJECTED"
        await cli(provider_dir, "jobs", "result", waiting[0]["id"], "--out", str(tmp_path / "gone"), code=1)
        assert "has no result" in errors[-1]  # a rejected result is deleted
        ended = await second
        assert ended["state"] == "REJECTED" and ended["reason"] == "this copies the raw data"
        assert not (tmp_path / "out2/copy-traffic.csv").exists()
        assert json.loads((tmp_path / "out2/receipt.json").read_text())["claims"]["status"] == "REJECTED"
        await cli(member_dir, *argv, "--out", str(tmp_path / "out"), code=1)  # not an empty folder
        assert "must be a new or empty folder" in errors[-1]
        await cli(member_dir, *argv, "--out", str(tmp_path / "out3"), code=1)
        assert "odrl:count" in errors[-1]
        await cli(provider_dir, "jobs", "show", "nope", code=1)


async def test_a_jobs_data_never_reaches_the_consumer_in_its_reason(folders, capsys, tmp_path):
    """Under a compute-only agreement, a job that ends with the dataset's rows as its message,
    or names an output entry after them: the consumer's node, its API, its CLI and the DSP
    messages it gets (status, receipt) say how the job ended in a sentence of the fixed
    vocabulary; the rows are on the log, which the provider's operator alone reads."""
    from connector.cli.main import main
    from connector.identity.jose import decode_parts

    _, provider_dir, member_dir = folders
    (provider_dir / "data/salaries.csv").write_text(f"name,salary\n{SECRET}\n")
    (tmp_path / "leak.py").write_text(EXIT_WITH_ROWS)

    def run_cli(folder, *argv) -> str:
        main([*argv, "--dir", str(folder)])
        captured = capsys.readouterr()
        return captured.out + captured.err

    async def cli(folder, *argv) -> str:  # the CLI runs its own event loop: in a thread
        return await asyncio.to_thread(run_cli, folder, *argv)

    async with serving(provider_dir) as provider, serving(member_dir) as member, client() as http:
        path, policy = provider_dir / "data/salaries.csv", str(provider_dir / "any-algorithm.json")
        agreement = await agreement_for(http, provider, member, path, policy)
        seen = [await cli(member_dir, "compute", provider.public, agreement, "--algorithm",
                          str(tmp_path / "leak.py"), "--out", str(tmp_path / "out"), "--json")]
        named = await follow(http, member, (await submit(http, member, provider, agreement, ROWS_AS_A_NAME))["id"])
        jobs = (await call(http, member, "GET", "/api/v1/jobs?role=CONSUMER"))["items"]
        exited = next(j for j in jobs if j["algorithmHash"] == algorithm_hash(EXIT_WITH_ROWS))
        assert (exited["state"], exited["reason"]) == ("FAILED", "the job exited with code 1")
        assert named["state"] == "FAILED"
        assert named["reason"] == "the output holds a symbolic link, which is not allowed; nothing was returned"

        for job in (exited, named):
            seen.append(json.dumps(await call(http, member, "GET", f"/api/v1/compute/{job['id']}")))
            seen.append(json.dumps(await call(http, member, "GET", f"/api/v1/jobs/{job['id']}")))
            seen.append(await cli(member_dir, "jobs", "show", job["id"]))
            async with dsp(member, "GET", f"{provider.public}/dsp/compute/jobs/{job['remoteId']}") as response:
                status = await response.json()
            assert status["state"] == "FAILED" and status["reason"] == job["reason"]
            seen += [json.dumps(status), json.dumps(decode_parts(status["receipt"])[1])]
        seen += [json.dumps(jobs), await cli(member_dir, "jobs", "list", "--role", "CONSUMER", "--json")]
        seen.append((tmp_path / "out/receipt.json").read_text())
        assert all(SECRET.split(",")[0] not in text and "98765" not in text for text in seen), seen

        # the provider's operator reads the rows on the log (API and CLI)
        theirs = await call(http, provider, "GET", f"/api/v1/jobs/{exited['remoteId']}")
        assert SECRET in theirs["log"] and SECRET not in theirs["reason"]
        theirs = await call(http, provider, "GET", f"/api/v1/jobs/{named['remoteId']}")
        assert theirs["log"].endswith(f"which is not allowed: {SECRET}\n")
        assert SECRET in await cli(provider_dir, "jobs", "show", exited["remoteId"])
