"""The DSP TCK runner's verdict (conformance/run_dsp_tck.py): it passes only when every
scenario passed but those the TCK itself disables; no failure is excused any more."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

RUNNER = Path(__file__).resolve().parents[3] / "conformance" / "run_dsp_tck.py"


@pytest.fixture(scope="module")
def verdict():
    spec = importlib.util.spec_from_file_location("run_dsp_tck", RUNNER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.verdict


def summary(found, succeeded, failed, aborted=0, skipped=0) -> str:
    return f"TCK summary: {found} tests found, {succeeded} succeeded, {failed} failed, {aborted} aborted, {skipped} skipped"


@pytest.mark.parametrize(("output", "code", "expected"), [
    (summary(67, 65, 0, skipped=2), 0, 0),  # TP:02-04 and TP_C:02-04 are disabled in the TCK
    (summary(4, 4, 0), 0, 0),
    ("FAILED: CN:03-04\n" + summary(67, 64, 1, skipped=2), 1, 1),  # no deviation is excused
    (summary(67, 64, 0, aborted=1, skipped=2), 1, 1),
    (summary(67, 64, 0, skipped=2), 0, 1),  # a scenario neither passed nor skipped
    (summary(0, 0, 0), 0, 1),  # nothing ran (a filter that matches nothing)
    ("the TCK crashed", 1, 1),
])
def test_the_verdict(verdict, tmp_path, capsys, output, code, expected):
    assert verdict(output, code, 1.0, tmp_path, True) == expected
    printed = capsys.readouterr().out
    assert ("DSP TCK: PASSED" in printed) is (expected == 0)
