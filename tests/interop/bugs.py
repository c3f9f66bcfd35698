"""Gateway bugs these tests found and the lead has not fixed yet.

A test that hits one marks itself xfail(strict) with ``expect(request, NAME)``: it keeps running,
the suite stays green, and the day the bug is fixed the test XPASSes, fails, and says to delete
the entry here.
"""

from __future__ import annotations

import pytest

KNOWN = {
}


# How each bug shows in a refusal (an upstream mock's or amux's message), for test_agents.py.
SIGNATURES = {
}


def expect(request: pytest.FixtureRequest, name: str) -> None:
    """Mark the running test as hitting the known bug NAME (strict: a fix makes it fail)."""
    reason = KNOWN.get(name)
    if reason:
        request.applymarker(pytest.mark.xfail(strict=True, reason=f"gateway bug {name}: {reason}"))
