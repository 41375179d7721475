"""SHACL validation of a Loire 25.11 participant presentation: the registry vs naive pySHACL.

    .venv/bin/python bench/bench_shacl.py [--quick]

Measured in one run (machines here are noisy, so ratios matter more than absolute times):
  - shapes load: cold (parse + compile, empty cache folder) vs warm (disk cache);
  - validation with shapes preloaded (pre-selection + cached pySHACL shapes graph), p50/p99;
  - pySHACL with the whole shapes graph parsed once and passed on each call;
  - naive pySHACL, parsing the shapes file on every call (the baseline);
  - the whole self-description pipeline (JSON-LD -> graph -> SHACL -> compliance checks).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pickle  # noqa: E402

import pyoxigraph as ox  # noqa: E402
import pyshacl  # noqa: E402
from rdflib import Graph  # noqa: E402

import vocab  # noqa: E402
from connector.selfdescription import build  # noqa: E402
from connector.selfdescription.model import Participant  # noqa: E402
from connector.selfdescription.validate import validate_self_description  # noqa: E402
from vocab import jsonld, shacl  # noqa: E402

SET = "gaiax-loire-25.11"
SHAPES_FILE = Path(vocab.__file__).parent / "shapes" / "gaiax-loire-25.11.ttl"


def times(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def line(label: str, values: list[float]) -> str:
    return (
        f"{label:<48} n={len(values):<4} p50={pct(values, 0.5) * 1000:9.1f} ms"
        f"  p99={pct(values, 0.99) * 1000:9.1f} ms"
    )


def presentation() -> dict:
    p = Participant.of("ACME SA", "did:web:acme.example", "FR-75", "vatID:FR15345678901")
    creds = build.loire_credentials(p, now=datetime.now(UTC))
    return build.loire_presentation(p, [creds[r] for r in build.ROLES], "urn:uuid:bench")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer iterations (~30 s)")
    args = parser.parse_args()
    n_fast, n_full, n_naive, n_cold = (50, 5, 2, 1) if args.quick else (300, 20, 4, 2)

    vp = presentation()
    data: Graph = jsonld.to_graph(vp)
    print(f"data: Loire participant VP, {len(data)} triples; shapes: {SET}")

    with tempfile.TemporaryDirectory() as folder:
        cold = []
        for i in range(n_cold):
            cache = Path(folder) / f"cold{i}"
            started = time.perf_counter()
            shacl.ShapesRegistry(cache).get(SET)
            cold.append(time.perf_counter() - started)
        warm = times(lambda: shacl.ShapesRegistry(Path(folder) / "cold0").get(SET), 5)
        print(line("shapes load, cold (parse + compile)", cold))
        print(line("shapes load, warm (disk cache)", warm))
        print(f"  -> warm start is {pct(cold, 0.5) / pct(warm, 0.5):.0f}x faster than cold")
        # the other ways to get the whole graph back, measured for the choice of cache format
        turtle = times(lambda: Graph().parse(SHAPES_FILE, format="turtle"), n_cold)
        blob = pickle.dumps(Graph().parse(SHAPES_FILE, format="turtle"), protocol=5)
        pickled = times(lambda: pickle.loads(blob), n_cold)
        oxi = times(
            lambda: list(ox.parse(SHAPES_FILE.read_bytes(), format=ox.RdfFormat.TURTLE)), n_cold
        )
        print(line("  alt: rdflib Turtle parse of the whole set", turtle))
        print(line(f"  alt: pickled rdflib Graph ({len(blob) >> 20} MB) load", pickled))
        print(line("  alt: pyoxigraph Turtle parse (no rdflib terms)", oxi))

        registry = shacl.ShapesRegistry(Path(folder) / "cold0")
        compiled = registry.get(SET)
        assert compiled.validate(data).conforms
        first = times(
            lambda: shacl.ShapesRegistry(Path(folder) / "cold0").get(SET).validate(data), 1
        )
        ours = times(lambda: compiled.validate(data), n_fast)
        print(line("first validation of a new selection", first))
        print(line("registry, shapes preloaded (pre-selected)", ours))

        full = shacl.full_graph(SET)
        whole = times(lambda: pyshacl.validate(data, shacl_graph=full), n_full)
        print(line("pySHACL, whole shapes graph preloaded", whole))

        naive = times(lambda: pyshacl.validate(data, shacl_graph=str(SHAPES_FILE)), n_naive)
        print(line("pySHACL naive (parses the shapes each call)", naive))

        async def pipeline() -> None:
            report = await validate_self_description(vp, shapes=registry, verify_signatures=False)
            assert report.conforms, report.render()

        end_to_end = times(lambda: asyncio.run(pipeline()), max(10, n_fast // 5))
        print(line("self-description pipeline (JSON-LD+SHACL+checks)", end_to_end))

    p50 = pct(ours, 0.5)
    print(
        f"ratio naive/registry p50: {pct(naive, 0.5) / p50:.0f}x; "
        f"whole-graph-preloaded/registry p50: {pct(whole, 0.5) / p50:.1f}x; "
        f"target p50 <= 50 ms: {'met' if p50 <= 0.05 else 'NOT met'} ({p50 * 1000:.1f} ms)"
    )
    print(f"stdev registry: {statistics.pstdev(ours) * 1000:.2f} ms")


if __name__ == "__main__":
    main()
