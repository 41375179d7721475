"""`communs init` and `communs selfdesc validate` on participants that gx-compliance refuses:
exit 1, one sentence per problem, nothing written."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime

from connector.selfdescription import build
from connector.selfdescription.model import Participant


def communs(*argv: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "connector.cli.main", *argv],
        capture_output=True, text=True, input=stdin, timeout=120,
    )


def test_init_refuses_a_vat_number_with_a_wrong_key_and_writes_nothing(tmp_path):
    folder = tmp_path / "node"
    result = communs("init", "--dir", str(folder), "--name", "ACME", "--url", "http://127.0.0.1:8181",
                     "--country", "FR-75", "--registration-number", "vatID:FR40123456789")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "error: the node's own self-description does not validate (gaiax-loire-25.11):"
        " the VAT number 'FR40123456789' fails its check digits (mistyped or invented)"
    )
    assert not folder.exists()


def test_validate_names_each_problem_of_a_presentation_without_participant(tmp_path):
    p = Participant.of("ACME SA", "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", "BE-BRU",
                       "vatID:BE0762747722", base_url="https://acme.example")
    creds = build.loire_credentials(p, now=datetime.now(UTC))
    vp = build.loire_presentation(p, [creds[build.REGISTRATION_NUMBER], creds[build.TERMS]], "urn:uuid:x")
    result = communs("selfdesc", "validate", "--dir", str(tmp_path), "--json", "-", stdin=json.dumps(vp))
    assert result.returncode == 1
    problems = {p["check"]: p["message"] for p in json.loads(result.stdout)["problems"]}
    assert problems["participant"].startswith("the presentation holds no gx:LegalPerson credential")
    assert problems["registration-number"] == (
        "the VAT number 'BE0762747722' fails its check digits (mistyped or invented)"
    )
