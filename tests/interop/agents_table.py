"""Print the agents x dialects x upstreams result table from test_agents.py's JSON lines.

    python agents_table.py RESULTS.jsonl [--markdown]

One row per agent and dialect it speaks, one column per upstream dialect; a cell is
`plain/tool` with P (passed), F (failed), - (not run: same dialect, or the agent has no tool
calls). Below the table: every failing cell with its reason (and the known gateway bug it is, from
bugs.py), then the dialects each agent cannot be pointed at.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import agents as ag  # noqa: E402

UPS = ("anthropic", "chat", "responses", "gemini")


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    rows = [json.loads(line) for line in Path(args[0]).read_text().splitlines() if line.strip()]
    res = {(r["agent"], r["dialect"], r["upstream"], r["kind"]): r for r in rows}
    head = ["agent", "speaks"] + [f"-> {u}" for u in UPS]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, agent in ag.AGENTS.items():
        for dialect in agent.dialects:
            cells = []
            for up in UPS:
                if up == dialect:
                    cells.append("same")
                    continue
                mark = []
                for kind in ("plain", "tool"):
                    r = res.get((name, dialect, up, kind))
                    mark.append("-" if r is None else ("P" if r["outcome"] == "pass" else "F"))
                cells.append("/".join(mark))
            lines.append("| " + " | ".join([name, dialect] + cells) + " |")
    print("\n".join(lines))
    fails = [r for r in rows if r["outcome"] != "pass"]
    passed = len(rows) - len(fails)
    total = sum(r["seconds"] for r in rows)
    print(f"\n{passed} passed, {len(fails)} failed; agent run time {total:.0f} s")
    if fails:
        print("\nFailing cells:")
        for r in fails:
            bug = f" [bug {r['bug']}]" if r.get("bug") else ""
            print(f"- {r['agent']} {r['dialect']} -> {r['upstream']} ({r['kind']}){bug}: {r['reason']}")
    print("\nNot pointable:")
    for name, agent in ag.AGENTS.items():
        for dialect, why in agent.cannot.items():
            print(f"- {name} {dialect}: {why}")
        if agent.no_tool:
            print(f"- {name} tool round trip: {agent.no_tool}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
