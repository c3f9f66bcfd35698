"""Running a real coding-agent CLI against amux: an isolated HOME, a bounded run, and a report
(exit status, output, the upstream calls the mock saw, amux's log) for assertion messages.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HARNESS_TIMEOUT_S = 120
CACHE = Path(__file__).resolve().parent / ".cache"


def binary(env_var: str, name: str) -> Path:
    """The CLI from $ENV_VAR, else the one scripts/test.sh npm-installs into tests/interop/.cache."""
    if os.environ.get(env_var):
        return Path(os.environ[env_var])
    return CACHE / "node_modules" / ".bin" / name


def base_env(home: Path) -> dict[str, str]:
    """A minimal environment: PATH, and a HOME (plus XDG and temp dirs) of the test's own."""
    for d in (home / "tmp", home / ".config", home / ".cache"):
        d.mkdir(parents=True, exist_ok=True)
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "TMPDIR": str(home / "tmp"),
        "LANG": "C.UTF-8",
        "TERM": "dumb",
        "NO_COLOR": "1",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }


def _text(b: bytes | str | None) -> str:
    return b.decode(errors="replace") if isinstance(b, bytes) else (b or "")


@dataclass
class Run:
    returncode: Any
    stdout: str
    stderr: str
    calls: list[dict[str, Any]]
    detail: str


def run(argv: list[str], cwd: Path, env: dict[str, str], gateway: Any, mock: Any) -> Run:
    """Run the CLI to completion (bounded); collect what the mock upstream received."""
    try:
        proc = subprocess.run(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=HARNESS_TIMEOUT_S,
            check=False,
        )
        returncode, stdout, stderr = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as e:
        returncode = f"none: timed out after {HARNESS_TIMEOUT_S}s"
        stdout, stderr = _text(e.stdout), _text(e.stderr)
    calls = [r for r in mock.recorded() if r["method"] == "POST"]
    summary = "\n".join(f"{r['path']}?{r['query']} {len(r['raw'])} bytes" for r in calls)
    detail = (
        f"exit {returncode}\n--- stdout\n{stdout[-3000:]}\n--- stderr\n{stderr[-3000:]}"
        f"\n--- upstream calls\n{summary}\n--- amux log\n{gateway.log_tail(40)}"
    )
    return Run(returncode, stdout, stderr, calls, detail)
