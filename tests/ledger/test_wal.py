"""Consensus WAL: framing, end-height markers, torn tails, rotation."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ledger.wal import END_HEIGHT, MESSAGE, WAL, WALCorruptError, WALError, encode_record


def test_fresh_wal_starts_with_marker_and_replays(tmp_path: Path) -> None:
    with WAL(tmp_path) as wal:
        assert wal.last_end_height() == 0
        wal.write(b"h1-proposal")
        wal.write_sync(b"h1-vote")
        wal.write_end_height(1)
        wal.write(b"h2-a")
        wal.write(b"h2-b")
    with WAL(tmp_path) as wal:
        assert wal.repaired is None
        replay = wal.replay_last()
        assert replay is not None and replay.end_height == 1
        assert replay.messages == [b"h2-a", b"h2-b"]
        assert wal.messages_after(0) == [b"h1-proposal", b"h1-vote"]
        assert wal.messages_after(5) is None
        kinds = [r.kind for r in wal.records()]
        assert kinds == [END_HEIGHT, MESSAGE, MESSAGE, END_HEIGHT, MESSAGE, MESSAGE]


@pytest.mark.parametrize(
    "damage",
    ["half_header", "half_body", "bit_flip", "zeros"],
)
def test_torn_tail_is_truncated_and_reported(tmp_path: Path, damage: str) -> None:
    with WAL(tmp_path) as wal:
        wal.write_end_height(4)
        wal.write(b"kept")
        wal.write(b"x" * 100)
    seg = tmp_path / "00000000.wal"
    good_size = seg.stat().st_size - len(encode_record(MESSAGE, b"x" * 100))
    raw = bytearray(seg.read_bytes())
    if damage == "half_header":
        raw = raw[: good_size + 5]
    elif damage == "half_body":
        raw = raw[: good_size + 40]
    elif damage == "bit_flip":
        raw[good_size + 50] ^= 0x01
    else:
        raw += bytes(64)  # a crash after the FS extended the file
        good_size = len(raw) - 64
    seg.write_bytes(bytes(raw))
    with WAL(tmp_path) as wal:
        assert wal.repaired is not None
        assert wal.repaired.offset == good_size
        replay = wal.replay_last()
        assert replay is not None and replay.end_height == 4
        assert replay.messages[0] == b"kept"
        wal.write(b"after-repair")  # appends cleanly after the cut
    with WAL(tmp_path) as wal:
        assert wal.repaired is None
        replay = wal.replay_last()
        assert replay is not None and replay.messages[-1] == b"after-repair"


def test_rotation_prune_and_corrupt_old_segment(tmp_path: Path) -> None:
    wal = WAL(tmp_path, segment_bytes=1000, max_total_bytes=3000)
    for h in range(1, 40):
        wal.write(os.urandom(200))
        wal.write_end_height(h)
    wal.write(b"pending")
    segments = sorted(tmp_path.glob("*.wal"))
    assert len(segments) >= 3
    assert sum(p.stat().st_size for p in segments) <= 3000 + 1000
    replay = wal.replay_last()
    assert replay is not None and replay.end_height == 39 and replay.messages == [b"pending"]
    wal.close()
    oldest = segments[0]
    data = bytearray(oldest.read_bytes())
    data[10] ^= 0xFF
    oldest.write_bytes(bytes(data))
    with pytest.raises(WALCorruptError):
        list(WAL(tmp_path, segment_bytes=1000).records())


def test_oversized_record_refused(tmp_path: Path) -> None:
    with WAL(tmp_path, max_record_bytes=10) as wal:
        with pytest.raises(WALError):
            wal.write(b"x" * 11)


def test_write_sync_survives_a_process_crash(tmp_path: Path) -> None:
    code = (
        "import os; from ledger.wal import WAL;"
        f"w = WAL({str(tmp_path)!r});"
        "w.write_end_height(3); w.write(b'peer-msg'); w.write_sync(b'own-vote');"
        "w.write(b'buffered-only'); os._exit(0)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)
    with WAL(tmp_path) as wal:
        replay = wal.replay_last()
        assert replay is not None and replay.end_height == 3
        assert replay.messages == [b"peer-msg", b"own-vote"]  # the unsynced tail is lost


def test_empty_head_from_a_crash_at_creation_gets_the_initial_marker(tmp_path: Path) -> None:
    (tmp_path / "00000000.wal").write_bytes(b"\x00\x00")  # torn first record
    with WAL(tmp_path, initial_end_height=4) as wal:
        assert wal.repaired is not None and wal.repaired.dropped_bytes == 2
        assert wal.last_end_height() == 4
