"""A process is known by its id and start time: a recorded id that another program now holds
(after a reboot, or a crash of `federation up`) is never signalled."""

from __future__ import annotations

import subprocess
import time

from connector.federation.processes import alive, identify, stop


def test_stop_leaves_a_process_whose_id_was_reused_alone():
    other = subprocess.Popen(["sleep", "30"])
    try:
        process = identify(other.pid)
        assert process is not None and alive(process)
        recorded = (other.pid, process[1] + 1)  # what run.json held for an earlier process
        assert not alive(recorded)
        stop([recorded])
        assert other.poll() is None and alive(process)
        stop([process])
        assert other.wait(timeout=5) is not None and not alive(process)
    finally:
        other.kill()


def test_a_zombie_is_not_alive():
    child = subprocess.Popen(["sleep", "0.2"])
    process = identify(child.pid)
    deadline = time.monotonic() + 5
    while identify(child.pid) is not None and time.monotonic() < deadline:
        time.sleep(0.02)  # until it exits: not waited for yet, it stays a zombie
    assert process is not None and not alive(process)
    child.wait()
