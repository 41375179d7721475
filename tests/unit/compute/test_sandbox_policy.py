"""When jobs may run at all, and the sandbox's output and log rules on their own."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from connector.compute.executor import Job, Limits
from connector.compute.sandbox import LocalSandbox, machine_cannot
from connector.compute.sandbox.log import CappedLog
from connector.compute.sandbox.output import OutputRefused, collect
from connector.compute.sandbox.process import HOST_JOB_ID
from connector.errors import ConnectorError, Reason

ROOT = Path(__file__).resolve().parents[3]
LIMITS = Limits(
    cpu_seconds=2, wall_seconds=5.0, memory_bytes=256 << 20, processes=16, output_bytes=1 << 20
)


def test_the_default_executor_refuses_when_it_cannot_isolate(tmp_path: Path) -> None:
    with pytest.raises(ConnectorError) as caught:
        LocalSandbox.checked(unshare=str(tmp_path / "no-unshare-here"))
    assert caught.value.reason is Reason.BAD_CONFIG
    assert "cannot isolate compute jobs" in str(caught.value)
    assert "unless the operator explicitly allows it" in str(caught.value)


def test_a_broken_sandbox_is_our_fault_not_the_machines() -> None:
    """What makes the sandbox tests fail rather than skip: a sandbox that does not work."""
    problem = LocalSandbox(unshare="/bin/false").isolation_problem()
    assert problem is not None and problem.startswith("the sandbox does not work here")
    assert not machine_cannot(problem)
    assert machine_cannot("the unshare tool is missing (/nowhere)")


def test_the_default_executor_isolates_here() -> None:
    if machine_cannot(LocalSandbox().isolation_problem()):
        pytest.skip("this machine cannot isolate jobs")
    executor = LocalSandbox.checked()
    assert executor.isolation_problem() is None
    assert executor.name == "local-sandbox"


@pytest.mark.skipif(not Path("/usr/bin/unshare").exists(), reason="no util-linux unshare")
def test_with_user_namespaces_disabled_the_node_refuses_jobs() -> None:
    """A real machine without user namespaces: a namespace of ours where they are capped at 0."""
    script = (
        "import sys\n"
        "from connector.compute.sandbox import LocalSandbox\n"
        "from connector.errors import ConnectorError\n"
        "try:\n"
        "    LocalSandbox.checked()\n"
        "except ConnectorError as exc:\n"
        "    print(exc); sys.exit(3)\n"
        "allowed = LocalSandbox.checked(allow_unisolated=True)\n"
        "print(allowed.isolation_problem())\n"
    )
    shell = f'echo 0 > /proc/sys/user/max_user_namespaces && exec {sys.executable} -c "$0"'
    command = [
        "unshare",
        "--user",
        "--map-root-user",
        "--pid",
        "--fork",
        "--mount-proc",
        "sh",
        "-c",
        shell,
        script,
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "cannot isolate compute jobs (user namespaces are disabled" in done.stdout


SYSTEM_PYTHON = shutil.which("python3", path="/usr/bin")
NOT_ROOT_SCRIPT = """
import asyncio, json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from connector.compute.executor import Job, Limits
from connector.compute.sandbox import LocalSandbox

async def main(work):
    sandbox = LocalSandbox()
    assert sandbox.isolation_problem() is None, sandbox.isolation_problem()
    probe = (b"import os, socket, json\\n"
             b"print(json.dumps([os.getuid(), [n for _, n in socket.if_nameindex()], sorted(os.listdir('/'))]))\\n"
             b"open('/output/copy.csv', 'w').write(open('/input/a.csv').read())\\n")
    limits = Limits(cpu_seconds=2, wall_seconds=10, processes=8)
    results = []
    for name, code in (("probe", probe), ("bomb", b"import os\\nwhile True:\\n    os.fork()\\n")):
        (work / name).mkdir()
        outcome = await sandbox.run(Job("python", code, work / "in", limits), work / name)
        results.append([outcome.status, outcome.reason, outcome.log.strip().splitlines()[0],
                        sorted(p.name for p in outcome.output_dir.iterdir())])
    print(json.dumps(results))

asyncio.run(main(Path(sys.argv[2])))
"""


@pytest.mark.skipif(
    os.geteuid() != 0 or SYSTEM_PYTHON is None or shutil.which("setpriv") is None,
    reason="needs root to become another user, and a system python3",
)
def test_a_node_that_is_not_root_isolates_jobs_too() -> None:
    version = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import sys; print(sys.version_info >= (3, 11))"],
        capture_output=True,
        text=True,
    )
    if version.stdout.strip() != "True":
        pytest.skip("the system python3 is older than 3.11")
    work = Path(tempfile.mkdtemp(prefix="communs-notroot-"))
    try:
        work.chmod(0o777)
        (work / "in").mkdir(mode=0o755)
        (work / "in" / "a.csv").write_text("n\n1\n")
        (work / "in" / "a.csv").chmod(0o644)
        nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        done = subprocess.run(
            [*nobody, SYSTEM_PYTHON, "-I", "-c", NOT_ROOT_SCRIPT, str(ROOT), str(work)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        (probe, bomb) = json.loads(done.stdout)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    assert probe[0] == "succeeded" and probe[3] == ["copy.csv"]
    uid, interfaces, top = json.loads(probe[2])
    assert uid == 0 and interfaces == ["lo"] and "etc" not in top and "root" not in top
    assert bomb[:2] == ["killed", "the job hit its limit of 8 processes"]


UNISOLATED_ROOT_SCRIPT = """
import asyncio, json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from connector.compute.executor import Job, Limits
from connector.compute.sandbox import LocalSandbox

async def main(work, key):
    sandbox = LocalSandbox(unshare=str(work / "no-unshare"), allow_unisolated=True)
    probe = (b"import os, json\\n"
             b"print(json.dumps([os.getuid(), dict(os.environ)]))\\n"
             b"rows = open(os.path.join(os.environ['COMMUNS_INPUT'], 'a.csv')).read()\\n"
             b"open(os.path.join(os.environ['COMMUNS_OUTPUT'], 'copy.csv'), 'w').write(rows)\\n")
    steal = ("print(open(%r).read())" % key).encode()
    bomb = b"import os\\nwhile True:\\n    os.fork()\\n"
    limits = Limits(cpu_seconds=2, wall_seconds=10, processes=8)
    results = []
    for name, code in (("probe", probe), ("steal", steal), ("bomb", bomb)):
        (work / name).mkdir()
        outcome = await sandbox.run(Job("python", code, work / "in", limits), work / name)
        results.append([outcome.status, outcome.reason, outcome.log.strip().splitlines()[1:],
                        sorted(p.name for p in outcome.output_dir.iterdir())])
    print(json.dumps(results))

asyncio.run(main(Path(sys.argv[2]), sys.argv[3]))
"""


@pytest.mark.skipif(
    os.geteuid() != 0 or SYSTEM_PYTHON is None, reason="needs root and a system python3"
)
def test_an_unisolated_root_node_still_runs_jobs_as_an_unprivileged_uid(tmp_path: Path) -> None:
    """With /usr/bin/python3 (reachable by anyone) a root node drops the job to an unused uid:
    the process limit binds and root's 0600 files stay closed, even without namespaces."""
    version = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import sys; print(sys.version_info >= (3, 11))"],
        capture_output=True,
        text=True,
    )
    if version.stdout.strip() != "True":
        pytest.skip("the system python3 is older than 3.11")
    (tmp_path / "in").mkdir(mode=0o755)
    (tmp_path / "in" / "a.csv").write_text("n\n1\n")
    key = tmp_path / "node.key"
    key.write_text("secret")
    key.chmod(0o600)
    command = [
        SYSTEM_PYTHON,
        "-I",
        "-c",
        UNISOLATED_ROOT_SCRIPT,
        str(ROOT),
        str(tmp_path),
        str(key),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    probe, steal, bomb = json.loads(done.stdout)
    assert probe[0] == "succeeded" and probe[3] == ["copy.csv"], probe
    uid, env = json.loads(probe[2][0])
    assert uid == 2_147_480_000 and set(env) == {"COMMUNS_INPUT", "COMMUNS_OUTPUT"}
    assert steal[0] == "failed" and "PermissionError" in steal[2][-1]
    assert bomb[:2] == [
        "killed",
        "the job hit its limit of 8 processes (it ran without network isolation, which the operator allowed)",
    ]


def _system_python_311() -> str | None:
    if SYSTEM_PYTHON is None:
        return None
    check = "import sys; print(sys.version_info >= (3, 11))"
    done = subprocess.run([SYSTEM_PYTHON, "-c", check], capture_output=True, text=True)
    return SYSTEM_PYTHON if done.stdout.strip() == "True" else None


def _unisolated(tmp_path: Path) -> LocalSandbox:
    """A sandbox without namespaces. A root node runs such jobs only with an interpreter that
    others may read (it drops them to an unused uid): the system's, when the tests run as root."""
    python = None
    if os.geteuid() == 0:
        python = _system_python_311()
        if python is None:
            pytest.skip("a root node needs a Python that others may read to run unisolated jobs")
    missing = str(tmp_path / "missing")
    return LocalSandbox(unshare=missing, allow_unisolated=True, python=python)


def _reachable_by_others(path: str) -> bool:
    real = Path(os.path.realpath(path))
    return all(os.stat(p).st_mode & 0o001 for p in real.parents)


async def test_a_root_node_without_namespaces_refuses_what_it_cannot_drop(tmp_path: Path) -> None:
    own = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
    if os.geteuid() != 0 or _reachable_by_others(own):
        pytest.skip("needs root and a Python that other users cannot reach (as under /root)")
    dataset = tmp_path / "dataset"
    dataset.mkdir()
    sandbox = LocalSandbox(unshare=str(tmp_path / "missing"), allow_unisolated=True)
    (tmp_path / "w").mkdir()
    outcome = await sandbox.run(Job("python", b"print('ran')", dataset, LIMITS), tmp_path / "w")
    assert outcome.status == "failed"
    assert "could not be dropped to an unprivileged uid and was not run" in outcome.reason
    assert outcome.log == f"sandbox: {outcome.reason}\n"


async def test_unisolated_jobs_run_only_when_allowed_and_say_so(tmp_path: Path) -> None:
    dataset = tmp_path / "dataset"
    dataset.mkdir()
    (dataset / "n.csv").write_text("n\n2\n3\n")
    sandbox = _unisolated(tmp_path)
    assert sandbox.isolation_problem() == f"the unshare tool is missing ({tmp_path / 'missing'})"
    code = b"""
import json, os
rows = open(os.path.join(os.environ["COMMUNS_INPUT"], "n.csv")).read().split()[1:]
json.dump({"sum": sum(map(int, rows)), "env": sorted(os.environ)}, open(os.path.join(os.environ["COMMUNS_OUTPUT"], "r.json"), "w"))
"""
    (tmp_path / "w1").mkdir()
    outcome = await sandbox.run(Job("python", code, dataset, LIMITS), tmp_path / "w1")
    assert outcome.status == "succeeded" and not outcome.isolated
    assert (
        "without network isolation" in outcome.reason and "without network isolation" in outcome.log
    )
    assert json.loads((outcome.output_dir / "r.json").read_text()) == {
        "sum": 5,
        "env": ["COMMUNS_INPUT", "COMMUNS_OUTPUT"],
    }

    (tmp_path / "w2").mkdir()
    link = b"import os\nos.symlink('/etc/passwd', os.environ['COMMUNS_OUTPUT'] + '/p')\n"
    outcome = await sandbox.run(Job("python", link, dataset, LIMITS), tmp_path / "w2")
    assert outcome.status == "failed" and "symbolic link" in outcome.reason
    assert outcome.log.endswith("which is not allowed: p\n")
    assert list(outcome.output_dir.iterdir()) == []

    (tmp_path / "w3").mkdir()
    sleeper = b"import os, time\nos.fork()\ntime.sleep(3600)\n"
    outcome = await sandbox.run(
        Job("python", sleeper, dataset, Limits(wall_seconds=0.5)), tmp_path / "w3"
    )
    assert outcome.status == "killed" and "wall-clock limit of 0.5 s" in outcome.reason

    (dataset / "g.nt").write_text(
        "<http://example.org/a> <http://example.org/p> <http://example.org/b> .\n"
    )
    (tmp_path / "w5").mkdir()
    query = b"SELECT ?o WHERE { ?s ?p ?o }"
    outcome = await sandbox.run(Job("sparql", query, dataset, LIMITS), tmp_path / "w5")
    assert outcome.status == "succeeded", outcome.reason + outcome.log
    assert "http://example.org/b" in (outcome.output_dir / "result.srj").read_text()

    refusing = LocalSandbox(unshare=str(tmp_path / "missing"))
    (tmp_path / "w4").mkdir()
    with pytest.raises(ConnectorError):
        await refusing.run(Job("python", code, dataset, LIMITS), tmp_path / "w4")


async def test_an_unisolated_job_that_escapes_its_group_does_not_hang_the_node(
    tmp_path: Path,
) -> None:
    """Without namespaces a process calling setsid() escapes the group kill (a known limit of
    that mode); it keeps the log pipe open, yet the run ends at once."""
    dataset = tmp_path / "dataset"
    dataset.mkdir()
    sandbox = _unisolated(tmp_path)
    code = (
        b"import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(20)\nprint('bye')\n"
    )
    (tmp_path / "w").mkdir()
    try:
        outcome = await asyncio.wait_for(
            sandbox.run(Job("python", code, dataset, LIMITS), tmp_path / "w"), 10
        )
        assert outcome.status == "succeeded" and outcome.log.endswith("bye\n")
        assert outcome.wall_seconds < 4
    finally:  # the escaped process: its script path, or its descriptor for it when dropped
        marker = str(tmp_path / "w" / "job" / "main.py").encode()
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                line = Path(f"/proc/{pid}/cmdline").read_bytes()
                dropped = os.stat(f"/proc/{pid}").st_uid == HOST_JOB_ID
                if marker in line or (dropped and b"/proc/self/fd/5/main.py" in line):
                    os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass


async def test_a_bad_job_is_refused_before_it_runs(tmp_path: Path) -> None:
    sandbox = LocalSandbox()
    with pytest.raises(ConnectorError) as caught:
        await sandbox.run(Job("shell", b"ls", tmp_path, LIMITS), tmp_path)  # type: ignore[arg-type]
    assert caught.value.reason is Reason.BAD_INPUT
    with pytest.raises(ConnectorError):
        await sandbox.run(Job("python", b"", tmp_path / "missing", LIMITS), tmp_path)
    with pytest.raises(ConnectorError) as caught:
        await sandbox.run(Job("python", b"#" * (17 << 20), tmp_path, LIMITS), tmp_path)
    assert caught.value.reason is Reason.TOO_LARGE


async def test_a_dataset_the_job_could_not_read_is_reported(tmp_path: Path) -> None:
    sandbox = LocalSandbox()
    if os.geteuid() != 0 or machine_cannot(sandbox.isolation_problem()):
        pytest.skip("only a root node with namespaces maps jobs to an unprivileged uid")
    dataset = tmp_path / "dataset"
    dataset.mkdir()
    (dataset / "private.csv").write_text("x\n")
    (dataset / "private.csv").chmod(0o600)
    (tmp_path / "w").mkdir()
    outcome = await sandbox.run(Job("python", b"", dataset, LIMITS), tmp_path / "w")
    assert outcome.status == "failed" and "private.csv" not in outcome.reason
    assert outcome.reason == "a dataset file is not readable by others, so the sandboxed job was not run"
    assert outcome.log == "sandbox: the dataset file private.csv is not readable by others\n"


def _tree(root: Path) -> None:
    (root / "a" / "b").mkdir(parents=True)
    (root / "top.txt").write_text("top")
    (root / "a" / "b" / "deep.bin").write_bytes(b"\0" * 1000)


def test_collect_copies_files_and_folders_only(tmp_path: Path) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.mkdir()
    dst.mkdir()
    _tree(src)
    assert collect(str(src), None, 10_000) == 1003
    assert collect(str(src), str(dst), 10_000) == 1003
    assert (dst / "top.txt").read_text() == "top"
    assert (dst / "a" / "b" / "deep.bin").stat().st_size == 1000


@pytest.mark.parametrize(
    ("plant", "message", "path"),
    [
        (lambda d: (d / "l").symlink_to("/etc/passwd"), "a symbolic link", "l"),
        (lambda d: (d / "a" / "l").symlink_to(d / "top.txt"), "a symbolic link", "a/l"),
        (lambda d: os.mkfifo(d / "f"), "a named pipe", "f"),
        (lambda d: os.link(d / "top.txt", d / "a" / "again"), "a hard link", "a/again"),
        (lambda d: (d / "big").write_bytes(b"x" * 2000), "larger than its cap of 2000 bytes", "big"),
    ],
)
def test_collect_refuses(tmp_path: Path, plant, message: str, path: str) -> None:
    """The message names the rule broken; `path`, apart, the entry (a name the job chose)."""
    src = tmp_path / "src"
    src.mkdir()
    _tree(src)
    plant(src)
    with pytest.raises(OutputRefused, match=message) as caught:
        collect(str(src), None, 2000)
    assert caught.value.path == path


def test_collect_refuses_too_many_levels(tmp_path: Path) -> None:
    deep = tmp_path / "src"
    deep.mkdir()
    path = deep
    for _ in range(40):
        path = path / "d"
    path.mkdir(parents=True)
    with pytest.raises(OutputRefused, match="nested deeper"):
        collect(str(deep), None, 100)


def test_the_log_keeps_its_head_and_tail_within_the_cap() -> None:
    log = CappedLog(1000)
    log.feed(b"first line\n")
    for i in range(10_000):
        log.feed(b"noise %d\n" % i)
    log.feed(b"Traceback: the end\n")
    text = log.text()
    assert len(text.encode()) <= 1000
    assert text.startswith("first line\n") and text.endswith("Traceback: the end\n")
    assert "bytes dropped" in text
    small = CappedLog(1000)
    small.feed(b"short\n")
    assert small.text() == "short\n"
