#!/usr/bin/env python3
"""benches/streams.py: amux's memory with many streams open at once, and after they end.

A mock Anthropic upstream (asyncio, stdlib only) answers every call with a stream that drips one
event every DRIP seconds for EVENTS events; N clients open streaming calls through amux at once
(same-dialect, Anthropic caller, and with --translated an OpenAI caller) and read them to the end.
amux's VmRSS is sampled while all streams are open (the peak) and again after they ended and the
process settled, for two waves in a row (the second shows whether memory keeps growing).
Everything on 127.0.0.1.

    benches/streams.py [--amux target/release/amux] [-n 1000] [--events 10] [--drip 1.0] [--translated]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

START = {
    "type": "message_start",
    "message": {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-up", "content": [],
                "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 10, "output_tokens": 1}},
}


def sse(name: str, data: dict) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


async def upstream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, events: int, drip: float) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")

            def chunk(b: bytes) -> None:
                writer.write(f"{len(b):x}\r\n".encode() + b + b"\r\n")

            chunk(sse("message_start", START))
            chunk(sse("content_block_start", {"type": "content_block_start", "index": 0,
                                              "content_block": {"type": "text", "text": ""}}))
            for _ in range(events):
                await writer.drain()
                await asyncio.sleep(drip)
                chunk(sse("content_block_delta", {"type": "content_block_delta", "index": 0,
                                                  "delta": {"type": "text_delta", "text": "tick "}}))
            chunk(sse("content_block_stop", {"type": "content_block_stop", "index": 0}))
            chunk(sse("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn",
                                                                           "stop_sequence": None},
                                        "usage": {"output_tokens": events}}))
            chunk(sse("message_stop", {"type": "message_stop"}))
            writer.write(b"0\r\n\r\n")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def client(port: int, translated: bool, done: list[int]) -> None:
    if translated:
        path, body = "/v1/chat/completions", {"model": "claude-drip", "stream": True,
                                              "messages": [{"role": "user", "content": "hi"}]}
        marker = b"[DONE]"
    else:
        path, body = "/v1/messages", {"model": "claude-drip", "max_tokens": 64, "stream": True,
                                      "messages": [{"role": "user", "content": "hi"}]}
        marker = b"message_stop"
    raw = json.dumps(body).encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"POST {path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                 f"content-length: {len(raw)}\r\nconnection: close\r\n\r\n".encode() + raw)
    await writer.drain()
    data = await reader.read()
    writer.close()
    if marker in data:
        done[0] += 1


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--amux", default=os.environ.get("AMUX_BIN", "target/release/amux"))
    ap.add_argument("-n", type=int, default=1000)
    ap.add_argument("--events", type=int, default=10)
    ap.add_argument("--drip", type=float, default=1.0)
    ap.add_argument("--translated", action="store_true")
    ap.add_argument("--waves", type=int, default=2)
    a = ap.parse_args()
    up_port, amux_port = free_port(), free_port()
    server = await asyncio.start_server(lambda r, w: upstream(r, w, a.events, a.drip), "127.0.0.1", up_port,
                                        backlog=4096)
    tmp = tempfile.mkdtemp()
    cfg = os.path.join(tmp, "amux.yaml")
    with open(cfg, "w") as f:
        f.write(f"discover_env: false\nproviders:\n  drip: {{kind: anthropic, base_url: 'http://127.0.0.1:{up_port}',"
                f" api_key: sk}}\nmodels:\n  - {{name: claude-drip, provider: drip, model: claude-up}}\n"
                # Room for every stream at once (the defaults shed past 256 calls in flight).
                f"limits: {{max_in_flight: {a.n + 64}, max_connections: {2 * a.n + 64}}}\n")
    env = dict(os.environ, RUST_LOG="warn")
    proc = subprocess.Popen([a.amux, "serve", "--config", cfg, "--listen", f"127.0.0.1:{amux_port}"], env=env)
    try:
        for _ in range(400):
            try:
                r, w = await asyncio.open_connection("127.0.0.1", amux_port)
                w.write(b"GET /health/readiness HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
                await w.drain()
                if b" 200 " in (await r.read())[:20]:
                    break
            except OSError:
                pass
            await asyncio.sleep(0.05)
        idle = rss_kib(proc.pid)
        kind = "translated (OpenAI caller)" if a.translated else "same-dialect (Anthropic caller)"
        ok = True
        # Two waves: the second shows whether memory keeps growing once the first has ended.
        for wave in range(1, a.waves + 1):
            done = [0]
            t0 = time.monotonic()
            tasks = [asyncio.create_task(client(amux_port, a.translated, done)) for _ in range(a.n)]
            peak = idle
            while not all(t.done() for t in tasks):
                peak = max(peak, rss_kib(proc.pid))
                await asyncio.sleep(0.2)
            took = time.monotonic() - t0
            await asyncio.sleep(6)  # past the gateway upkeep (5 s) that trims the heap
            after = rss_kib(proc.pid)
            print(f"wave {wave}: {a.n} streams, {kind}, {a.events} events {a.drip}s apart: {done[0]} complete in "
                  f"{took:.1f}s; VmRSS idle {idle / 1024:.1f} MiB, peak {peak / 1024:.1f} MiB, "
                  f"6s after {after / 1024:.1f} MiB")
            ok = ok and done[0] == a.n
        return 0 if ok else 1
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        server.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
