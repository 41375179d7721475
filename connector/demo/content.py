"""What the demo's organizations publish and run: real-looking CSV files (made the same way
every time, so that a run is reproducible), the compute-only offer with its price, and the
aggregate the consumer sends to the data."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from decimal import Decimal
from pathlib import Path

from policies import terms as T
from policies.serialize import to_jsonld
from policies.templates import compute_offer, pay_per_use_offer

OPEN_LICENSE = "https://www.etalab.gouv.fr/licence-ouverte-open-licence"
UCOM = T.communs("ucom")  # the ledger's unit: 10^6 ucom = 1 com
PRICE = 1_500_000  # ucom per compute run (1.5 com)
MAX_OUTPUT = 64 * 1024  # bytes a run may return

COUNTERS = (("Pont Lafayette", 412), ("Quai Saint-Antoine", 268), ("Berges du Rhône", 355),
            ("Cours Gambetta", 190), ("Avenue Jean Jaurès", 233), ("Montée de la Grande-Côte", 64))
DEPOTS = (("Depot Vaise", 41), ("Depot Gerland", 57), ("Depot Part-Dieu", 33))


def _wave(i: int) -> float:
    """A deterministic wobble in [0.75, 1.25): data that looks measured, the same every run."""
    return 0.75 + (i * 7919 % 101) / 202


def bicycle_counts() -> str:
    """Hourly bicycle passages at six permanent counters over one day."""
    rows = ["counter,date,hour,bicycles"]
    for c, (name, peak) in enumerate(COUNTERS):
        for hour in range(6, 22):
            rush = 1.0 if hour in (8, 17, 18) else 0.55 if hour in (7, 9, 12, 16, 19) else 0.3
            rows.append(f"{name},2026-11-16,{hour:02d},{round(peak * rush * _wave(c * 24 + hour))}")
    return "\n".join(rows) + "\n"


def charging_sessions() -> str:
    """Daily charging of an electric delivery fleet at three depots over four weeks."""
    rows = ["depot,date,sessions,energy_kwh"]
    for d, (name, vans) in enumerate(DEPOTS):
        for day in range(1, 29):
            sessions = round(vans * _wave(d * 31 + day) * (0.6 if day % 7 in (0, 6) else 1.0))
            rows.append(f"{name},2026-10-{day:02d},{sessions},{sessions * 23.4 * _wave(day):.1f}")
    return "\n".join(rows) + "\n"


ALGORITHM = '''\
"""Mean energy per charging session at each depot: only these aggregates leave the provider."""
import csv
import json
import os
import pathlib

sessions, energy = {}, {}
for path in sorted(pathlib.Path(os.environ["COMMUNS_INPUT"]).rglob("*.csv")):
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            depot = row["depot"]
            sessions[depot] = sessions.get(depot, 0) + int(row["sessions"])
            energy[depot] = energy.get(depot, 0.0) + float(row["energy_kwh"])
result = {depot: {"sessions": sessions[depot],
                  "kwh_per_session": round(energy[depot] / sessions[depot], 2)}
          for depot in sorted(sessions)}
out = pathlib.Path(os.environ["COMMUNS_OUTPUT"]) / "kwh-per-session.json"
out.write_text(json.dumps(result, indent=2) + "\\n")
'''
RESULT_FILE = "kwh-per-session.json"


def algorithm_hash(text: str = ALGORITHM) -> str:
    """As the provider names it in a policy: sha256 of the script's UTF-8 text."""
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def compute_only_paid_offer() -> dict:
    """The company's offer as an ODRL policy file: run this one aggregate at the provider
    (communs:compute, no transfer), at most MAX_OUTPUT bytes back, each run paid first
    (a compensate duty refined by payAmount in ucom, which the ledger's market reads)."""
    compute = compute_offer("urn:uuid:00000000-0000-4000-8000-000000000000", "urn:demo:provider",
                            algorithms=[algorithm_hash()], max_output_bytes=MAX_OUTPUT)
    paid = pay_per_use_offer("urn:uuid:00000000-0000-4000-8000-000000000000",
                             "urn:demo:provider", Decimal(PRICE), currency=UCOM)
    # the node sets the uid and the assigner when it publishes
    permission = dataclasses.replace(compute.permissions[0], duties=paid.permissions[0].duties)
    return to_jsonld(dataclasses.replace(compute, permissions=(permission,)))


def write(folder: Path) -> dict[str, Path]:
    """The run's files in FOLDER: both datasets, the policy and the algorithm."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {"bicycles": folder / "bicycle-counts-lyon.csv",
             "charging": folder / "fleet-charging-sessions.csv",
             "policy": folder / "compute-only-paid-offer.json",
             "algorithm": folder / "kwh_per_session.py"}
    files["bicycles"].write_text(bicycle_counts())
    files["charging"].write_text(charging_sessions())
    files["policy"].write_text(json.dumps(compute_only_paid_offer(), indent=2) + "\n")
    files["algorithm"].write_text(ALGORITHM)
    return files
