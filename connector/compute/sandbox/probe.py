"""Can this machine isolate jobs? A real job that checks its own isolation says so, once."""

from __future__ import annotations

import asyncio
import os
import tempfile
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from connector.compute.executor import Job, Limits, Outcome

RunIsolated = Callable[[Job, Path], Coroutine[Any, Any, Outcome]]

_PROBE = b"""
import os, socket
assert [name for _, name in socket.if_nameindex()] == ["lo"], "the job saw network interfaces"
assert not os.path.exists("/etc"), "the job saw the host's files"
"""
_CAUSES = {  # what unshare(2) failing with these means on a real machine
    "No space left on device": "user namespaces are disabled (user.max_user_namespaces is 0)",
    "Operation not permitted": "this process may not create user namespaces",
    "Invalid argument": "the kernel lacks user or network namespaces",
}


def machine_cannot(problem: str | None) -> bool:
    """Whether a problem is the machine's (no unshare, no user namespaces), not a fault of ours."""
    return problem is not None and (
        problem.startswith("the unshare tool is missing") or problem in _CAUSES.values()
    )


def probe(unshare: str, run_isolated: RunIsolated) -> str | None:
    """Run a job that checks its own isolation, in a thread (we may be inside an event loop).

    `run_isolated(job, workdir)` runs a job in namespaces made by the `unshare` tool."""
    if not os.path.exists(unshare):
        return f"the unshare tool is missing ({unshare})"
    answer: list[str | None] = []

    def attempt() -> None:
        with tempfile.TemporaryDirectory(prefix="communs-probe-") as tmp:
            (Path(tmp) / "in").mkdir()
            (Path(tmp) / "work").mkdir()
            job = Job("python", _PROBE, Path(tmp) / "in", Limits(cpu_seconds=5, wall_seconds=10))
            try:
                outcome = asyncio.run(run_isolated(job, Path(tmp) / "work"))
            except OSError as exc:
                answer.append(f"the sandbox could not start ({exc.strerror or exc})")
                return
            if outcome.status == "succeeded":
                answer.append(None)
                return
            detail = (outcome.log.strip().splitlines() or [outcome.reason])[-1]
            cause = next(
                (c for text, c in _CAUSES.items() if "unshare" in detail and text in detail), None
            )
            answer.append(cause or f"the sandbox does not work here ({detail})")

    thread = threading.Thread(target=attempt, name="sandbox-probe")
    thread.start()
    thread.join()
    return answer[0] if answer else "the sandbox probe failed"
