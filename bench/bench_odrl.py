"""ODRL decisions per second for a 10-rule policy (target: >= 20,000/s).

Baseline, measured in the same run: a naive evaluator that reads the JSON-LD policy again
for every decision (offline expansion + model building + compilation), as an engine that
keeps policies only as documents would. Usage: .venv/bin/python bench/bench_odrl.py [--quick]
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from decimal import Decimal

from policies.compile import compile_policy
from policies.evaluate import Request, evaluate, explain
from policies.operands import Context, Payment
from policies.parse import parse_policy

ISSUER = "did:web:registry.communs.example"
POLICY = {
    "@context": ["http://www.w3.org/ns/odrl.jsonld", {"communs": "https://w3id.org/communs/odrl/"}],
    "@type": "Offer",
    "uid": "urn:uuid:bench-policy",
    "assigner": "did:web:provider.example",
    "target": "urn:dataset:1",
    "conflict": "prohibit",
    "permission": [
        {
            "action": "read",
            "constraint": [
                {
                    "leftOperand": "purpose",
                    "operator": "isAnyOf",
                    "rightOperand": ["research", "education"],
                }
            ],
        },
        {
            "action": "use",
            "constraint": [
                {
                    "leftOperand": "communs:membership",
                    "operator": "isAnyOf",
                    "rightOperand": {"@id": ISSUER},
                },
                {
                    "leftOperand": "dateTime",
                    "operator": "lt",
                    "rightOperand": {"@value": "2030-01-01T00:00:00Z", "@type": "xsd:dateTime"},
                },
            ],
        },
        {
            "action": "distribute",
            "constraint": [{"leftOperand": "count", "operator": "lteq", "rightOperand": 100}],
        },
        {
            "action": [
                {
                    "rdf:value": {"@id": "communs:compute"},
                    "refinement": [
                        {
                            "leftOperand": "communs:algorithm",
                            "operator": "isAnyOf",
                            "rightOperand": ["sha256:aa", "sha256:bb"],
                        },
                        {
                            "leftOperand": "communs:outputSize",
                            "operator": "lteq",
                            "rightOperand": 1048576,
                        },
                    ],
                }
            ]
        },
        {
            "action": "print",
            "constraint": [{"leftOperand": "spatial", "operator": "eq", "rightOperand": "DE"}],
        },
        {
            "action": "display",
            "constraint": [
                {
                    "and": [
                        {
                            "leftOperand": "dateTime",
                            "operator": "gteq",
                            "rightOperand": "2020-01-01T00:00:00Z",
                        },
                        {
                            "leftOperand": "dateTime",
                            "operator": "lt",
                            "rightOperand": "2030-01-01T00:00:00Z",
                        },
                    ]
                }
            ],
        },
        {
            "action": "modify",
            "constraint": [
                {
                    "leftOperand": "elapsedTime",
                    "operator": "lteq",
                    "rightOperand": {"@value": "P30D", "@type": "xsd:duration"},
                }
            ],
        },
        {
            "action": "use",
            "duty": [
                {
                    "action": [
                        {
                            "rdf:value": {"@id": "odrl:compensate"},
                            "refinement": [
                                {
                                    "leftOperand": "payAmount",
                                    "operator": "eq",
                                    "rightOperand": {"@value": "5.00", "@type": "xsd:decimal"},
                                    "unit": "http://dbpedia.org/resource/Euro",
                                }
                            ],
                        }
                    ]
                }
            ],
        },
    ],
    "prohibition": [
        {"action": "sell"},
        {
            "action": "use",
            "constraint": [
                {
                    "leftOperand": "communs:country",
                    "operator": "isAnyOf",
                    "rightOperand": ["XX", "YY"],
                }
            ],
        },
    ],
}

CTX = Context(
    now=datetime(2026, 6, 1, 12, tzinfo=UTC),
    requester="did:web:consumer.example",
    claims={"membership": frozenset({ISSUER}), "country": frozenset({"FR"})},
    purpose="research",
    count=3,
    agreement_time=datetime(2026, 5, 20, tzinfo=UTC),
    payment=Payment(Decimal("5.00"), "http://dbpedia.org/resource/Euro"),
)
# `modify` is covered by rules 2 (use), 7 (modify) and 8 (use, with a duty) and by prohibition 10;
# `read` is granted by rule 1; `sell` hits prohibition 9 after no permission grants it.
REQUESTS = [
    Request("http://www.w3.org/ns/odrl/2/modify", "urn:dataset:1"),
    Request("http://www.w3.org/ns/odrl/2/read", "urn:dataset:1"),
    Request("http://www.w3.org/ns/odrl/2/sell", "urn:dataset:1"),
]


def _rate(fn, seconds: float) -> float:
    n, started = 0, time.perf_counter()
    deadline = started + seconds
    while True:
        for _ in range(100):
            fn()
        n += 100
        now = time.perf_counter()
        if now >= deadline:
            return n / (now - started)


def main() -> int:
    quick = "--quick" in sys.argv
    seconds = 0.5 if quick else 2.0
    policy = parse_policy(POLICY)
    assert len(policy.rules) == 10
    compiled = compile_policy(policy)
    assert not compiled.issues, compiled.issues
    outcomes = [evaluate(compiled, r, CTX).allowed for r in REQUESTS]
    assert outcomes == [True, True, False], outcomes
    i = iter(range(10**12))

    def fast() -> None:
        evaluate(compiled, REQUESTS[next(i) % 3], CTX)

    def naive() -> None:
        evaluate(compile_policy(parse_policy(POLICY)), REQUESTS[next(i) % 3], CTX)

    def explained() -> None:
        explain(compiled, REQUESTS[next(i) % 3], CTX)

    naive_rate = _rate(naive, seconds / 2)
    fast_rate = _rate(fast, seconds)
    explain_rate = _rate(explained, seconds / 2)
    print(f"10-rule policy, {len(REQUESTS)} requests in rotation")
    print(f"compiled evaluate : {fast_rate:12,.0f} decisions/s")
    print(f"explain (reports) : {explain_rate:12,.0f} decisions/s")
    print(f"naive (re-read)   : {naive_rate:12,.0f} decisions/s")
    print(f"ratio             : {fast_rate / naive_rate:12,.0f}x")
    target = 20_000
    print(
        f"target            : {target:12,} decisions/s -> {'OK' if fast_rate >= target else 'BELOW'}"
    )
    return 0 if fast_rate >= target else 1


if __name__ == "__main__":
    sys.exit(main())
