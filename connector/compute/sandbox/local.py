"""The local sandbox: runs each job as a separate process in fresh namespaces on this machine.

No network (an empty network namespace), no host files but the interpreter, the system
libraries and the dataset (read-only), a private /tmp, an output folder of capped size,
an unprivileged uid without capabilities, a seccomp filter, CPU, memory, process, file-size
and wall-clock limits for the job as a whole, and an environment of exactly COMMUNS_INPUT and
COMMUNS_OUTPUT. Nothing leaves but the output's regular files, checked twice.

The parts, in this package: process (starts the launcher under `unshare`, talks to it),
launcher (inside: builds the root, starts and watches the job), layout (what the root holds),
seccomp, usage (the job's total usage), output (the output's rules), log (the capped log),
verdict (status and reason), probe (can this machine isolate?), sparql (the runner of SPARQL
jobs).
"""

from __future__ import annotations

import asyncio
import functools
import os
import shutil
import stat
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from connector.compute.executor import JOB_KINDS, Job, Limits, Outcome
from connector.compute.sandbox.layout import PYOXIGRAPH_AT, Layout, host_layout
from connector.compute.sandbox.log import CappedLog
from connector.compute.sandbox.output import OutputRefused, collect
from connector.compute.sandbox.probe import probe
from connector.compute.sandbox.process import GRACE, HOST_JOB_ID, JOB_UID, Launch, host_root
from connector.compute.sandbox.verdict import notes, verdict
from connector.errors import ConnectorError, Reason

SPARQL_RUNNER = Path(__file__).resolve().parent / "sparql.py"
MAX_ALGORITHM_BYTES = 16 << 20
_UNISOLATED_NOTE = "it ran without network isolation, which the operator allowed"
_ROOT_UNISOLATED = (
    "the node runs as root without namespaces and its Python is not readable by other users, "
    "so the job could not be dropped to an unprivileged uid and was not run"
)

# The job's interpreter starts with this: a clean environment (Python adds LC_CTYPE on its
# own), the file-size limit as a signal, and a recognisable exit when memory runs out.
_BOOT = (
    "import _signal,os,sys\n"
    "_signal.signal(_signal.SIGXFSZ,_signal.SIG_DFL)\n"  # Python ignores it; the limit must kill
    "os.environ.pop('LC_CTYPE',None)\n"
    "sys.argv=sys.argv[1:]\n"
    "try:\n"
    " src=open(sys.argv[0],'rb').read()\n"
    " exec(compile(src,sys.argv[0],'exec'),{'__name__':'__main__','__file__':sys.argv[0]})\n"
    "except MemoryError:\n"
    " os.write(2,b'MemoryError: the job ran out of memory\\n');os._exit(86)\n"
)


@dataclass
class LocalSandbox:
    """The default executor. `unshare` names the util-linux tool; without it, no isolation."""

    unshare: str = "/usr/bin/unshare"
    allow_unisolated: bool = False
    python: str | None = None  # the jobs' interpreter; default: the node's own base one
    name: str = "local-sandbox"
    _problem: list[str | None] = field(default_factory=list, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def checked(
        cls, *, allow_unisolated: bool = False, unshare: str = "/usr/bin/unshare"
    ) -> LocalSandbox:
        """A sandbox that refuses to exist if it cannot isolate jobs and that was not allowed.

        It runs one small probe job (some tens of ms, blocking): call it once, at startup."""
        sandbox = cls(unshare=unshare, allow_unisolated=allow_unisolated)
        problem = sandbox.isolation_problem()
        if problem is not None and not allow_unisolated:
            raise _refused(problem)
        return sandbox

    def isolation_problem(self) -> str | None:
        """Try the namespaces once (a real, empty job) and remember the answer."""
        with self._lock:
            if not self._problem:
                run_isolated = functools.partial(self._run, isolated=True)
                self._problem.append(probe(self.unshare, run_isolated))
            return self._problem[0]

    async def run(self, job: Job, workdir: Path, *, cancel: asyncio.Event | None = None) -> Outcome:
        """Run the job to its end and say how it went; never raises for what the job does.

        workdir must be empty; the sandbox leaves its config, an empty mount point and the
        checked result (`output/`) in it. ConnectorError for a malformed job, or when this
        machine cannot isolate jobs and that was not allowed. Setting `cancel` kills the whole
        job and returns it as killed; cancelling the call itself kills the job too, then the
        CancelledError goes on.
        """
        if job.kind not in JOB_KINDS:
            raise ConnectorError(Reason.BAD_INPUT, f"unknown job kind {job.kind!r}")
        if not job.input_dir.is_dir():
            raise ConnectorError(Reason.BAD_INPUT, "the job's dataset folder does not exist")
        if len(job.algorithm) > MAX_ALGORITHM_BYTES:
            raise ConnectorError(Reason.TOO_LARGE, "the algorithm is larger than 16 MiB")
        # The first call probes (a real job, some tens of ms): not on the event loop.
        problem = (
            self._problem[0] if self._problem else await asyncio.to_thread(self.isolation_problem)
        )
        if problem is not None and not self.allow_unisolated:
            raise _refused(problem)
        return await self._run(job, workdir, isolated=problem is None, cancel=cancel)

    async def _run(
        self, job: Job, workdir: Path, *, isolated: bool, cancel: asyncio.Event | None = None
    ) -> Outcome:
        started = time.monotonic()
        workdir = workdir.resolve()
        result = workdir / "output"
        result.mkdir()
        if isolated and host_root():
            unreadable = await asyncio.to_thread(_unreadable, job.input_dir)
            if unreadable:
                return _early(
                    result,
                    started,
                    "a dataset file is not readable by others, so the sandboxed job was not run",
                    f"the dataset file {unreadable} is not readable by others",
                )
        layout = host_layout(job.kind == "sparql", self.python)
        if not isolated and host_root() and not _others_can_reach(layout.python, layout.prefix):
            return _early(result, started, _ROOT_UNISOLATED)
        cfg = _config(job, workdir, layout, isolated)
        run = Launch(self.unshare, cfg, isolated)
        log = CappedLog(job.limits.log_bytes)
        try:
            facts = await run.until_done(log, job.limits.wall_seconds + GRACE, cancel)
        finally:
            run.close()
        if facts.clean_exit and not facts.refused:
            # Unisolated, the output is checked and copied here; isolated, the launcher checked
            # and copied it already, and we trust only what we checked ourselves.
            src, dst = (result, None) if isolated else (workdir / "job-output", result)
            try:
                facts.output_bytes = await asyncio.to_thread(
                    collect, str(src), dst and str(dst), job.limits.output_bytes
                )
            except OutputRefused as exc:
                facts.refused, facts.refused_at, facts.output_full = str(exc), exc.path, exc.over_cap
        text = log.text()
        status, reason = verdict(facts, job.limits, text, sparql=job.kind == "sparql")
        if status != "succeeded":
            _empty(result)
        for note in notes(facts):  # for the provider's operator only: the job's names, say
            text = _noted(text, note)
        if not isolated:
            reason = f"{reason} ({_UNISOLATED_NOTE})"
            text = f"sandbox: {_UNISOLATED_NOTE}\n{text}"
        return Outcome(
            status=status,
            reason=reason,
            exit_code=facts.exit_code,
            output_dir=result,
            log=text,
            cpu_seconds=facts.cpu,
            max_rss_bytes=facts.rss,
            wall_seconds=time.monotonic() - started,
            output_bytes=facts.output_bytes if status == "succeeded" else 0,
            isolated=isolated,
        )


def _config(job: Job, workdir: Path, layout: Layout, isolated: bool) -> dict:
    limits = job.limits
    files = {"/job/main.py": job.algorithm}
    if job.kind == "sparql":
        files = {"/job/query.rq": job.algorithm, "/job/main.py": SPARQL_RUNNER.read_bytes()}
    root = host_root()
    cfg: dict = {
        "isolated": isolated,
        "python": layout.python,
        "links": layout.links,
        "binds": layout.binds,
        "hide": layout.hide,
        "input": str(job.input_dir.resolve()),
        "out": str(workdir / "output"),
        "root": str(workdir / "root"),
        "files": files,
        "limits": {k: getattr(limits, k) for k in Limits.__dataclass_fields__},
        "job_uid": JOB_UID if root else 0,
        # Not root: the job shares its uid with the launcher and unshare, which count too.
        "nproc": limits.processes if root else limits.processes + 2,
    }
    # -u: unbuffered, so the log keeps the order of prints and of the final traceback
    boot = [layout.python, "-I", "-S", "-u", "-c", _BOOT]
    if isolated:
        (workdir / "root").mkdir()
        extra = ["/job/query.rq", PYOXIGRAPH_AT.rsplit("/", 1)[0]] if job.kind == "sparql" else []
        cfg.update(
            cwd="/tmp",
            argv=[*boot, "/job/main.py", *extra],
            env={"COMMUNS_INPUT": "/input", "COMMUNS_OUTPUT": "/output"},
        )
    else:  # the same job where it lies on the host: no namespaces to move it anywhere
        _unisolated(cfg, job, workdir, layout, files, boot)
    return cfg


def _unisolated(
    cfg: dict, job: Job, workdir: Path, layout: Layout, files: dict, boot: list[str]
) -> None:
    """A root node still runs the job as an unused uid (so RLIMIT_NPROC binds and root's files
    stay closed; `_run` refused the job if that uid could not reach the interpreter). Its
    folders come to it as open descriptors, so no host path above them need be open."""
    job_dir, out, tmp = workdir / "job", workdir / "job-output", workdir / "tmp"
    for folder in (job_dir, out, tmp):
        folder.mkdir(mode=0o700)
    for name, data in files.items():
        (job_dir / Path(name).name).write_bytes(data)
    site = [_site_of_pyoxigraph()] if job.kind == "sparql" else []
    drop = host_root()  # and then the interpreter is reachable: `_run` checked
    if drop:
        for folder in (out, tmp):
            os.chown(folder, HOST_JOB_ID, HOST_JOB_ID)
        job_dir.chmod(0o755)
        for path in job_dir.iterdir():
            path.chmod(0o644)
        cfg.update(drop_to=HOST_JOB_ID, pass_dirs=[cfg["input"], str(out), str(job_dir)])
        cfg["nproc"] = job.limits.processes
        here = {"input": "/proc/self/fd/3", "output": "/proc/self/fd/4", "job": "/proc/self/fd/5"}
    else:
        here = {"input": cfg["input"], "output": str(out), "job": str(job_dir)}
    extra = [here["job"] + "/query.rq", *site] if job.kind == "sparql" else []
    cfg.update(
        cwd=str(tmp),
        argv=[*boot, here["job"] + "/main.py", *extra],
        env={"COMMUNS_INPUT": here["input"], "COMMUNS_OUTPUT": here["output"]},
    )


def _others_can_reach(*paths: str) -> bool:
    """Whether a user with no rights of its own can walk to these paths and read them."""
    for path in paths:
        real = Path(os.path.realpath(path))
        for folder in real.parents:
            if not os.stat(folder).st_mode & stat.S_IXOTH:
                return False
        if not os.stat(real).st_mode & stat.S_IROTH:
            return False
    return True


def _site_of_pyoxigraph() -> str:
    import pyoxigraph

    return str(Path(pyoxigraph.__file__).resolve().parent.parent)


def _unreadable(root: Path) -> str | None:
    """The first dataset entry that others cannot read (the job's uid is unprivileged)."""
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            mode = os.lstat(path).st_mode
            need = stat.S_IROTH | (stat.S_IXOTH if stat.S_ISDIR(mode) else 0)
            if not stat.S_ISLNK(mode) and mode & need != need:
                return os.path.relpath(path, root)
    return None


def _empty(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(exist_ok=True)


def _refused(problem: str) -> ConnectorError:
    """The error a node raises when it may not run jobs on this machine."""
    return ConnectorError(
        Reason.BAD_CONFIG,
        f"this machine cannot isolate compute jobs ({problem}); "
        "the node refuses to run them unless the operator explicitly allows it",
    )


def _noted(log: str, note: str) -> str:
    """The log with a line of the sandbox's own at its end."""
    if log and not log.endswith("\n"):
        log += "\n"
    return f"{log}sandbox: {note}\n"


def _early(result: Path, started: float, reason: str, detail: str | None = None) -> Outcome:
    """A job not run: REASON for the consumer, DETAIL (default: the same) on the log."""
    log = _noted("", detail or reason)
    return Outcome("failed", reason, None, result, log, 0.0, 0, time.monotonic() - started, 0)
