"""Hostile algorithms in the real local sandbox: each is contained, reported, and leaks nothing.

Probing jobs write what they managed to do into their output, so the assertions read the
job's own view of the world rather than guessing from its exit code.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import time
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from connector.compute.executor import Job, Limits, Outcome
from connector.compute.sandbox import LocalSandbox, machine_cannot
from tests.conftest import serving

SANDBOX = LocalSandbox()
# Limits small enough to be quick; a CPU limit gets a roomy wall clock, since on a loaded
# machine one second of CPU time can take several seconds to use up.
SMALL = Limits(
    cpu_seconds=1,
    wall_seconds=2.0,
    memory_bytes=256 << 20,
    processes=16,
    file_bytes=256 << 10,
    output_bytes=1 << 20,
    log_bytes=4096,
)

ROOMY = replace(SMALL, wall_seconds=15.0)

# Skipped only where the machine lacks namespaces; a sandbox of ours that breaks fails here.
pytestmark = pytest.mark.skipif(
    machine_cannot(SANDBOX.isolation_problem()), reason="this machine cannot isolate jobs"
)

PROBE_HEAD = b"""
import json, os
found = {}
def attempt(name, action):
    try:
        value = action()
        found[name] = ["ok", value if isinstance(value, (str, int, list)) else repr(value)]
    except OSError as exc:
        found[name] = ["error", exc.errno]
def report():
    with open(os.path.join(os.environ["COMMUNS_OUTPUT"], "found.json"), "w") as f:
        json.dump(found, f)
"""


@pytest.fixture
def world(tmp_path: Path) -> dict[str, Path]:
    """A dataset next to a folder holding the node's 0600 key, the way a node lays them out."""
    dataset, keys = tmp_path / "dataset", tmp_path / "keys"
    dataset.mkdir()
    keys.mkdir()
    (dataset / "sales.csv").write_text("region,amount\nnorth,10\n")
    key = keys / "node.key"
    key.write_text("-----BEGIN PRIVATE KEY----- secret")
    key.chmod(0o600)
    (dataset / "key-link").symlink_to(key)  # a symlink trick planted in the dataset itself
    (dataset / "relative-link").symlink_to("../keys/node.key")
    return {"dataset": dataset, "key": key, "tmp": tmp_path}


async def _run(
    code: bytes, world: dict[str, Path], limits: Limits = SMALL, name: str = "work"
) -> Outcome:
    work = world["tmp"] / name
    work.mkdir()
    return await SANDBOX.run(Job("python", code, world["dataset"], limits), work)


def _found(outcome: Outcome) -> dict[str, list]:
    assert outcome.status == "succeeded", outcome.reason + "\n" + outcome.log
    return json.loads((outcome.output_dir / "found.json").read_text())


def _job_namespace(work: Path) -> str | None:
    """The pid namespace of the job run in WORK: the one its launcher (pid 1 there) is in."""
    mine, marker = os.readlink("/proc/self/ns/pid"), str(work).encode()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if marker in Path(f"/proc/{pid}/cmdline").read_bytes():
                ns = os.readlink(f"/proc/{pid}/ns/pid")
                if ns != mine:
                    return ns
        except OSError:
            pass  # gone meanwhile
    return None


def _processes_in(ns: str) -> int:
    count = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            count += os.readlink(f"/proc/{pid}/ns/pid") == ns
        except OSError:
            pass
    return count


async def _job_started(work: Path) -> str:
    """Wait until the job run in WORK has exec'd its interpreter; return its pid namespace."""
    for _ in range(500):
        ns = _job_namespace(work)
        if ns is not None:
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    if (
                        os.readlink(f"/proc/{pid}/ns/pid") == ns
                        and b"/job/main.py" in Path(f"/proc/{pid}/cmdline").read_bytes()
                    ):
                        await asyncio.sleep(0.3)  # and, surely, started the script
                        return ns
                except OSError:
                    pass
        await asyncio.sleep(0.01)
    raise AssertionError("the job never started")


async def _run_watched(
    code: bytes, world: dict[str, Path], limits: Limits = SMALL
) -> tuple[Outcome, int]:
    """Run a job, spot its pid namespace while it runs, and count what is left in it after."""
    task = asyncio.create_task(_run(code, world, limits))
    ns = None
    while ns is None and not task.done():
        ns = _job_namespace(world["tmp"] / "work")
        await asyncio.sleep(0.005)
    outcome = await task
    assert ns is not None, "the job's namespace was never seen"
    return outcome, _processes_in(ns)


async def test_no_network_at_all(world: dict[str, Path]) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    abstract = socket.socket(socket.AF_UNIX)
    abstract.bind(b"\0communs-sandbox-test-%d" % os.getpid())
    abstract.listen()
    port = listener.getsockname()[1]
    code = (
        PROBE_HEAD
        + f"""
import socket
attempt("loopback", lambda: socket.create_connection(("127.0.0.1", {port}), timeout=1))
attempt("outbound", lambda: socket.create_connection(("192.0.2.1", 80), timeout=1))
attempt("udp", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("192.0.2.1", 53)))
attempt("dns", lambda: socket.getaddrinfo("example.org", 80))
attempt("abstract", lambda: socket.socket(socket.AF_UNIX).connect(b"\\0communs-sandbox-test-{os.getpid()}"))
found["interfaces"] = [name for _, name in socket.if_nameindex()]
report()
""".encode()
    )
    try:
        found = _found(await _run(code, world))
        with pytest.raises(BlockingIOError):
            listener.accept()  # nothing ever reached the test's listener
    finally:
        listener.close()
        abstract.close()
    for name in ("loopback", "outbound", "udp", "dns", "abstract"):
        assert found[name][0] == "error", name
    assert found["interfaces"] == ["lo"]


async def test_nothing_outside_the_dataset_is_visible(world: dict[str, Path]) -> None:
    paths = [
        str(world["key"]),
        "/etc/hostname",
        "/etc/passwd",
        __file__,
        "/proc/self/environ",
        "/root/.ssh/id_ed25519",
        "/input/key-link",
        "/input/relative-link",
        "/input/sales.csv",
    ]
    code = (
        PROBE_HEAD
        + f"""
for path in {paths!r}:
    attempt(path, lambda: open(path).read())
found["/"] = sorted(os.listdir("/"))
found["ids"] = [os.getuid(), os.getgid(), os.getgroups()]
report()
""".encode()
    )
    found = _found(await _run(code, world))
    assert found.pop("/input/sales.csv") == ["ok", "region,amount\nnorth,10\n"]
    assert found.pop("/") == [
        "bin",
        "dev",
        "input",
        "job",
        "lib",
        "lib64",
        "output",
        "root",
        "sbin",
        "tmp",
        "usr",
    ]
    assert found.pop("ids")[2] == []
    for path, (what, _) in found.items():
        assert what == "error", path
    assert "secret" not in json.dumps(found)


async def test_the_dataset_and_the_root_are_read_only(world: dict[str, Path]) -> None:
    code = (
        PROBE_HEAD
        + b"""
attempt("overwrite", lambda: open("/input/sales.csv", "w").write("x"))
attempt("create", lambda: open("/input/new.csv", "w").write("x"))
attempt("root", lambda: open("/evil", "w").write("x"))
attempt("usr", lambda: open("/usr/evil", "w").write("x"))
attempt("script", lambda: open("/job/main.py", "a").write("x"))
attempt("hardlink", lambda: os.link("/input/sales.csv", "/output/copy.csv"))
attempt("tmp", lambda: open("/tmp/scratch", "w").write("fine"))
report()
"""
    )
    found = _found(await _run(code, world))
    assert found.pop("tmp")[0] == "ok"
    for name, (what, _) in found.items():
        assert what == "error", name
    assert (world["dataset"] / "sales.csv").read_text() == "region,amount\nnorth,10\n"
    assert sorted(p.name for p in world["dataset"].iterdir()) == [
        "key-link",
        "relative-link",
        "sales.csv",
    ]
    assert sorted(p.name for p in (world["tmp"] / "work" / "output").iterdir()) == ["found.json"]


async def test_the_job_holds_no_privilege(world: dict[str, Path]) -> None:
    code = (
        PROBE_HEAD
        + b"""
import ctypes, signal, socket
libc = ctypes.CDLL(None, use_errno=True)
def call(result):
    if result != 0:
        raise OSError(ctypes.get_errno(), "refused")
attempt("setuid", lambda: os.setuid(0))
attempt("kill-init", lambda: os.kill(1, signal.SIGKILL))
attempt("remount", lambda: call(libc.mount(b"none", b"/input", None, 32 | 4096, None)))
attempt("userns", lambda: call(libc.unshare(0x10000000)))
attempt("netns", lambda: call(libc.unshare(0x40000000)))
found["hostname"] = socket.gethostname()
report()
"""
    )
    found = _found(await _run(code, world))
    assert found.pop("hostname") == "communs-job"
    for name, (what, _) in found.items():
        assert what == "error", name


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="the seccomp filter is x86_64 only")
async def test_kernel_interfaces_a_job_never_needs_are_refused(world: dict[str, Path]) -> None:
    code = (
        PROBE_HEAD
        + b"""
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def syscall(*args):
    if libc.syscall(*args) < 0:
        raise OSError(ctypes.get_errno(), "refused")
attempt("io_uring_setup", lambda: syscall(425, 1, None))
attempt("userfaultfd", lambda: syscall(323, 0))
attempt("bpf", lambda: syscall(321, 0, None, 0))
attempt("perf_event_open", lambda: syscall(298, None, 0, -1, -1, 0))
attempt("ptrace", lambda: syscall(101, 16, 1, None, None))
attempt("keyctl", lambda: syscall(250, 0, -3, 0))
attempt("x32 getpid", lambda: syscall(0x40000000 | 39))
attempt("getpid", lambda: syscall(39))
report()
"""
    )
    found = _found(await _run(code, world))
    assert found.pop("getpid")[0] == "ok"
    assert found == {name: ["error", 1] for name in found}  # EPERM, from the filter


async def test_a_fork_bomb_is_stopped_and_the_host_is_unharmed(world: dict[str, Path]) -> None:
    outcome, left = await _run_watched(b"import os\nwhile True:\n    os.fork()\n", world)
    assert (outcome.status, outcome.reason) == (
        "killed",
        "the job hit its limit of 16 processes",
    ), outcome.log[-300:]
    assert outcome.wall_seconds < SMALL.wall_seconds + 1
    assert subprocess.run(["true"]).returncode == 0
    assert left == 0


async def test_a_fork_bomb_that_keeps_trying_ends_with_the_wall_clock(
    world: dict[str, Path],
) -> None:
    code = (
        b"import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    )
    outcome, left = await _run_watched(code, world, replace(SMALL, wall_seconds=1.0))
    # forking burns CPU too: whichever 1 s limit comes first ends it, and nothing is left
    assert outcome.status == "killed"
    assert outcome.reason in (
        "the job ran past its wall-clock limit of 1 s",
        "the job used up its 1 s of CPU time",
    )
    assert left == 0


async def test_a_memory_bomb_is_stopped(world: dict[str, Path]) -> None:
    outcome = await _run(
        b"hoard = []\nwhile True:\n    hoard.append(bytearray(8 << 20))\n", world, ROOMY
    )
    assert (outcome.status, outcome.reason) == (
        "killed",
        "the job ran out of its 256 MiB of memory",
    )
    assert outcome.max_rss_bytes <= SMALL.memory_bytes


async def test_an_endless_loop_uses_up_its_cpu_time(world: dict[str, Path]) -> None:
    outcome = await _run(b"while True:\n    pass\n", world, ROOMY)
    assert (outcome.status, outcome.reason) == ("killed", "the job used up its 1 s of CPU time")
    assert 0.5 <= outcome.cpu_seconds < 2.5  # rusage samples CPU time; the limit is exact
    assert outcome.exit_code is None


async def test_cpu_time_spread_over_processes_counts_as_one(world: dict[str, Path]) -> None:
    code = b"import os\nfor _ in range(3):\n    if os.fork() == 0:\n        break\nwhile True:\n    pass\n"
    outcome, left = await _run_watched(code, world, ROOMY)
    assert (outcome.status, outcome.reason) == ("killed", "the job used up its 1 s of CPU time")
    assert 0.5 <= outcome.cpu_seconds < 2.0  # four processes, one budget (not four)
    assert left == 0


async def test_memory_spread_over_processes_counts_as_one(world: dict[str, Path]) -> None:
    code = b"""
import os, time
for _ in range(3):
    if os.fork() == 0:
        break
hoard = b"x" * (100 << 20)  # well within each process's own limit
time.sleep(60)
"""
    outcome = await _run(code, world, ROOMY)
    assert (outcome.status, outcome.reason) == (
        "killed",
        "the job ran out of its 256 MiB of memory",
    )
    assert outcome.wall_seconds < 10


async def test_sleeping_forever_meets_the_wall_clock(world: dict[str, Path]) -> None:
    outcome, left = await _run_watched(
        b"import time\ntime.sleep(3600)\n", world, replace(SMALL, wall_seconds=1.0)
    )
    assert (outcome.status, outcome.reason) == (
        "killed",
        "the job ran past its wall-clock limit of 1 s",
    )
    assert 1.0 <= outcome.wall_seconds < 3.0
    assert left == 0


async def test_huge_output_goes_over_the_cap_and_nothing_leaves(world: dict[str, Path]) -> None:
    code = b"""
import os
for i in range(100):
    with open(os.path.join(os.environ["COMMUNS_OUTPUT"], f"part{i}"), "wb") as f:
        f.write(b"x" * (200 << 10))
"""
    outcome = await _run(code, world)
    assert (outcome.status, outcome.reason) == (
        "killed",
        "the job's output went over its cap of 1 MiB",
    )
    assert list(outcome.output_dir.iterdir()) == [] and outcome.output_bytes == 0


async def test_output_up_to_the_cap_leaves_and_one_byte_more_does_not(
    world: dict[str, Path],
) -> None:
    write = "import os\nout = os.environ['COMMUNS_OUTPUT']\n"
    write += "for i in range(300):\n    open(f'{out}/small{i}', 'w').write('x')\n"
    write += "open(out + '/rest', 'wb').write(b'y' * ((1 << 20) - 300 + EXTRA))\n"
    roomy = replace(SMALL, file_bytes=2 << 20)
    exact = await _run(write.replace("EXTRA", "0").encode(), world, roomy, name="exact")
    assert exact.status == "succeeded", exact.reason
    assert exact.output_bytes == 1 << 20 and len(list(exact.output_dir.iterdir())) == 301
    over = await _run(write.replace("EXTRA", "1").encode(), world, roomy, name="over")
    assert (over.status, over.reason) == ("killed", "the job's output went over its cap of 1 MiB")
    assert list(over.output_dir.iterdir()) == []


async def test_one_file_over_the_file_size_limit_kills_the_job(world: dict[str, Path]) -> None:
    code = (
        b"import os\nopen(os.environ['COMMUNS_OUTPUT'] + '/big', 'wb').write(b'x' * (512 << 10))\n"
    )
    outcome = await _run(code, world)
    assert (outcome.status, outcome.reason) == (
        "killed",
        "the job wrote a file larger than its limit of 256 KiB",
    )


@pytest.mark.parametrize(
    ("trick", "what", "where"),
    [
        ("os.symlink('/input/sales.csv', out + '/data.csv')", "a symbolic link", "data.csv"),
        ("os.symlink('/etc/shadow', out + '/shadow')", "a symbolic link", "shadow"),
        (
            "os.makedirs(out + '/deep'); os.symlink('../../input', out + '/deep/up')",
            "a symbolic link",
            "deep/up",
        ),
        ("os.mkfifo(out + '/pipe')", "a named pipe", "pipe"),
    ],
)
async def test_special_files_in_the_output_are_refused(
    world: dict[str, Path], trick: str, what: str, where: str
) -> None:
    """The reason names the rule; the name the job chose (it could spell out data) is on the
    provider's log only."""
    code = f"import os\nout = os.environ['COMMUNS_OUTPUT']\nopen(out + '/a.txt', 'w').write('ok')\n{trick}\n"
    outcome = await _run(code.encode(), world)
    assert outcome.status == "failed"
    assert outcome.reason == f"the output holds {what}, which is not allowed; nothing was returned"
    assert outcome.log.endswith(f"sandbox: the output holds {what}, which is not allowed: {where}\n")
    assert list(outcome.output_dir.iterdir()) == []


async def test_a_hard_link_in_the_output_is_refused(world: dict[str, Path]) -> None:
    code = b"import os\nout = os.environ['COMMUNS_OUTPUT']\nopen(out + '/a', 'w').write('x')\nos.link(out + '/a', out + '/b')\n"
    outcome = await _run(code, world)
    assert outcome.status == "failed" and "hard link" in outcome.reason
    assert list(outcome.output_dir.iterdir()) == []


async def test_printing_endlessly_keeps_the_log_within_its_cap(world: dict[str, Path]) -> None:
    outcome = await _run(
        b"print('start')\nwhile True:\n    print('spam' * 200)\n",
        world,
        replace(SMALL, wall_seconds=1.0),
    )
    assert outcome.status == "killed"
    assert len(outcome.log.encode()) <= SMALL.log_bytes
    assert outcome.log.startswith("start\n") and "bytes dropped" in outcome.log


async def test_a_crash_by_signal_is_reported(world: dict[str, Path]) -> None:
    outcome = await _run(b"import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n", world)
    assert (outcome.status, outcome.reason) == ("failed", "the job was killed by SIGSEGV")


async def test_a_background_process_left_behind_dies_with_the_job(world: dict[str, Path]) -> None:
    code = b"import os, time\nif os.fork() == 0:\n    time.sleep(3600)\ntime.sleep(0.2)\n"
    outcome, left = await _run_watched(code, world)
    assert outcome.status == "succeeded"
    assert outcome.wall_seconds < 1.5
    assert left == 0


async def test_a_cancelled_job_leaves_no_process(world: dict[str, Path]) -> None:
    task = asyncio.create_task(
        _run(b"import time\ntime.sleep(3600)\n", world, Limits(wall_seconds=60))
    )
    ns = await _job_started(world["tmp"] / "work")
    assert _processes_in(ns) == 2  # the launcher and the job
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for _ in range(100):  # the kernel tears the namespace down right after
        if _processes_in(ns) == 0:
            break
        await asyncio.sleep(0.02)
    assert _processes_in(ns) == 0


async def test_a_job_stopped_by_its_cancel_event_is_reported_killed(world: dict[str, Path]) -> None:
    cancel = asyncio.Event()
    work = world["tmp"] / "work"
    work.mkdir()
    job = Job(
        "python",
        b"import time\nprint('started', flush=True)\ntime.sleep(3600)\n",
        world["dataset"],
        Limits(wall_seconds=60),
    )
    task = asyncio.create_task(SANDBOX.run(job, work, cancel=cancel))
    ns = await _job_started(work)
    cancel.set()
    outcome = await asyncio.wait_for(task, 5)
    assert (outcome.status, outcome.reason) == ("killed", "the job was cancelled")
    assert outcome.log == "started\n" and outcome.wall_seconds < 10
    assert outcome.cpu_seconds > 0  # the launcher stopped the job itself and reported on it
    assert _processes_in(ns) == 0


async def test_the_node_keeps_serving_while_hostile_jobs_run(world: dict[str, Path]) -> None:
    app = web.Application()

    async def live(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app.router.add_get("/health/live", live)
    latencies = []
    async with serving(app) as base:
        jobs = asyncio.gather(
            _run(b"while True:\n    pass\n", world, name="spin"),
            _run(b"import os\nwhile True:\n    os.fork()\n", world, name="bomb"),
            _run(b"while True:\n    print('x' * 1000)\n", world, name="chatter"),
        )
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
            while not jobs.done():
                started = time.monotonic()
                async with session.get(f"{base}/health/live") as response:
                    assert await response.text() == "ok"
                latencies.append(time.monotonic() - started)
                await asyncio.sleep(0.05)
        outcomes = await jobs
    assert [o.status for o in outcomes] == ["killed"] * 3
    assert len(latencies) >= 5
    assert sorted(latencies)[len(latencies) // 2] < 0.25 and max(latencies) < 1.5
