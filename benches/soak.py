#!/usr/bin/env python3
"""benches/soak.py: a bounded soak of `amux serve` with mixed traffic and injected faults.

Everything runs on 127.0.0.1, stdlib only. A mock upstream (asyncio) speaks Anthropic Messages and
OpenAI Chat Completions, JSON and SSE, and injects faults by path prefix: `/ok` answers, `/e500`
fails with a 500, `/reset` sends the stream's first event and then drops the connection, `/slow`
drips events 0.2 s apart. amux runs with a team config (a virtual key, RPM/TPM limits in memory,
prices, JSON logs) and one alias per upstream kind. A client opens calls at a steady RATE for
DURATION seconds, each on its own connection: caller dialect (Anthropic or OpenAI, so same-dialect
and translated), JSON or stream, an alias, and with probability CANCEL a client that hangs up
after the first bytes.

What must hold, checked at the end (exit status 1 otherwise):
  - zero unexpected answers: `ok` aliases answer 200 with a complete body (JSON with its stop
    reason, a stream with its terminal event); fault aliases answer 502/503/504 in the caller's
    error shape, or a 200 stream that ends with an error event; never a 500 or a hang;
  - exactly one usage log line per call (cancelled ones included);
  - after the traffic stops, nothing in flight (`amux_requests_in_flight`, `amux_open_streams`,
    `amux_connections_open` back to 0), and RSS, open file descriptors (other than the upstream
    pool's idle connections, counted apart) and threads no higher than after the warm-up traffic
    had settled (RSS within a tolerance: the allocator keeps some pages).

    benches/soak.py [--amux target/release/amux] [--duration 60] [--rate 40] [--cancel 0.1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

KEY = "amux-soak-key"


def sse(name: str, data: dict) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


def anthropic_events(n: int) -> list[bytes]:
    start = {"type": "message_start", "message": {
        "id": "msg_soak", "type": "message", "role": "assistant", "model": "claude-up", "content": [],
        "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 12, "output_tokens": 1}}}
    out = [sse("message_start", start),
           sse("content_block_start", {"type": "content_block_start", "index": 0,
                                       "content_block": {"type": "text", "text": ""}})]
    out += [sse("content_block_delta", {"type": "content_block_delta", "index": 0,
                                        "delta": {"type": "text_delta", "text": f"t{i} "}}) for i in range(n)]
    out += [sse("content_block_stop", {"type": "content_block_stop", "index": 0}),
            sse("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                                  "usage": {"output_tokens": n}}),
            sse("message_stop", {"type": "message_stop"})]
    return out


def openai_events(n: int) -> list[bytes]:
    def chunk(delta: dict, finish=None, usage=None) -> bytes:
        c = {"id": "chatcmpl-soak", "object": "chat.completion.chunk", "created": 1, "model": "gpt-up",
             "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        if usage is not None:
            c = dict(c, choices=[], usage=usage)
        return f"data: {json.dumps(c)}\n\n".encode()
    out = [chunk({"role": "assistant", "content": ""})]
    out += [chunk({"content": f"t{i} "}) for i in range(n)]
    out += [chunk({}, "stop"), chunk({}, usage={"prompt_tokens": 12, "completion_tokens": n, "total_tokens": 12 + n}),
            b"data: [DONE]\n\n"]
    return out


ANTHROPIC_JSON = json.dumps({
    "id": "msg_soak", "type": "message", "role": "assistant", "model": "claude-up",
    "content": [{"type": "text", "text": "soak"}], "stop_reason": "end_turn", "stop_sequence": None,
    "usage": {"input_tokens": 12, "output_tokens": 2}}).encode()
OPENAI_JSON = json.dumps({
    "id": "chatcmpl-soak", "object": "chat.completion", "created": 1, "model": "gpt-up",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "soak"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 12, "completion_tokens": 2, "total_tokens": 14}}).encode()


async def upstream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """One upstream connection: keep-alive requests until the peer closes."""
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            path = lines[0].split(b" ")[1].decode()
            length = 0
            for line in lines[1:]:
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            body = json.loads(await reader.readexactly(length) or b"{}")
            kind = path.split("/")[1]
            anthropic = path.endswith("/v1/messages")
            if kind == "e500":
                err = b'{"type":"error","error":{"type":"api_error","message":"injected"}}' if anthropic \
                    else b'{"error":{"message":"injected","type":"server_error"}}'
                writer.write(b"HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\n"
                             + f"content-length: {len(err)}\r\n\r\n".encode() + err)
                await writer.drain()
                continue
            if not body.get("stream"):
                if kind == "reset":
                    writer.transport.abort()
                    return
                if kind == "slow":
                    await asyncio.sleep(0.3)
                ans = ANTHROPIC_JSON if anthropic else OPENAI_JSON
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                             + f"content-length: {len(ans)}\r\n\r\n".encode() + ans)
                await writer.drain()
                continue
            events = anthropic_events(5) if anthropic else openai_events(5)
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
            for i, ev in enumerate(events):
                writer.write(f"{len(ev):x}\r\n".encode() + ev + b"\r\n")
                await writer.drain()
                if kind == "reset" and i == 1:
                    writer.transport.abort()
                    return
                if kind == "slow":
                    await asyncio.sleep(0.2)
            writer.write(b"0\r\n\r\n")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def config(mock_port: int) -> str:
    import hashlib
    sha = hashlib.sha256(KEY.encode()).hexdigest()
    m = f"http://127.0.0.1:{mock_port}"
    providers, models = [], []
    for kind in ("ok", "e500", "reset", "slow"):
        providers.append(f"  anth-{kind}: {{kind: anthropic, base_url: '{m}/{kind}', api_key: sk-ant-soak, "
                         f"timeouts: {{response_secs: 10, idle_secs: 10}}}}")
        providers.append(f"  oai-{kind}: {{kind: openai, base_url: '{m}/{kind}/v1', api_key: sk-oai-soak, "
                         f"timeouts: {{response_secs: 10, idle_secs: 10}}}}")
        models.append(f"  - {{name: claude-{kind}, provider: anth-{kind}, model: claude-up}}")
        models.append(f"  - {{name: gpt-{kind}, provider: oai-{kind}, model: gpt-up}}")
    return "\n".join([
        "discover_env: false",
        "router: {retries: 1, cooldown_secs: 1}",
        "providers:", *providers,
        "models:", *models,
        "keys:",
        f"  - {{name: soak, team: platform, key_sha256: {sha}, models: ['*'], rpm: 10000000, tpm: 10000000000}}",
        "prices:",
        "  anth-ok: {claude-up: {input: 3, output: 15}}",
        "  oai-ok: {gpt-up: {input: 2.5, output: 10}}",
    ]) + "\n"


async def call(port: int, caller: str, alias: str, stream: bool, cancel: bool) -> tuple[str, str]:
    """One call on its own connection; returns (verdict, detail)."""
    if caller == "anthropic":
        path = "/v1/messages"
        body = {"model": alias, "max_tokens": 64, "stream": stream, "messages": [{"role": "user", "content": "hi"}]}
        auth = f"x-api-key: {KEY}\r\nanthropic-version: 2023-06-01\r\n"
    else:
        path = "/v1/chat/completions"
        body = {"model": alias, "stream": stream, "messages": [{"role": "user", "content": "hi"}]}
        auth = f"authorization: Bearer {KEY}\r\n"
    data = json.dumps(body).encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(f"POST {path} HTTP/1.1\r\nhost: amux\r\ncontent-type: application/json\r\n{auth}"
                     f"content-length: {len(data)}\r\nconnection: close\r\n\r\n".encode() + data)
        await writer.drain()
        if cancel:
            await asyncio.wait_for(reader.read(200), 15)
            return "cancelled", ""
        raw = await asyncio.wait_for(reader.read(-1), 30)
    except asyncio.TimeoutError:
        return "unexpected", f"{caller} {alias} stream={stream}: no answer within the timeout"
    finally:
        writer.close()
    head, _, rest = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1]) if head.startswith(b"HTTP/1.1 ") else 0
    text = rest.decode(errors="replace")
    fault = alias.endswith(("-e500", "-reset"))
    if not fault:
        if stream:
            done = "event: message_stop" in text if caller == "anthropic" else "data: [DONE]" in text
        else:
            done = '"stop_reason"' in text if caller == "anthropic" else '"finish_reason"' in text
        ok = status == 200 and done and '"error"' not in text
    else:
        errored = ("event: error" in text) if caller == "anthropic" else ('"error"' in text)
        ok = status in (502, 503, 504) or (status == 200 and stream and errored)
    return ("ok" if ok else "unexpected"), f"{caller} {alias} stream={stream}: {status} {text[:300]!r}"


def pooled(mock_port: int) -> int:
    """Established connections to the mock upstream from the other side: amux's pooled ones."""
    n = 0
    for line in open("/proc/net/tcp").read().splitlines()[1:]:
        f = line.split()
        if int(f[2].split(":")[1], 16) == mock_port and f[3] == "01":
            n += 1
    return n


def proc_stats(pid: int, mock_port: int) -> dict:
    status = open(f"/proc/{pid}/status").read()
    rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) // 1024
    threads = int(re.search(r"Threads:\s+(\d+)", status).group(1))
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    up = pooled(mock_port)
    return {"rss_mib": rss, "fds": fds, "pooled_upstream": up, "other_fds": fds - up, "threads": threads}


def gauges(port: int) -> dict:
    import urllib.request
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    out = {}
    for name in ("amux_requests_in_flight", "amux_open_streams", "amux_connections_open"):
        vals = [float(m) for m in re.findall(rf"^{name}(?:{{[^}}]*}})? ([0-9.e+-]+)$", text, re.M)]
        out[name] = sum(vals)
    return out


def settled(g: dict) -> bool:
    return g["amux_requests_in_flight"] == 0 and g["amux_open_streams"] == 0 and g["amux_connections_open"] <= 1


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--amux", default=os.environ.get("AMUX_BIN", "target/release/amux"))
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--rate", type=float, default=40.0, help="calls per second")
    ap.add_argument("--cancel", type=float, default=0.1, help="share of calls the client hangs up on")
    ap.add_argument("--warmup", type=float, default=5.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rss-tolerance-mib", type=float, default=8.0)
    ap.add_argument("--fd-tolerance", type=int, default=2, help="file descriptors besides pooled upstream ones")
    args = ap.parse_args()
    rng = random.Random(args.seed)

    server = await asyncio.start_server(upstream, "127.0.0.1", 0)
    mock_port = server.sockets[0].getsockname()[1]
    port = free_port()
    tmp = tempfile.mkdtemp(prefix="amux-soak-")
    cfg = os.path.join(tmp, "amux.yaml")
    open(cfg, "w").write(config(mock_port))
    log_path = os.path.join(tmp, "amux.log")
    log = open(log_path, "w")
    env = dict(os.environ, RUST_LOG="info")
    proc = subprocess.Popen([args.amux, "serve", "--config", cfg, "--listen", f"127.0.0.1:{port}",
                             "--log-format", "json"], stdout=log, stderr=log, env=env)
    try:
        for _ in range(400):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                await asyncio.sleep(0.025)
        else:
            print("amux did not start; log:", open(log_path).read()[-2000:], file=sys.stderr)
            return 2

        aliases = [f"{p}-{k}" for p in ("claude", "gpt") for k in ("ok", "ok", "ok", "e500", "reset", "slow")]

        async def traffic(seconds: float) -> list[tuple[str, str]]:
            tasks: list[asyncio.Task] = []
            started = time.monotonic()
            n = 0
            while time.monotonic() - started < seconds:
                caller = rng.choice(("anthropic", "openai"))
                tasks.append(asyncio.create_task(call(port, caller, rng.choice(aliases), rng.random() < 0.5,
                                                      rng.random() < args.cancel)))
                n += 1
                await asyncio.sleep(max(0.0, started + n / args.rate - time.monotonic()))
            return list(await asyncio.gather(*tasks))

        async def settle() -> dict:
            # The metrics scrape's own connection is the one allowed to stay open.
            deadline = time.monotonic() + 20
            g = gauges(port)
            while time.monotonic() < deadline and not settled(g):
                await asyncio.sleep(0.1)
                g = gauges(port)
            return g

        # Both samples are taken once the traffic before them has ended and settled.
        results = await traffic(args.warmup)
        await settle()
        warm = proc_stats(proc.pid, mock_port)
        results += await traffic(args.duration)
        g = await settle()
        end = proc_stats(proc.pid, mock_port)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        server.close()
        log.close()

    lines = [json.loads(line) for line in open(log_path) if line.startswith("{")]
    usage = [rec for rec in lines if rec.get("target") == "amux::usage"]
    verdicts: dict[str, int] = {}
    for v, _ in results:
        verdicts[v] = verdicts.get(v, 0) + 1
    outcomes: dict[str, int] = {}
    for rec in usage:
        o = rec.get("fields", {}).get("outcome", "?")
        outcomes[o] = outcomes.get(o, 0) + 1
    unexpected = [d for v, d in results if v == "unexpected"]
    failures = []
    if unexpected:
        failures.append(f"{len(unexpected)} unexpected answers, e.g. {unexpected[:3]}")
    if len(usage) != len(results):
        failures.append(f"{len(usage)} usage lines for {len(results)} calls")
    if not settled(g):
        failures.append(f"still in flight after the traffic: {g}")
    if end["other_fds"] > warm["other_fds"] + args.fd_tolerance or end["threads"] > warm["threads"]:
        failures.append(f"fds/threads grew: warm {warm}, end {end}")
    if end["rss_mib"] > warm["rss_mib"] + args.rss_tolerance_mib:
        failures.append(f"RSS grew more than {args.rss_tolerance_mib} MiB: warm {warm}, end {end}")
    report = {"calls": len(results), "duration_s": args.warmup + args.duration, "rate": args.rate, "answers": verdicts,
              "usage_lines": len(usage), "outcomes": outcomes, "after_warmup_settled": warm, "end": end, "gauges_end": g}
    print(json.dumps(report, indent=2))
    for f in failures:
        print("soak: " + f, file=sys.stderr)
    if not failures:
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        print(f"soak: amux log kept in {log_path}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
