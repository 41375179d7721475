"""Run the official Dataspace Protocol TCK (DSP 2025-1) against a fresh communs node.

    .venv/bin/python conformance/run_dsp_tck.py [--filter REGEX] [--keep] [--debug]

1. builds conformance/dsp-tck (Maven: the TCK's published modules and our launcher);
2. makes a node in a temporary folder (`communs init --dev`), with the conformance-only static
   caller the TCK needs ([auth] static_callers: its token, 0600) and manual decisions (the
   operator's part is scripted, dsp_tck_operator.py), and serves it (`communs serve`);
3. publishes the datasets the negotiation scenarios use, and makes the agreements the transfer
   scenarios use over DSP (dsp_tck_seed.py);
4. serves the adapter the TCK calls to make the node a consumer, fills
   conformance/dsp-tck/tck.properties, runs the TCK, prints its report and exits 0 only when
   every scenario passed.

Exit codes: 0 all passed, 1 a scenario failed, 2 the run could not be set up.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # this checkout's connector
sys.path.insert(0, str(HERE))

from dsp_tck_operator import (  # noqa: E402
    CONSUMER_NEGOTIATIONS,
    CONSUMER_TRANSFERS,
    PROVIDER_NEGOTIATIONS,
    PROVIDER_TRANSFERS,
    SEED_CONSUMER,
    SEED_PROVIDER,
    Adapter,
    Operator,
)
from dsp_tck_seed import PARTICIPANT, Counterpart  # noqa: E402

from connector.config import StaticCaller, load, read_token, save  # noqa: E402
from tests.nodes import free_port  # noqa: E402  (below the ephemeral range)

PROJECT = HERE / "dsp-tck"
MAIN_CLASS = "org.communs.conformance.RunDspTck"
TCK_TIMEOUT = 1500  # seconds for the whole TCK run


def build() -> str:
    """The TCK's classpath (Maven resolves the TCK's modules, compiles our launcher)."""
    if shutil.which("mvn") is None or shutil.which("java") is None:
        raise SystemExit("the DSP TCK needs java (17+) and mvn on the PATH")
    classpath = PROJECT / "target" / "classpath.txt"
    subprocess.run(["mvn", "-q", "-B", "-f", str(PROJECT / "pom.xml"), "compile", "dependency:build-classpath",
                    f"-Dmdep.outputFile={classpath}"], check=True)
    return f"{PROJECT / 'target' / 'classes'}{os.pathsep}{classpath.read_text().strip()}"


ROOT = HERE.parent
# the node runs this checkout's code, whatever the venv's install points at
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}


def communs(*args: str) -> list[str]:
    return [sys.executable, "-m", "connector.cli.main", *args]


def make_node(folder: Path, port: int, tck_origin: str, helper_origin: str) -> str:
    """A dev node in FOLDER with the TCK's static caller; the token it knows the TCK by."""
    subprocess.run(communs("init", "--dir", str(folder), "--dev", "--name", "DSP TCK target",
                           "--url", f"http://127.0.0.1:{port}", "--management-port", str(free_port()),
                           "--country", "FR-75", "--registration-number", "leiCode:529900T8BM49AURSDO55"),
                   check=True, stdout=subprocess.DEVNULL, env=ENV)
    token = secrets.token_urlsafe(32)
    fd = os.open(folder / "tck.token", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token)
    config = load(folder)
    save(dataclasses.replace(
        config, static_callers=(StaticCaller(PARTICIPANT, "tck.token"),),
        callback_origins=(tck_origin, helper_origin), provider_decisions="manual", consumer_decisions="manual",
        transfer_provider_decisions="manual"))
    return token


async def ready(http: aiohttp.ClientSession, url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the node stopped (exit {process.returncode}); see its log")
        with contextlib.suppress(aiohttp.ClientError):
            async with http.get(f"{url}/health/ready") as r:
                if r.status == 200:
                    return
        await asyncio.sleep(0.2)
    raise SystemExit("the node was not ready within a minute")


async def publish(http: aiohttp.ClientSession, folder: Path, management: str, auth: dict, dsp: str,
                  token: str, name: str) -> tuple[str, str]:
    """A small open dataset published on the node: (its IRI, its offer's id)."""
    data = folder / "data"
    data.mkdir(exist_ok=True)
    (data / f"{name}.csv").write_text("scenario,value\n" + name + ",1\n")
    body = {"source": str(data / f"{name}.csv"), "title": f"TCK {name}", "policy": "open"}
    async with http.post(f"{management}/api/v1/datasets", json=body, headers=auth) as r:
        if r.status != 201:
            raise SystemExit(f"publishing {name} failed: {r.status} {await r.text()}")
        iri = (await r.json())["iri"]
    async with http.get(f"{dsp}/catalog/datasets/{iri}", headers={"Authorization": token}) as r:
        dataset = await r.json()
    offers = dataset["hasPolicy"]
    return iri, (offers if isinstance(offers, list) else [offers])[0]["@id"]


async def seed(http, folder, operator: Operator, counterpart: Counterpart, management: str, dsp: str,
               token: str, helper: str) -> dict[str, str]:
    """The ids the TCK's configuration names, with every dataset and agreement in place."""
    auth = operator.auth
    values: dict[str, str] = {}
    values["CAT_DATASETID"], _ = await publish(http, folder, management, auth, dsp, token, "catalog")
    for scenario, script in PROVIDER_NEGOTIATIONS.items():
        iri, offer_id = await publish(http, folder, management, auth, dsp, token, scenario)
        values[f"{scenario}_DATASETID"], values[f"{scenario}_OFFERID"] = iri, offer_id
        operator.negotiations[iri] = script
    for scenario in CONSUMER_NEGOTIATIONS:
        operator.negotiations["ACNC" + scenario[len("CN_C_"):].replace("_", "")] = CONSUMER_NEGOTIATIONS[scenario]
    # the node provides: one agreement per transfer scenario, negotiated by the TCK's participant
    iri, offer_id = await publish(http, folder, management, auth, dsp, token, "transfers")
    operator.negotiations[iri] = SEED_PROVIDER
    async with http.get(f"{dsp}/catalog/datasets/{iri}", headers={"Authorization": token}) as r:
        offer = (await r.json())["hasPolicy"]
    offer = {**(offer[0] if isinstance(offer, list) else offer), "@type": "Offer", "target": iri}
    offer.pop("@context", None)
    agreements = await asyncio.gather(*(counterpart.agree_as_consumer(offer) for _ in PROVIDER_TRANSFERS))
    for scenario, agreement_id in zip(PROVIDER_TRANSFERS, agreements, strict=True):
        values[f"{scenario}_AGREEMENTID"] = agreement_id
        operator.transfers[agreement_id] = PROVIDER_TRANSFERS[scenario]
    # the node consumes: agreements with the ids tck.properties names
    for scenario, script in CONSUMER_TRANSFERS.items():
        dataset, agreement_id = f"urn:tck:dataset:{scenario}", f"urn:tck:agreement:{scenario}"
        counterpart.expect(dataset, agreement_id)
        operator.negotiations[dataset] = SEED_CONSUMER
        operator.transfers[agreement_id] = script
        body = {"providerAddress": f"{helper}/seed/provider", "providerId": PARTICIPANT, "datasetId": dataset,
                "offer": {"@id": f"urn:tck:offer:{scenario}", "permission": [{"action": "use"}]}}
        async with http.post(f"{management}/api/v1/negotiations", json=body, headers=auth) as r:
            if r.status != 201:
                raise SystemExit(f"seeding {scenario} failed: {r.status} {await r.text()}")
    deadline = time.monotonic() + 60
    while True:
        async with http.get(f"{management}/api/v1/negotiations", params={"limit": "500", "state": "FINALIZED"},
                            headers=auth) as r:
            done = {n["agreementId"] for n in (await r.json())["items"]}
        missing = [s for s in CONSUMER_TRANSFERS if f"urn:tck:agreement:{s}" not in done]
        if not missing:
            return values
        if time.monotonic() > deadline:
            raise SystemExit(f"seeding the consumer's agreements did not finish: {missing}")
        await asyncio.sleep(0.2)


def fill(values: dict[str, str], target: Path) -> None:
    text = (PROJECT / "tck.properties").read_text()
    filled = re.sub(r"\{\{(\w+)\}\}", lambda m: values[m.group(1)], text)
    target.write_text(filled)
    os.chmod(target, 0o600)  # it holds the static token


async def run_tck(classpath: str, properties: Path, pattern: str | None, log: Path) -> tuple[int, str]:
    args = ["java", "-cp", classpath, MAIN_CLASS, str(properties)] + ([pattern] if pattern else [])
    process = await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.STDOUT)
    lines = []
    assert process.stdout is not None
    with log.open("w") as out:
        try:
            async with asyncio.timeout(TCK_TIMEOUT):
                async for raw in process.stdout:
                    line = raw.decode(errors="replace")
                    lines.append(line)
                    out.write(line)
                    print(line, end="", flush=True)
                code = await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()
            return 1, "".join(lines) + f"\nthe TCK did not finish within {TCK_TIMEOUT} s\n"
    return code, "".join(lines)


async def main(args: argparse.Namespace) -> int:
    started = time.monotonic()
    classpath = build()
    tmp = Path(tempfile.mkdtemp(prefix="communs-dsp-tck-"))
    folder = tmp / "node"
    port, tck_port, helper_port = free_port(), free_port(), free_port()
    helper = f"http://127.0.0.1:{helper_port}"
    token = make_node(folder, port, f"http://127.0.0.1:{tck_port}", helper)
    config = load(folder)
    management, base, dsp = config.management_url, f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port}/dsp"
    node_log = (tmp / "node.log").open("w")
    node = subprocess.Popen(communs("serve", "--dir", str(folder)), stdout=node_log, stderr=subprocess.STDOUT, env=ENV)
    operator = Operator(management, read_token(folder))
    runner = None
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
            await ready(http, base, node)
            async with http.get(f"{base}/.well-known/did.json") as r:
                node_did = (await r.json())["id"]
            counterpart = Counterpart(dsp, node_did, helper, token)
            app = web.Application()
            counterpart.routes(app)
            Adapter(operator).routes(app)
            runner = web.AppRunner(app)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", helper_port).start()
            acting = asyncio.create_task(operator.run(http))
            values = await seed(http, folder, operator, counterpart, management, dsp, token, helper)
            print(f"seeded in {time.monotonic() - started:.0f} s; running the TCK", flush=True)
            values.update(TCK_PORT=str(tck_port), NODE_DID=node_did, DSP_URL=dsp, BASE_URL=base, TOKEN=token,
                          ADAPTER=helper, DEBUG="true" if args.debug else "false")
            properties = tmp / "tck.properties"
            fill(values, properties)
            code, output = await run_tck(classpath, properties, args.filter, tmp / "tck.log")
            acting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await acting
    finally:
        if runner is not None:
            await runner.cleanup()
        node.terminate()
        try:
            node.wait(timeout=20)
        except subprocess.TimeoutExpired:
            node.kill()
        node_log.close()
    return verdict(output, code, time.monotonic() - started, tmp, args.keep)


def verdict(output: str, code: int, seconds: float, tmp: Path, keep: bool) -> int:
    """0 when every scenario passed but those the TCK itself disables (JUnit counts them as
    skipped); prints why otherwise."""
    summary = re.search(r"TCK summary: (\d+) tests found, (\d+) succeeded, (\d+) failed, (\d+) aborted"
                        r"(?:, (\d+) skipped)?", output)
    failed = sorted(set(re.findall(r"FAILED: (\S+)", output)))
    ok = summary is not None and not failed and code == 0
    if summary is not None:
        found, succeeded, failures, aborted = (int(summary.group(i)) for i in range(1, 5))
        skipped = int(summary.group(5) or 0)
        ok = ok and failures == aborted == 0 and succeeded + skipped == found > 0
    print()
    print(summary.group(0) if summary else "the TCK gave no summary")
    if failed:
        print(f"  failed: {', '.join(failed)}")
    where = f"; logs in {tmp}" if keep or not ok else ""
    print(f"DSP TCK: {'PASSED' if ok else 'FAILED'} in {seconds:.0f} s{where}")
    if ok and not keep:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Run the official DSP TCK against a fresh communs node.")
    parser.add_argument("--filter", help="only the scenarios whose display name matches this regex, e.g. 'CN_C?:01'")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (node, logs, properties)")
    parser.add_argument("--debug", action="store_true", help="the TCK's debug output")
    sys.exit(asyncio.run(main(parser.parse_args())))
