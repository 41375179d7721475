"""`communs compute PROVIDER_URL AGREEMENT_ID --algorithm FILE --out DIR` (the consumer) and
`communs jobs list | show ID | result ID --out DIR | approve ID | reject ID` (the provider's
operator: `result` extracts a result, e.g. to look at it before releasing it).

Both talk to the running node's management API: the node holds the DCP identity, follows
the job, downloads the result and verifies the provider's receipt. `compute` then checks the
archive's hash against the receipt again, extracts it safely into DIR and writes receipt.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from connector.compute.archive import file_hash, unpack
from connector.errors import ConnectorError, Reason
from connector.terminal.common import read_input, run
from connector.terminal.management import call
from connector.terminal.output import fields, print_json, table

RESULT_STATES = ("SUCCEEDED", "RELEASED")
FINAL = (*RESULT_STATES, "FAILED", "KILLED", "REJECTED")


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    compute = commands.add_parser("compute", parents=[common], help="run an algorithm on a provider's data under an agreement")
    compute.add_argument("provider", metavar="PROVIDER_URL")
    compute.add_argument("agreement", metavar="AGREEMENT_ID")
    compute.add_argument("--algorithm", required=True, metavar="FILE", help="a Python script, or a SPARQL query (.rq, .sparql)")
    compute.add_argument("--out", required=True, metavar="DIR", help="where the result files and receipt.json go")
    compute.add_argument("--kind", choices=("python", "sparql"), help="default: from the file's suffix")
    compute.add_argument("--publisher-signature", metavar="FILE", help="a publisher's JWS over the algorithm's hash")
    compute.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for the result (default 600)")
    compute.set_defaults(func=cmd_compute)

    jobs = commands.add_parser("jobs", parents=[common], help="compute jobs run here: list, show, approve or reject")
    actions = jobs.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", parents=[common], help="jobs, newest first")
    listing.add_argument("--state")
    listing.add_argument("--role", choices=("PROVIDER", "CONSUMER"), default="PROVIDER")
    listing.set_defaults(func=cmd_list)
    result = actions.add_parser("result", parents=[common], help="extract a job's result (also one waiting for release)")
    result.add_argument("id")
    result.add_argument("--out", required=True, metavar="DIR", help="a new or empty folder")
    result.set_defaults(func=cmd_result)
    for name, helptext, func in (("show", "one job: state, reason, log, resources", cmd_show),
                                 ("approve", "release a job's result", cmd_approve),
                                 ("reject", "refuse to release a job's result", cmd_reject)):
        action = actions.add_parser(name, parents=[common], help=helptext)
        action.add_argument("id")
        if name == "reject":
            action.add_argument("--reason", help="one sentence the consumer will read")
        action.set_defaults(func=func)


def _kind(args: argparse.Namespace) -> str:
    if args.kind:
        return args.kind
    return "sparql" if Path(args.algorithm).suffix.lower() in (".rq", ".sparql") else "python"


def _empty_folder(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConnectorError(Reason.BAD_INPUT, f"{out} must be a new or empty folder")


async def _extract(args: argparse.Namespace, path: str, out: Path, expected_hash: str | None) -> list[str]:
    """Download the archive at PATH, check its hash, extract it safely into OUT."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as scratch:
        archive = Path(scratch) / "result.tar"
        await call(args, "GET", path, into=archive)
        if expected_hash is not None and file_hash(archive) != expected_hash:
            raise ConnectorError(Reason.BAD_INPUT, "the result does not match the receipt's hash")
        return unpack(archive, out)


def cmd_result(args: argparse.Namespace) -> int:
    out = Path(args.out)
    _empty_folder(out)

    async def work() -> dict:
        job = await call(args, "GET", f"/api/v1/jobs/{args.id}")
        return {"id": job["id"], "state": job["state"],
                "files": await _extract(args, f"/api/v1/jobs/{args.id}/result", out, job["resultHash"])}

    shown = run(work())
    if args.json:
        print_json(shown)
    else:
        fields(shown.items())
    return 0


def cmd_compute(args: argparse.Namespace) -> int:
    algorithm = read_input(args.algorithm)
    signature = read_input(args.publisher_signature).strip() if args.publisher_signature else None
    out = Path(args.out)
    _empty_folder(out)

    async def work() -> dict:
        body = {"providerUrl": args.provider, "agreementId": args.agreement, "algorithm": algorithm,
                "kind": _kind(args), "publisherSignature": signature}
        job = await call(args, "POST", "/api/v1/compute", body)
        deadline = time.monotonic() + args.timeout
        while job["state"] not in FINAL and time.monotonic() < deadline:
            wait = max(0.0, min(10.0, deadline - time.monotonic()))
            job = await call(args, "GET", f"/api/v1/compute/{job['id']}", params={"wait": f"{wait:.1f}"})
        if job["state"] in RESULT_STATES:
            job["files"] = await _extract(args, f"/api/v1/compute/{job['id']}/result", out, job["resultHash"])
        if job.get("receipt"):
            out.mkdir(parents=True, exist_ok=True)
            (out / "receipt.json").write_text(json.dumps(
                {"jws": job["receipt"], "claims": job["receiptClaims"]}, indent=2, ensure_ascii=False) + "\n")
        return job

    job = run(work())
    if args.json:
        print_json({k: v for k, v in job.items() if k != "algorithm"})
    else:
        fields([("id", job["id"]), ("state", job["state"]), ("reason", job["reason"]),
                ("files", ", ".join(job.get("files", []))), ("receipt", "verified" if job["state"] in RESULT_STATES else job["state"])])
    if job["state"] not in FINAL:
        raise ConnectorError(Reason.BAD_INPUT, f"the job is still {job['state']} after {args.timeout:.0f} s")
    return 0 if job["state"] in RESULT_STATES else 1


def cmd_list(args: argparse.Namespace) -> int:
    params = {k: v for k, v in (("state", args.state), ("role", args.role)) if v}
    items = run(call(args, "GET", "/api/v1/jobs", params=params))["items"]
    if args.json:
        print_json(items)
    else:
        table("compute jobs", ("id", "state", "counterparty", "agreement", "created"),
              [(j["id"], j["state"], j["counterparty"], j["agreementId"], j["createdAt"]) for j in items])
    return 0


def _show(args: argparse.Namespace, job: dict) -> int:
    if args.json:
        print_json(job)
    else:
        skip = ("log", "algorithm", "receipt", "receiptClaims", "resources")
        fields([*((k, v) for k, v in job.items() if k not in skip),
                *((f"resources.{k}", v) for k, v in job["resources"].items())])
        for title in ("algorithm", "log"):
            if job.get(title):
                print(f"--- {title} ---\n{job[title].rstrip()}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    return _show(args, run(call(args, "GET", f"/api/v1/jobs/{args.id}")))


def cmd_approve(args: argparse.Namespace) -> int:
    return _show(args, run(call(args, "POST", f"/api/v1/jobs/{args.id}/approve")))


def cmd_reject(args: argparse.Namespace) -> int:
    body = {"reason": args.reason} if args.reason else None
    return _show(args, run(call(args, "POST", f"/api/v1/jobs/{args.id}/reject", body)))
