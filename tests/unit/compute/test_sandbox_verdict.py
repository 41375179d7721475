"""A job's reason, which its consumer reads, never carries what the job wrote or named; the
provider's log gets those words instead."""

from __future__ import annotations

import signal

from hypothesis import given, settings
from hypothesis import strategies as st

from connector.compute.executor import Limits
from connector.compute.sandbox.sparql import REASONS as SPARQL_REASONS
from connector.compute.sandbox.verdict import Facts, notes, verdict

DATA = "Zorglub Quintavalle,98765"  # a row of the dataset, as a hostile job would pass it on
LIMITS = Limits(cpu_seconds=3, wall_seconds=8.0, processes=16)

facts = st.builds(
    Facts,
    backstop=st.booleans(),
    cancelled=st.booleans(),
    missing=st.booleans(),
    setup_error=st.none() | st.just(f"OSError: mount /input/{DATA}"),
    stopped=st.sampled_from([None, "wall", "cpu", "memory", "cancel"]),
    exit_code=st.none() | st.integers(0, 255),
    signal=st.none() | st.sampled_from([signal.SIGKILL, signal.SIGSEGV, signal.SIGXCPU, 99]),
    cpu=st.floats(0, 10),
    output_full=st.booleans(),
    refused=st.none() | st.just("the output holds a symbolic link, which is not allowed"),
    refused_at=st.none() | st.just(DATA),
)


@settings(max_examples=60, deadline=None)
@given(facts, st.booleans())
def test_no_reason_carries_the_jobs_words(f: Facts, sparql: bool) -> None:
    log = f"Traceback (most recent call last):\n{DATA}\nSystemExit: {DATA}\n"
    status, reason = verdict(f, LIMITS, log, sparql=sparql)
    assert status in ("succeeded", "failed", "killed")
    assert "Zorglub" not in reason and "98765" not in reason


def test_the_words_kept_from_the_reason_go_to_the_log() -> None:
    f = Facts(exit_code=0, refused="the output holds a named pipe, which is not allowed",
              refused_at=DATA)
    assert verdict(f, LIMITS, "") == (
        "failed", "the output holds a named pipe, which is not allowed; nothing was returned")
    assert notes(f) == [f"the output holds a named pipe, which is not allowed: {DATA}"]
    broken = Facts(setup_error=f"OSError: mount /input/{DATA}")
    assert verdict(broken, LIMITS, "") == ("failed", "the sandbox could not prepare or finish the job")
    assert notes(broken) == [f"the sandbox could not prepare or finish the job: OSError: mount /input/{DATA}"]


def test_a_sparql_runners_exit_code_names_its_reason() -> None:
    for code, reason in SPARQL_REASONS.items():
        assert verdict(Facts(exit_code=code), LIMITS, f"{reason}: {DATA}\n", sparql=True) == ("failed", reason)
    assert verdict(Facts(exit_code=4), LIMITS, f"{DATA}\n") == ("failed", "the job exited with code 4")
