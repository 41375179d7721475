"""Whether a child is ready: a connector answers 200 on /health/ready, a validator's RPC reports
a committed block (its height is 1 or more once a quorum of validators runs)."""

from __future__ import annotations

import json
import urllib.request

from connector.federation.processes import Child

TIMEOUT = 2.0
# straight to loopback, whatever proxy the environment names
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _get(url: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with _OPENER.open(request, timeout=TIMEOUT) as response:
            return response.status, response.read(1_000_000)
    except OSError:
        return 0, b""


def height(rpc_url: str) -> int | None:
    status, body = _get(f"{rpc_url}/status")
    try:
        return int(json.loads(body)["result"]["sync_info"]["latest_block_height"])
    except (ValueError, KeyError, TypeError):
        return None if status == 0 else -1


def ready(child: Child) -> bool:
    if child.kind == "connector":
        return _get(f"{child.member.public_url}/health/ready")[0] == 200
    return (height(child.member.rpc_url) or 0) >= 1
