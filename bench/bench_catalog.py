"""The catalog's two hot paths, each against a baseline measured in the same run.

    .venv/bin/python bench/bench_catalog.py [--quick]

1. A DSP catalog page of 100 datasets over real HTTP on loopback (POST /dsp/catalog/request
   at random offsets) with 100,000 datasets in a SQLite catalog (10,000 with --quick).
   Baseline: building the same page as an rdflib graph and serializing it as JSON-LD with the
   DSP context (what a generic RDF stack would do), no HTTP. Target: p50 <= 100 ms.
2. Importing a generated DCAT-AP file with validation (parse, DCAT-AP 3.0.1 shapes,
   store in SQLite). Baseline: validating the whole file at once with plain pySHACL
   against the same shapes (no store). Target: >= 500 datasets/s.

Ratios are what to compare between runs: the machines here are noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import socket
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402

from connector.catalog import codec, routes  # noqa: E402
from connector.catalog.model import Access, Dataset, Distribution, to_json  # noqa: E402
from connector.catalog.resources import CATALOG  # noqa: E402
from connector.catalog.service import CatalogService  # noqa: E402
from connector.catalog.sql import SqlCatalogStore, catalog_datasets  # noqa: E402
from connector.storage.database import Database  # noqa: E402

DID = "did:web:provider.example"
NOW = datetime(2026, 11, 23, tzinfo=UTC)
OFFER = codec.offer_text({"@id": "urn:uuid:o", "@type": "Offer", "assigner": DID, "permission": [{"action": "use"}]})


def synthetic(n: int) -> Dataset:
    iri = f"https://data.example/dataset/{n}"
    return Dataset(
        id=f"{n:08d}", iri=iri, title=f"Air quality station {n}", publisher=DID, access=Access.PUBLIC,
        offers=(OFFER,), description=f"Hourly PM10 and NO2 measurements at station {n}.",
        keywords=("air", "pm10"), license="https://www.etalab.gouv.fr/licence-ouverte-open-licence",
        distributions=(Distribution(iri=f"{iri}#csv", media_type="text/csv", byte_size=1000 + n),),
        issued=NOW, modified=NOW,
    )


async def fill(database: Database, count: int) -> None:
    batch = 5000
    async with database.engine.begin() as connection:
        for start in range(0, count, batch):
            rows = []
            for n in range(start, min(count, start + batch)):
                d = synthetic(n)
                rows.append({"id": d.id, "iri": d.iri, "access": d.access.value, "content_hash": d.fingerprint(),
                             "modified": d.modified, "document": json.dumps(to_json(d))})
            await connection.execute(catalog_datasets.insert(), rows)


def rdflib_page(datasets: list[Dataset]) -> bytes:
    """The baseline: the page as an rdflib graph, serialized to JSON-LD with the DSP context."""
    from rdflib import BNode, Graph, Literal, URIRef
    from rdflib.namespace import DCAT, DCTERMS, ODRL2, RDF

    from vocab.loader import document_loader  # noqa: F401  (the offline contexts)

    g = Graph()
    catalog = URIRef("https://p.example/catalog")
    g.add((catalog, RDF.type, DCAT.Catalog))
    for d in datasets:
        s = URIRef(d.iri)
        g.add((catalog, DCAT.dataset, s))
        g.add((s, RDF.type, DCAT.Dataset))
        g.add((s, DCTERMS.title, Literal(d.title)))
        g.add((s, DCTERMS.description, Literal(d.description)))
        for k in d.keywords:
            g.add((s, DCAT.keyword, Literal(k)))
        offer = BNode()
        g.add((s, ODRL2.hasPolicy, offer))
        g.add((offer, RDF.type, ODRL2.Offer))
        permission = BNode()
        g.add((offer, ODRL2.permission, permission))
        g.add((permission, ODRL2.action, ODRL2.use))
        for dist in d.distributions:
            o = URIRef(dist.iri)
            g.add((s, DCAT.distribution, o))
            g.add((o, RDF.type, DCAT.Distribution))
            g.add((o, DCAT.accessService, URIRef("https://p.example/dsp")))
    context = json.loads((Path(__file__).resolve().parent.parent / "vocab/contexts/dspace-2025-1.jsonld").read_text())
    return g.serialize(format="json-ld", context=context["@context"]).encode()


async def bench_page(total: int, rounds: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        database = await Database.open(f"sqlite+aiosqlite:///{folder}/bench.db")
        try:
            started = time.perf_counter()
            await fill(database, total)
            filled = time.perf_counter() - started
            listener = socket.socket()
            listener.bind(("127.0.0.1", 0))
            base = f"http://127.0.0.1:{listener.getsockname()[1]}"
            service = CatalogService(SqlCatalogStore(database), home=Path(folder), did=DID, public_url=base)
            app = web.Application()
            app.add_routes(routes.public)
            app[CATALOG] = service
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.SockSite(runner, listener).start()
            body = json.dumps({"@context": [codec.DSP_CONTEXT], "@type": "CatalogRequestMessage"})
            rng = random.Random(7)
            ours, theirs = [], []
            try:
                async with aiohttp.ClientSession() as session:
                    for i in range(rounds + 3):
                        offset = rng.randrange(0, total - 100)
                        t = time.perf_counter()
                        async with session.post(f"{base}/dsp/catalog/request?offset={offset}&limit=100", data=body) as r:
                            page = await r.json()
                            assert r.status == 200 and len(page["dataset"]) == 100
                        if i >= 3:  # warm-up
                            ours.append(time.perf_counter() - t)
                        datasets = await service.store.list(frozenset(Access), 100, offset)
                        t = time.perf_counter()
                        rdflib_page(datasets)
                        if i >= 3:
                            theirs.append(time.perf_counter() - t)
            finally:
                await runner.cleanup()
        finally:
            await database.close()
    p50, base50 = statistics.median(ours), statistics.median(theirs)
    return {"datasets": total, "fill_s": round(filled, 1), "page_p50_ms": round(p50 * 1000, 1),
            "page_p95_ms": round(sorted(ours)[int(len(ours) * 0.95) - 1] * 1000, 1),
            "rdflib_page_p50_ms": round(base50 * 1000, 1), "speedup": round(base50 / p50, 1),
            "target_met": p50 <= 0.100}


def dcat_ap_file(count: int, forms: int = 1) -> bytes:
    """COUNT datasets; FORMS structural variants (a varying number of keywords), since the
    importer validates one dataset per structure: real exports sit between 1 and COUNT."""
    lines = ["@prefix dcat: <http://www.w3.org/ns/dcat#> .", "@prefix dct: <http://purl.org/dc/terms/> .",
             "@prefix foaf: <http://xmlns.com/foaf/0.1/> .", "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .",
             "<https://portal.example/publisher> a foaf:Agent ; foaf:name \"Portal\" ."]
    for n in range(count):
        lines.append(
            f'<https://portal.example/dataset/{n}> a dcat:Dataset ; dct:title "Dataset {n}"@en ; '
            f'dct:description "Description of dataset {n}"@en ; '
            + "".join(f'dcat:keyword "k{k}" ; ' for k in range(n % forms + 1)) +
            f'dct:publisher <https://portal.example/publisher> ; '
            f'dct:issued "2025-01-01"^^xsd:date ; dcat:distribution <https://portal.example/dataset/{n}/csv> .\n'
            f'<https://portal.example/dataset/{n}/csv> a dcat:Distribution ; '
            f'dcat:accessURL <https://portal.example/files/{n}.csv> ; dcat:mediaType '
            f'<https://www.iana.org/assignments/media-types/text/csv> ; dcat:byteSize "{n}"^^xsd:nonNegativeInteger .'
        )
    return "\n".join(lines).encode()


def pyshacl_whole_file(data: bytes) -> float:
    import pyshacl
    from rdflib import Graph

    from vocab.shacl import SHAPE_SETS

    shapes = Graph()
    folder = Path(__file__).resolve().parent.parent / "vocab" / "shapes"
    for name in SHAPE_SETS["dcat-ap-3.0.1"].files:
        shapes.parse(folder / name, format="turtle")
    started = time.perf_counter()
    pyshacl.validate(Graph().parse(data=data, format="turtle"), shacl_graph=shapes)
    return time.perf_counter() - started


async def bench_import(count: int, forms: int = 1) -> dict:
    data = dcat_ap_file(count, forms)
    from vocab.shacl import registry

    registry().get("dcat-ap-3.0.1")  # compile the shapes once, as a serving node has
    with tempfile.TemporaryDirectory() as folder:
        database = await Database.open(f"sqlite+aiosqlite:///{folder}/bench.db")
        try:
            service = CatalogService(SqlCatalogStore(database), home=Path(folder), did=DID, public_url="https://p.example")
            started = time.perf_counter()
            report = await service.import_dcat(data, "bench.ttl")
            ours = time.perf_counter() - started
            assert len(report.created) == count, report.rejected[:3]
            started = time.perf_counter()
            again = await service.import_dcat(data, "bench.ttl")
            reimport = time.perf_counter() - started
            assert len(again.unchanged) == count
        finally:
            await database.close()
    theirs = await asyncio.to_thread(pyshacl_whole_file, data)
    return {"datasets": count, "structures": forms, "import_per_s": round(count / ours), "reimport_per_s": round(count / reimport),
            "pyshacl_whole_file_validation_only_per_s": round(count / theirs),
            "ratio": round(theirs / ours, 2), "target_met": count / ours >= 500}


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    total, rounds, count = (10_000, 20, 300) if args.quick else (100_000, 50, 2000)
    print(json.dumps({"dsp_catalog_page": await bench_page(total, rounds)}))
    print(json.dumps({"dcat_ap_import": await bench_import(count)}))
    print(json.dumps({"dcat_ap_import": await bench_import(count, forms=50)}))


if __name__ == "__main__":
    asyncio.run(main())
