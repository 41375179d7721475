"""`federation up` and `down`: start what is not running, wait until everything is ready,
supervise until Ctrl-C or `down`, then stop connectors before validators (a connector may
still be writing to its ledger)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable

from connector.errors import ConnectorError, Reason
from connector.federation.layout import Federation
from connector.federation.processes import Child, Registry, children, identify, start, stop
from connector.federation.readiness import ready

READY_TIMEOUT = 90.0


def up(federation: Federation, supervise: bool,
       on_ready: Callable[[Child], None] = lambda child: None) -> Registry:
    """Start every child not already running and wait until all are ready, calling ON_READY
    for each as it becomes so. When SUPERVISE, this process becomes the federation's
    supervisor unless another `up` already is."""
    registry = Registry(federation)
    everyone = children(federation)
    for child in everyone:
        if registry.running(child) is None:
            registry.pids[child.name] = start(child)
    if supervise and registry.supervised() is None:
        registry.supervisor = identify(os.getpid())
    registry.save()
    waiting = list(everyone)
    deadline = time.monotonic() + READY_TIMEOUT
    while waiting:
        for child in [c for c in waiting if ready(c)]:
            waiting.remove(child)
            on_ready(child)
        dead = [c for c in waiting if registry.running(c) is None]
        if dead or (waiting and time.monotonic() > deadline):
            down(federation, registry)
            child = (dead or waiting)[0]
            what = "exited" if dead else f"is not ready after {READY_TIMEOUT:.0f} s"
            raise ConnectorError(Reason.BAD_CONFIG, f"the {child.name} {what}: see {child.log}")
        time.sleep(0.1)
    return registry


def supervise(federation: Federation, registry: Registry,
              on_exit: Callable[[Child], None]) -> None:
    """Until SIGINT or SIGTERM: report each child that exits (`up` again restarts it), then
    stop them all."""
    stopping: list[int] = []
    previous = {sig: signal.signal(sig, lambda s, f: stopping.append(s))
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        gone: set[str] = set()
        while not stopping:
            for child in children(federation):
                if child.name not in gone and registry.running(child) is None:
                    gone.add(child.name)
                    on_exit(child)
            time.sleep(0.5)
    finally:
        down(federation, registry)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def down(federation: Federation, registry: Registry | None = None) -> int:
    """Stop the federation: its supervisor if another process, then every child still
    running, connectors first. How many processes were stopped."""
    registry = registry or Registry(federation)
    supervisor = registry.supervised()
    if supervisor is not None:
        stop([supervisor])  # it stops its children itself, in order
        registry = Registry(federation)
    everyone = children(federation)
    count = supervisor is not None
    for kind in ("connector", "validator"):
        processes = [p for c in everyone if c.kind == kind
                     and (p := registry.running(c)) is not None]
        stop(processes)
        count += len(processes)
    registry.pids.clear()
    registry.supervisor = None
    registry.save()
    return count


def states(federation: Federation) -> list[tuple[Child, int | None, bool]]:
    """Each child, its process id if it runs, and whether it is ready."""
    registry = Registry(federation)
    out = []
    for child in children(federation):
        process = registry.running(child)
        out.append((child, process and process[0], process is not None and ready(child)))
    return out
