"""What every CLI area needs: the node's folder, its config, and running async work."""

from __future__ import annotations

import argparse
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from connector.config import NodeConfig, default_home, load

T = TypeVar("T")


def home(args: argparse.Namespace) -> Path:
    return Path(args.dir) if args.dir else default_home()


def config(args: argparse.Namespace) -> NodeConfig:
    return load(home(args))


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    import asyncio  # a tenth of a second: not for the commands that need no event loop

    return asyncio.run(coroutine)


def read_input(path: str) -> str:
    """A file's text ('-' for standard input), with a clear error if it cannot be read."""
    from connector.errors import ConnectorError, Reason

    if path == "-":
        import sys

        return sys.stdin.read()
    try:
        return Path(path).read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConnectorError(Reason.BAD_INPUT, f"cannot read {path}: {exc.strerror if isinstance(exc, OSError) else exc}") from None
