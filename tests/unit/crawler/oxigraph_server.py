"""A real `oxigraph serve` process on loopback (the pip package's binary), for the tests of the
crawler's external store."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from tests.nodes import free_port

BINARY = Path(sys.executable).parent / "oxigraph"


@contextlib.contextmanager
def oxigraph_serve(folder: Path, *options: str) -> Iterator[str]:
    """The server's base URL (/query, /update, /store under it); stopped on exit."""
    port = free_port()
    process = subprocess.Popen([str(BINARY), "serve", "--location", str(folder), "--bind",
                                f"127.0.0.1:{port}", *options],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/query?query=ASK%7B%7D", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("oxigraph serve did not start") from None
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(10)
