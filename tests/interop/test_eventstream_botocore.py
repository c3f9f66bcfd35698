"""botocore's own event-stream parser reads amux's golden frames (tests/fixtures/eventstream/) as
the messages they stand for: the framing Bedrock callers get from amux is the one boto3 decodes.
No server needed."""

from __future__ import annotations

from pathlib import Path

import pytest

eventstream = pytest.importorskip("botocore.eventstream")

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "eventstream"


def frames() -> list[Path]:
    return sorted(FIXTURES.glob("*.hex"))


@pytest.mark.parametrize("path", frames(), ids=lambda p: p.stem)
def test_botocore_decodes_golden_frame(path: Path) -> None:
    data = bytes.fromhex("".join(path.read_text().split()))
    buf = eventstream.EventStreamBuffer()
    # Fed in small pieces, as a socket delivers them.
    for i in range(0, len(data), 7):
        buf.add_data(data[i : i + 7])
    messages = list(buf)
    assert len(messages) == 1
    m = messages[0]
    kind, name, payload = path.with_suffix(".txt").read_text().rstrip("\n").split(" ", 2)
    assert m.headers[":message-type"] == kind
    assert m.headers[":event-type" if kind == "event" else ":exception-type"] == name
    assert m.headers[":content-type"] == "application/json"
    assert m.payload.decode() == payload


def test_botocore_rejects_a_corrupt_frame() -> None:
    data = bytearray.fromhex("".join(frames()[0].read_text().split()))
    data[-6] ^= 0x20
    buf = eventstream.EventStreamBuffer()
    buf.add_data(bytes(data))
    with pytest.raises(eventstream.ChecksumMismatch):
        list(buf)
