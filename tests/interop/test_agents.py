"""Ten real coding agents, pointed at `amux serve` by their own env vars or config files (as
docs/agents.md says), in every dialect each speaks, against a mock upstream of each other dialect:
a plain answer, and a tool round trip (the mock asks the agent to run `echo amux-<random>` with its
shell tool and must see the output come back in the next request).

By default (CI, scripts/test.sh) one upstream per agent and dialect runs (`CI_UPSTREAM`); with
AMUX_AGENTS_MATRIX=1 (scripts/agents-matrix.sh) every other-dialect upstream does. With
AMUX_AGENTS_RESULTS=<file> each run appends one JSON line (agent, dialect, upstream, kind, outcome,
seconds, reason) for the matrix table. AMUX_AGENTS=claude,codex limits the agents.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from pathlib import Path

import agents as ag
import bugs
import harness
import mock_upstream as mu
import pytest
from conftest import ANTHROPIC_ALIAS, GEMINI_ALIAS, OPENAI_CHAT_ALIAS, RESPONSES_ALIAS

# The amux alias of each upstream dialect, the mock's path for it, and its answer text.
UPSTREAMS = {
    "anthropic": (ANTHROPIC_ALIAS, "/v1/messages", mu.ANTHROPIC_TEXT),
    "chat": (OPENAI_CHAT_ALIAS, "/v1/chat/completions", mu.OPENAI_TEXT),
    "responses": (RESPONSES_ALIAS, "/v1/responses", mu.RESPONSES_TEXT),
    "gemini": (GEMINI_ALIAS, "/v1beta/models/", mu.GEMINI_TEXT),
}
# CI runs one cross-dialect pairing per agent dialect: the next dialect in this ring.
SURFACE = {"anthropic": "anthropic", "chat": "openai_chat", "responses": "openai_responses", "gemini": "gemini"}
CI_UPSTREAM = {"anthropic": "chat", "chat": "gemini", "responses": "anthropic", "gemini": "responses"}

MATRIX = os.environ.get("AMUX_AGENTS_MATRIX") == "1"
ONLY = {a for a in os.environ.get("AMUX_AGENTS", "").split(",") if a}


def cells() -> list[tuple[str, str, str, str]]:
    out = []
    for name, agent in ag.AGENTS.items():
        if ONLY and name not in ONLY:
            continue
        for dialect in agent.dialects:
            ups = [u for u in UPSTREAMS if u != dialect] if MATRIX else [CI_UPSTREAM[dialect]]
            for up in ups:
                for kind in ("plain", "tool"):
                    if kind == "plain" or agent.no_tool is None:
                        out.append((name, dialect, up, kind))
    return out


REFUSAL = re.compile(
    r"(Extra inputs are not permitted|Unrecognized request argument|Unknown parameter|Unknown name|"
    r"Additional properties|not supported when translating|Input tag|invalid_request|status=4\d\d)"
)


def reason_of(r: harness.Run, extra: str) -> str:
    """One line saying why a run failed: the upstream's refusal, else amux's, else the agent's."""
    for c in r.calls:
        if c.get("refused"):
            return f"upstream {c['path']}: {c['refused']}"[:300]
    for line in (r.stderr + "\n" + r.stdout).splitlines():
        if REFUSAL.search(line) or "400" in line:
            return line.strip()[:300]
    return extra.strip().splitlines()[0][:300] if extra.strip() else "failed"


def record(**kw) -> None:
    path = os.environ.get("AMUX_AGENTS_RESULTS")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps(kw) + "\n")


# Cells that hit a known gateway bug (bugs.py): expected to fail (strict: a fix makes them XPASS,
# which fails, to say the entry can go).
KNOWN_CELLS: dict[tuple[str, str, str], str] = {}


def known_bug(reason: str) -> str | None:
    """The known gateway bug (bugs.py) a failure is, by the refusal it produced."""
    for name, signature in bugs.SIGNATURES.items():
        if re.search(signature, reason):
            return name
    return None


@pytest.mark.parametrize("agent,dialect,upstream,kind", cells(), ids=lambda v: v)
def test_agent(agent, dialect, upstream, kind, gateway, mock, tmp_path, request):
    a = ag.AGENTS[agent]
    if not a.binary().exists():
        pytest.fail(f"{agent} not installed at {a.binary()}: run scripts/test.sh (it installs it there)")
    alias, up_path, text = UPSTREAMS[upstream]
    marker = "amux-" + secrets.token_hex(4)
    tool = kind == "tool"
    prompt = (
        f"Please run the shell command `echo {marker}` and tell me what it printed."
        if tool
        else "Reply with a short greeting."
    )
    home, project = tmp_path / "home", tmp_path / "project"
    project.mkdir(parents=True)
    ctx = ag.Ctx(gateway.url, alias, prompt, home, project, tool)
    run = a.dialects[dialect](ctx)
    env = harness.base_env(home)
    ag.write_files(run.files)
    env.update(run.env)
    log_start = gateway.log_path.stat().st_size
    started = time.monotonic()
    r = harness.run(run.argv, project, env, gateway, mock)
    seconds = round(time.monotonic() - started, 1)
    out = r.stdout + "\n" + r.stderr
    problems = []
    if r.returncode != 0:
        problems.append(f"exit {r.returncode}")
    llm_calls = [c for c in r.calls if not c["path"].startswith("/_")]
    if not llm_calls:
        problems.append("no upstream call")
    with open(gateway.log_path, "rb") as f:
        f.seek(log_start)
        surfaces = set(re.findall(r'amux::usage: call surface="?(\w+)', f.read().decode(errors="replace")))
    if surfaces != {SURFACE[dialect]}:
        problems.append(f"amux saw the surfaces {sorted(surfaces)}, not {SURFACE[dialect]}")
    wrong = [c["path"] for c in llm_calls if not c["path"].startswith(up_path)]
    if wrong:
        problems.append(f"upstream calls off the {upstream} path: {wrong[:3]}")
    if not tool and text not in out:
        problems.append("the upstream's answer is not in the output")
    if tool:
        # The output came back as a tool result: the mock quoted it after TOOL_RESULT_PREFIX
        # (the command line itself, `echo amux-...`, does not count).
        answered = mu.TOOL_RESULT_PREFIX in out and re.search(rf"(?<!echo ){marker}", out.split(mu.TOOL_RESULT_PREFIX, 1)[-1])
        if not answered:
            problems.append("the shell command's output did not come back to the upstream")
        if len(llm_calls) < 2:
            problems.append("no second upstream call (no tool round trip)")
    reason = reason_of(r, "; ".join(problems)) if problems else ""
    record(agent=agent, dialect=dialect, upstream=upstream, kind=kind, outcome="fail" if problems else "pass",
           seconds=seconds, reason=reason, bug=known_bug(reason) if problems else None)
    bug = KNOWN_CELLS.get((agent, dialect, upstream))
    if bug:
        bugs.expect(request, bug)
    assert not problems, "; ".join(problems) + f"\nreason: {reason}\n" + r.detail
