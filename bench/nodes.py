"""What the benchmarks share: free loopback ports and `communs init` folders."""

from __future__ import annotations

import contextlib
import io
import socket
from pathlib import Path

from connector.cli.main import main as communs


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def init(folder: Path, name: str) -> Path:
    """A node's folder, as `communs init` makes it, on free loopback ports."""
    argv = ["init", "--dir", str(folder), "--name", name, "--url", f"http://127.0.0.1:{free_port()}",
            "--country", "FR-75", "--registration-number", "vatID:FR32123456789",
            "--management-port", str(free_port()), "--json"]
    with contextlib.redirect_stdout(io.StringIO()):
        assert communs(argv) == 0, "communs init failed"
    return folder
