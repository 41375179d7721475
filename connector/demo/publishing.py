"""Steps 1 to 3: a public body publishes open data, a company offers a dataset for paid
compute only, another company agrees, pays and runs an aggregate on it."""

from __future__ import annotations

import json
from typing import Any

from connector.demo.commands import StepFailed
from connector.demo.content import MAX_OUTPUT, OPEN_LICENSE, PRICE, RESULT_FILE
from connector.demo.play import Play

DCAT_RECORD = """PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX dct: <http://purl.org/dc/terms/>
SELECT ?title ?publisher ?license ?mediaType ?byteSize (GROUP_CONCAT(?keyword; separator=", ") AS ?keywords)
WHERE {
  <%s> a dcat:Dataset ; dct:title ?title ; dct:publisher ?publisher ; dcat:distribution ?d .
  OPTIONAL { <%s> dcat:keyword ?keyword }
  OPTIONAL { ?d dct:license ?license } OPTIONAL { ?d dcat:mediaType ?mediaType }
  OPTIONAL { ?d dcat:byteSize ?byteSize }
} GROUP BY ?title ?publisher ?license ?mediaType ?byteSize"""


def _values(results: dict[str, Any]) -> list[dict[str, str]]:
    return [{k: v["value"] for k, v in row.items()} for row in results["results"]["bindings"]]


def ucom(amount: int) -> str:
    return f"{amount / 1_000_000:g} com ({amount} ucom)"


async def open_data(play: Play) -> dict[str, Any]:
    city = play.city
    title = f"Bicycle counts in Lyon, hourly, 16 November 2026 (demo run {play.run})"
    play.narrator.doing("publishing the open dataset")
    dataset = await play.shell.json(
        "publish", str(play.files["bicycles"]), "--dir", play.connector(city), "--title", title,
        "--description", "Bicycles counted every hour by six permanent counters on the "
        "cycle lanes of Lyon.", "--keyword", "mobility", "--keyword", "cycling",
        "--keyword", "open data", "--license", OPEN_LICENSE, "--policy", "open")
    play.found["open_dataset"] = dataset
    play.narrator.say(f"{city.name} published [bold]{dataset['title']}[/] "
                      f"({dataset['distributions'][0]['byte_size']} bytes of CSV, access "
                      f"{dataset['access']}, licence Etalab 2.0)")
    play.narrator.doing("reading its DCAT-AP record")
    query = play.query("dcat-record.rq", DCAT_RECORD % (dataset["iri"], dataset["iri"]))
    found = _values(await play.shell.json("sparql", f"{city.public_url}/sparql", query))
    if not found:
        raise StepFailed(f"{city.name}'s SPARQL endpoint has no DCAT-AP record of "
                         f"{dataset['iri']}")
    record = found[0]
    for key in ("title", "publisher", "license", "mediaType", "byteSize", "keywords"):
        play.narrator.say(f"  dcat record · {key}: {record.get(key, '-')}")
    return {"datasetId": dataset["id"], "iri": dataset["iri"], "title": dataset["title"],
            "access": dataset["access"], "record": record}


async def paid_compute_offer(play: Play) -> dict[str, Any]:
    company = play.company
    play.narrator.doing("publishing the compute-only dataset")
    dataset = await play.shell.json(
        "publish", str(play.files["charging"]), "--dir", play.connector(company), "--title",
        f"Charging sessions of an electric delivery fleet, October 2026 (demo run {play.run})",
        "--description", "Daily charging sessions and energy drawn at three depots.",
        "--keyword", "mobility", "--keyword", "energy", "--policy", str(play.files["policy"]))
    play.found["paid_dataset"] = dataset
    play.narrator.say(f"{company.name} published [bold]{dataset['title']}[/] with the offer "
                      f"{play.files['policy'].name}: action communs:compute only, the one "
                      f"algorithm whose hash it names, at most {MAX_OUTPUT // 1024} KiB back, "
                      f"and a compensate duty of payAmount {PRICE} ucom before each run")
    play.narrator.doing("reading the ledger's listing")
    listing = await play.shell.json("ledger", "market", "listing", dataset["iri"],
                                    "--dir", play.validator(company))
    if listing.get("status") != "listed" or listing.get("price") != PRICE:
        raise StepFailed(f"the ledger lists {dataset['iri']} as {listing.get('status')} at "
                         f"{listing.get('price')} ucom, not listed at {PRICE}")
    play.narrator.say(f"the node listed it on the ledger by itself: price {ucom(PRICE)} per "
                      f"use, provider {listing['provider_did']}, since block "
                      f"{listing['since']['height']}")
    return {"datasetId": dataset["id"], "iri": dataset["iri"], "title": dataset["title"],
            "listing": {"status": listing["status"], "price": listing["price"],
                        "height": listing["since"]["height"]}}


async def compute_to_data(play: Play) -> dict[str, Any]:
    company, consumer = play.company, play.consumer
    dataset = play.found["paid_dataset"]
    play.narrator.doing("negotiating the contract")
    agreed = await play.shell.json("negotiate", company.public_url, dataset["id"], "--wait",
                                   "--dir", play.connector(consumer))
    if agreed.get("state") != "FINALIZED":
        raise StepFailed(f"the negotiation ended {agreed.get('state')}, not FINALIZED")
    agreement = agreed["agreementId"]
    play.found["agreement"] = agreement
    play.narrator.say(f"{consumer.name} and {company.name} agreed: agreement {agreement}")
    play.narrator.doing("paying and running the aggregate at the provider")
    out = play.files["algorithm"].parent / "result"
    job = await play.shell.json("compute", company.public_url, agreement, "--algorithm",
                                str(play.files["algorithm"]), "--out", str(out),
                                "--dir", play.connector(consumer), ok_codes=(0, 1))
    if job.get("state") not in ("SUCCEEDED", "RELEASED"):
        raise StepFailed(f"the compute job ended {job.get('state')}: {job.get('reason')}")
    paid = await play.shell.json("ledger", "market", "payments", agreement,
                                 "--dir", play.validator(consumer))
    if not paid or paid.get("count", 0) < 1:
        raise StepFailed(f"the ledger holds no payment for agreement {agreement}")
    play.narrator.say(f"{consumer.name}'s node paid {ucom(paid['total'])} on the ledger before "
                      f"asking; {company.name} checked the payment, proven, then ran the job")
    result = json.loads((out / RESULT_FILE).read_text())
    for depot, row in result.items():
        play.narrator.say(f"  result · {depot}: {row['sessions']} sessions, "
                          f"{row['kwh_per_session']} kWh per session")
    claims = job["receiptClaims"]
    play.narrator.say(f"receipt signed by {claims['iss']}: dataset {claims['dataset']['hash'][:19]}…, "
                      f"algorithm {claims['algorithm']['hash'][:19]}…, status {claims['status']} "
                      f"(saved in {out.relative_to(play.federation.folder)}/receipt.json)")
    return {"agreementId": agreement, "jobId": job["id"], "state": job["state"],
            "result": result, "receipt": {"issuer": claims["iss"], "status": claims["status"],
                                          "result": claims.get("result")},
            "payments": {"count": paid["count"], "total": paid["total"]}}
