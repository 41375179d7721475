"""The outbound address policy: where the node may connect for a URL it did not choose itself.

A did:web, a `callbackAddress` or a PUSH `dataAddress` is chosen by someone else, so following
it is an SSRF vector: a caller could have the node POST its signed tokens to 10.x, to
169.254.169.254 or to its own management port. Only http(s) URLs with a host are followed;
the host is resolved once and every address it has is checked: loopback only when allowed,
private, link-local and other non-public ranges only when allowed, multicast never. The
connection then goes to the checked address (`Target`), never to a second DNS answer.

A refusal says the same thing whether the host is unknown, private or loopback: telling
them apart would let a caller map the node's network through the node.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from connector.errors import ConnectorError, Reason
from connector.identity.did import is_loopback_host

MAX_URL = 2048
RESOLVE_SECONDS = 5.0
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class AddressRefused(ConnectorError):
    """A URL the policy does not let the node follow (a bad input of whoever gave it)."""

    def __init__(self, message: str) -> None:
        super().__init__(Reason.BAD_INPUT, message)


@dataclass(frozen=True)
class Target:
    """Where to connect for a checked URL."""

    url: str  # the URL with its host replaced by the checked address
    headers: dict[str, str] = field(default_factory=dict)  # the Host header: the original host
    server_hostname: str | None = None  # the TLS server name (https to a host name)


def _embedded(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, NAT64), if any."""
    if isinstance(ip, ipaddress.IPv4Address):
        return None
    if ip.ipv4_mapped or ip.sixtofour:
        return ip.ipv4_mapped or ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def syntax_problem(url: Any) -> str | None:
    """Why URL cannot be followed at all, whatever its host (None: it may be)."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL:
        return f"an address must be an http(s) URL of at most {MAX_URL} characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return f"{url[:200]!r} is not a valid URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{url[:200]!r} is not an http(s) URL with a host"
    if parts.username is not None or parts.password is not None:
        return f"{url[:200]!r} carries credentials; give them another way"
    return None


def origin(url: str) -> str:
    """scheme://host[:port] of URL, lower-cased, with the default port left out."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    host = f"[{host}]" if ":" in host else host
    default = {"http": 80, "https": 443}.get(parts.scheme)
    port = parts.port if parts.port not in (None, default) else None
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


@dataclass(frozen=True)
class AddressPolicy:
    allow_private: bool = False  # private, link-local, shared and other non-public ranges
    allow_loopback: bool = False  # this machine: 127/8, ::1, 0.0.0.0, localhost

    @classmethod
    def for_node(cls, config: Any) -> AddressPolicy:
        """A node's policy (connector.config.NodeConfig): a dev node (`allow_private_dids`)
        reaches every range; a node that itself lives on loopback federates with loopback
        peers (tests, `make run`); a node with a public address never reaches its own host."""
        on_loopback = is_loopback_host(urlsplit(config.public_url).hostname or "")
        return cls(allow_private=config.allow_private_dids,
                   allow_loopback=config.allow_private_dids or on_loopback)

    def allows(self, address: str) -> bool:
        """Whether the node may connect to that IP address."""
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        ip = _embedded(ip) or ip
        if ip.is_loopback or ip.is_unspecified:  # 0.0.0.0 reaches this machine on Linux
            return self.allow_loopback or self.allow_private
        if ip.is_multicast:
            return False
        return ip.is_global or self.allow_private

    async def check(self, url: str) -> Target:
        """Where to connect for URL, after checking every address of its host;
        AddressRefused when the policy does not allow it."""
        if problem := syntax_problem(url):
            raise AddressRefused(problem)
        parts = urlsplit(url)
        host = parts.hostname or ""
        refused = AddressRefused(f"{origin(url)} is not an address this node may connect to "
                                 "(it must be public and resolvable)")
        try:
            ipaddress.ip_address(host.split("%", 1)[0])
            addresses = [host]
        except ValueError:
            try:
                async with asyncio.timeout(RESOLVE_SECONDS):
                    infos = await asyncio.get_running_loop().getaddrinfo(
                        host, parts.port, type=socket.SOCK_STREAM)
            except (OSError, TimeoutError, UnicodeError):
                raise refused from None
            found = list(dict.fromkeys(str(info[4][0]) for info in infos))
            addresses = sorted(found, key=lambda a: ":" in a)  # IPv4 first, else stable
        if not addresses or not all(self.allows(a) for a in addresses):
            raise refused
        if addresses == [host]:
            return Target(url)
        address = f"[{addresses[0]}]" if ":" in addresses[0] else addresses[0]
        netloc = f"{address}:{parts.port}" if parts.port else address
        pinned = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
        return Target(pinned, {"Host": parts.netloc}, host if parts.scheme == "https" else None)
