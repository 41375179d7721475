"""Prometheus metrics, one registry per node so that several nodes can share a process."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "communs_http_requests",
            "HTTP requests served",
            ["app", "method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "communs_http_request_duration_seconds",
            "HTTP request duration",
            ["app", "route"],
            registry=self.registry,
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.up = Gauge("communs_up", "1 while the node serves", registry=self.registry)
        self.ledger_height = Gauge("communs_ledger_height",
                                   "the latest ledger state this node has proven (0: no ledger)",
                                   registry=self.registry)

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
