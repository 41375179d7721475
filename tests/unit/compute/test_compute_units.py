"""Compute-to-data pieces without a node: job transitions, the result archive (deterministic,
extracted safely), the signed receipt and publisher signatures, the [compute] config."""

from __future__ import annotations

import dataclasses
import io
import os
import tarfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connector.compute import receipt
from connector.compute.archive import file_hash, pack, unpack
from connector.compute.model import (
    ComputeJob,
    JobState,
    Resources,
    Role,
    TransitionError,
    advance,
    algorithm_hash,
)
from connector.compute.publisher import sign_algorithm, verify_publisher
from connector.config import ComputeConfig, load, save
from connector.errors import ConnectorError
from connector.identity.did import Signer
from connector.identity.keys import generate_key
from connector.identity.resolver import DidResolver
from tests.nodes import init_node

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def job(**changes) -> ComputeJob:
    base = ComputeJob(
        id="j1",
        role=Role.PROVIDER,
        state=JobState.QUEUED,
        agreement_id="urn:uuid:a",
        dataset_iri="urn:uuid:d",
        counterparty_did="did:web:consumer",
        kind="python",
        algorithm="print(1)",
        algorithm_hash=algorithm_hash("print(1)"),
        created_at=T0,
        updated_at=T0,
    )
    return dataclasses.replace(base, **changes)


def test_transitions_are_guarded():
    running = advance(job(), JobState.RUNNING, T0)
    assert running.version == 2 and running.state is JobState.RUNNING
    waiting = advance(running, JobState.AWAITING_RELEASE, T0)
    assert advance(waiting, JobState.RELEASED, T0).state.has_result
    with pytest.raises(TransitionError):
        advance(job(), JobState.SUCCEEDED, T0)  # never ran
    with pytest.raises(TransitionError):
        advance(advance(running, JobState.KILLED, T0), JobState.RELEASED, T0)  # final is final
    assert (
        algorithm_hash("x")
        == "sha256:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"
    )


def test_archive_is_deterministic_and_round_trips(tmp_path):
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    (out / "b.txt").write_text("b")
    (out / "sub" / "a.csv").write_text("x,y\n1,2\n")
    first = pack(out, tmp_path / "1.tar")
    os.utime(out / "b.txt", (0, 12345))  # times and order of creation do not matter
    assert pack(out, tmp_path / "2.tar") == first == file_hash(tmp_path / "1.tar")
    (out / "b.txt").write_text("c")
    assert pack(out, tmp_path / "3.tar") != first
    written = unpack(tmp_path / "1.tar", tmp_path / "back")
    assert sorted(written) == ["b.txt", "sub/a.csv"]
    assert (tmp_path / "back" / "sub" / "a.csv").read_text() == "x,y\n1,2\n"


def _tar(path: Path, *entries: tuple[str, bytes, bytes]) -> Path:
    with tarfile.open(path, "w") as tar:
        for name, kind, data in entries:
            info = tarfile.TarInfo(name)
            info.type = kind
            if kind == tarfile.SYMTYPE:
                info.linkname = "/etc/passwd"
            info.size = len(data) if kind == tarfile.REGTYPE else 0
            tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
    return path


@pytest.mark.parametrize(
    "entry",
    [
        ("../escape.txt", tarfile.REGTYPE, b"x"),
        ("/abs.txt", tarfile.REGTYPE, b"x"),
        ("link", tarfile.SYMTYPE, b""),
        ("dev", tarfile.CHRTYPE, b""),
        ("a/../../b", tarfile.REGTYPE, b"x"),
    ],
)
def test_unpack_refuses_what_would_escape(tmp_path, entry):
    archive = _tar(tmp_path / "bad.tar", ("ok.txt", tarfile.REGTYPE, b"fine"), entry)
    with pytest.raises(ConnectorError, match="refused"):
        unpack(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists()  # checked before anything is written
    assert not (tmp_path / "escape.txt").exists()


def test_unpack_refuses_oversized_and_garbage(tmp_path):
    archive = _tar(tmp_path / "big.tar", ("big", tarfile.REGTYPE, b"x" * 5000))
    with pytest.raises(ConnectorError, match="more than 1000"):
        unpack(archive, tmp_path / "out", max_bytes=1000)
    (tmp_path / "junk.tar").write_bytes(b"not a tar at all" * 40)
    with pytest.raises(ConnectorError):
        unpack(tmp_path / "junk.tar", tmp_path / "out")
    # a symlink already in the target folder is not followed
    target = tmp_path / "target"
    target.mkdir()
    (target / "evil").symlink_to(tmp_path)
    archive = _tar(tmp_path / "via.tar", ("evil/x.txt", tarfile.REGTYPE, b"x"))
    with pytest.raises(ConnectorError, match="outside"):
        unpack(archive, target)
    assert not (tmp_path / "x.txt").exists()


def _finished(signer: Signer) -> ComputeJob:
    return job(
        state=JobState.SUCCEEDED,
        counterparty_did="did:web:consumer",
        result_hash="sha256:" + "ab" * 32,
        dataset_hash="sha256:" + "cd" * 32,
        resources=Resources(1.5, 1 << 20, 2.0, 10),
        started_at=T0,
        finished_at=T0,
    )


async def test_receipt_verifies_and_catches_forgeries():
    provider, other = (
        Signer.for_did_key(generate_key("Ed25519")),
        Signer.for_did_key(generate_key("Ed25519")),
    )
    done = _finished(provider)
    jws = receipt.sign(done, provider)
    resolver = DidResolver(None)
    expected = {
        "jobId": "j1",
        "agreementId": "urn:uuid:a",
        "consumer": "did:web:consumer",
        "algorithmHash": done.algorithm_hash,
    }
    claims, problems = await receipt.verify(
        jws, resolver, provider_did=provider.did, expected=expected, result_hash=done.result_hash
    )
    assert problems == [] and claims["status"] == "SUCCEEDED"
    assert claims["resources"] == {
        "cpuSeconds": 1.5,
        "maxRssBytes": 1 << 20,
        "wallSeconds": 2.0,
        "outputBytes": 10,
    }
    assert claims["dataset"]["hash"] == done.dataset_hash
    # another key, a changed result, another algorithm, a tampered payload, garbage
    _, problems = await receipt.verify(
        receipt.sign(done, other), resolver, provider_did=provider.did, expected=expected
    )
    assert problems == ["the receipt is not signed by the provider"]
    _, problems = await receipt.verify(
        jws,
        resolver,
        provider_did=provider.did,
        expected=expected,
        result_hash="sha256:" + "00" * 32,
    )
    assert problems == ["the result does not match the hash in the receipt"]
    _, problems = await receipt.verify(
        jws,
        resolver,
        provider_did=provider.did,
        expected={**expected, "algorithmHash": "sha256:other"},
    )
    assert problems and "algorithmHash" in problems[0]
    head, _, sig = jws.split(".")
    forged_payload = receipt.sign(
        dataclasses.replace(done, result_hash="sha256:" + "00" * 32), provider
    ).split(".")[1]
    _, problems = await receipt.verify(
        f"{head}.{forged_payload}.{sig}", resolver, provider_did=provider.did, expected={}
    )
    assert problems == ["the receipt's signature does not verify"]
    _, problems = await receipt.verify(
        "not.a.jws", resolver, provider_did=provider.did, expected={}
    )
    assert problems


async def test_publisher_signature():
    publisher = Signer.for_did_key(generate_key("Ed25519"))
    digest = algorithm_hash("print('hello')")
    resolver = DidResolver(None)
    signature = sign_algorithm(digest, publisher)
    assert await verify_publisher(signature, digest, resolver) == publisher.did
    assert await verify_publisher(signature, algorithm_hash("print('bye')"), resolver) is None
    assert await verify_publisher("garbage", digest, resolver) is None


def test_compute_config_round_trip_and_validation(tmp_path):
    folder = init_node(tmp_path / "n")
    config = load(folder)
    assert config.compute == ComputeConfig()
    changed = dataclasses.replace(
        config,
        compute=ComputeConfig(
            allow_unisolated=True, manual_release=True, parallel=2, cpu_seconds=5, wall_seconds=7
        ),
    )
    save(changed)
    assert load(folder).compute == changed.compute
    text = (folder / "communs.toml").read_text()
    for bad, message in (
        ("parallel = 2", "parallel = 0"),
        ("manual_release = true", 'manual_release = "yes"'),
        ("cpu_seconds = 5", "cpu_seconds = 5.5"),
    ):
        (folder / "communs.toml").write_text(text.replace(bad, message))
        with pytest.raises(ConnectorError, match="communs.toml"):
            load(folder)


def test_the_compute_offer_defers_run_values_until_a_run_and_judges_them_then():
    from policies import terms as T
    from policies.evaluate import Request, evaluate
    from policies.operands import Context, Scope
    from policies.parse import parse_policy
    from policies.serialize import to_jsonld
    from policies.templates import compute_offer

    offer = compute_offer(
        "urn:uuid:o",
        "did:web:p",
        algorithms=["sha256:aa"],
        publishers=["did:web:pub"],
        max_output_bytes=100,
        max_runs=2,
        manual_release=True,
    )
    document = to_jsonld(offer)
    assert all(
        isinstance(rule["action"], str) for rule in document["permission"]
    )  # DSP 2025-1: plain actions
    policy = parse_policy(document)

    def decide(scope: Scope, count: int = 0, **values) -> bool:
        context = Context(
            now=T0,
            requester="did:web:c",
            scope=scope,
            count=count,
            values={T.communs(k): v for k, v in values.items()},
        )
        return evaluate(policy, Request(T.COMPUTE), context).allowed

    run = {"algorithm": "sha256:aa", "outputSize": 0, "release": T.communs("manual")}
    assert decide(Scope.NEGOTIATION) and decide(Scope.CATALOG)  # nothing known yet: deferred
    assert decide(Scope.COMPUTE, **run)
    assert not decide(Scope.COMPUTE)  # a run must say what it runs
    assert not decide(Scope.COMPUTE, **{**run, "algorithm": "sha256:bb"})
    assert decide(
        Scope.COMPUTE, **{**run, "algorithm": "sha256:bb", "algorithmPublisher": "did:web:pub"}
    )
    assert not decide(Scope.COMPUTE, **{**run, "outputSize": 101})
    assert not decide(Scope.COMPUTE, **{**run, "release": T.communs("automatic")})
    assert not decide(Scope.COMPUTE, count=2, **run)  # a third run
