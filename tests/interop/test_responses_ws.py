"""Responses over WebSocket (`GET /v1/responses` upgraded) with a plain client (the `websockets`
package): turns against upstreams of other dialects, the same events as the SSE stream, reconnects,
concurrent turns refused, oversized and malformed messages answered with an error message, the
key checked at the upgrade and again per turn (after a reload removed it), and a dropped socket
cancelling the turn in flight upstream. Everything listens on 127.0.0.1; every wait is bounded.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import CHAT_ALIAS, GEMINI_ALIAS, amux_binary, config_yaml, free_port, _ready
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

KEY = "ws-interop-key"
TIMEOUT = 20


def ws_url(base: str) -> str:
    return base.replace("http://", "ws://") + "/v1/responses"


def create(model: str, text: str = "Say hi", **extra) -> str:
    body = {"type": "response.create", "model": model, "input": [{"role": "user", "content": text}],
            "stream": True, "store": False}
    body.update(extra)
    return json.dumps(body)


def turn(ws, message: str) -> list[dict]:
    """Sends one message; returns the events up to the turn's end (or its error)."""
    ws.send(message)
    events = []
    while True:
        ev = json.loads(ws.recv(timeout=TIMEOUT))
        events.append(ev)
        if ev["type"] in ("response.completed", "response.failed", "response.incomplete", "error"):
            return events


def sse_types(base: str, model: str) -> list[str]:
    req = urllib.request.Request(base + "/v1/responses", method="POST", data=json.dumps(
        {"model": model, "input": [{"role": "user", "content": "Say hi"}], "stream": True, "store": False}).encode(),
        headers={"content-type": "application/json", "authorization": "Bearer any"})
    types = []
    with urllib.request.urlopen(req, timeout=TIMEOUT) as r:
        for line in r.read().decode().splitlines():
            if line.startswith("data: ") and line != "data: [DONE]":
                types.append(json.loads(line[6:])["type"])
    return types


@pytest.mark.parametrize("model", [CHAT_ALIAS, GEMINI_ALIAS])
def test_turns_carry_the_sse_events_and_chain(gateway, mock, model):
    with connect(ws_url(gateway.url), open_timeout=TIMEOUT) as ws:
        first = turn(ws, create(model))
        assert first[-1]["type"] == "response.completed", first
        assert [e["type"] for e in first] == sse_types(gateway.url, model)
        # The next turn names the first and sends only its new item; the upstream gets all of it.
        prev = first[-1]["response"]["id"]
        second = turn(ws, create(model, "And again", previous_response_id=prev))
        assert second[-1]["type"] == "response.completed", second
    last = mock.requests[-1]
    text = json.dumps(last["body"])
    assert "Say hi" in text and "And again" in text, last


def test_reconnect_starts_fresh(gateway, mock):
    with connect(ws_url(gateway.url), open_timeout=TIMEOUT) as ws:
        prev = turn(ws, create(CHAT_ALIAS))[-1]["response"]["id"]
    with connect(ws_url(gateway.url), open_timeout=TIMEOUT) as ws:
        ev = turn(ws, create(CHAT_ALIAS, previous_response_id=prev))[-1]
        assert ev["type"] == "error" and ev["error"]["code"] == "previous_response_not_found", ev
        assert turn(ws, create(CHAT_ALIAS))[-1]["type"] == "response.completed"


def test_concurrent_turn_is_refused_and_the_first_goes_on(gateway, mock):
    with connect(ws_url(gateway.url), open_timeout=TIMEOUT) as ws:
        ws.send(create(CHAT_ALIAS))
        ws.send(create(CHAT_ALIAS))
        seen, refused = [], None
        while not seen or seen[-1]["type"] != "response.completed":
            ev = json.loads(ws.recv(timeout=TIMEOUT))
            if ev["type"] == "error":
                refused = ev
            else:
                seen.append(ev)
        assert refused and refused["status"] == 409 and refused["error"]["code"] == "concurrent_response", refused
    assert len([r for r in mock.requests if r["path"] == "/v1/chat/completions"]) == 1


def test_malformed_and_oversized_messages_get_an_error_and_the_socket_stays(gateway, mock):
    with connect(ws_url(gateway.url), open_timeout=TIMEOUT, max_size=None) as ws:
        for msg, code in [
            ("not json", "invalid_json"),
            (json.dumps([1, 2]), "invalid_message"),
            (json.dumps({"model": CHAT_ALIAS}), "invalid_message"),
            (json.dumps({"type": "session.update"}), "unsupported_message"),
            (b"\x00\x01binary", "unsupported_message"),
            (create(CHAT_ALIAS, "x" * (33 * 1024 * 1024)), "message_too_large"),
        ]:
            ws.send(msg)
            ev = json.loads(ws.recv(timeout=TIMEOUT))
            assert ev["type"] == "error" and ev["error"]["code"] == code, (code, ev)
            assert ev["status"] in (400, 413), ev
        # A model the gateway does not know: the HTTP error, as an error message.
        ev = turn(ws, create("no-such-model"))[-1]
        assert ev["type"] == "error" and ev["status"] == 404, ev
        assert turn(ws, create(CHAT_ALIAS))[-1]["type"] == "response.completed"


class SlowChat(http.server.BaseHTTPRequestHandler):
    """An OpenAI-compatible Chat server that starts a stream and then only sends keep-alives for
    up to 15 s, noting when its client went away."""

    disconnected = threading.Event()
    started = threading.Event()

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.end_headers()
        chunk = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "slow",
                 "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hel"}, "finish_reason": None}]}
        try:
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
            SlowChat.started.set()
            for _ in range(150):
                time.sleep(0.1)
                self.wfile.write(b": keep-alive\n\n")
                self.wfile.flush()
        except OSError:
            SlowChat.disconnected.set()

    def log_message(self, *a):
        pass


@pytest.fixture
def keyed(tmp_path: Path, mock_server):
    """A second amux with one key and a slow upstream (`slow-mock`), its config file watched."""
    slow = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SlowChat)
    threading.Thread(target=slow.serve_forever, daemon=True).start()
    config = tmp_path / "amux.yaml"
    keys = f"keys:\n  - {{name: ws, key_sha256: {hashlib.sha256(KEY.encode()).hexdigest()}}}\n"
    base = config_yaml(mock_server.port).replace("providers:\n", f"""providers:
  slow:
    kind: vllm
    base_url: "http://127.0.0.1:{slow.server_address[1]}/v1"
    api_key: x
""", 1) + "  - {name: slow-mock, provider: slow, model: slow}\n"
    base += "lifecycle: {shutdown_delay_secs: 0, drain_timeout_secs: 2}\n"
    config.write_text(base + keys)
    port = free_port()
    log = tmp_path / "amux.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(amux_binary()), "serve", "--config", str(config), "--listen", f"127.0.0.1:{port}"],
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env={"PATH": "/usr/bin:/bin", "RUST_LOG": "info"})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not _ready(url):
        assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)
    try:
        yield url, config, base, log, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=10)
        slow.shutdown()


def test_graceful_shutdown_closes_idle_sockets_and_cuts_turns_at_the_deadline(keyed):
    """SIGTERM: an idle socket closes at once (1001); a turn in flight runs until the drain
    deadline (2 s here), then ends with `response.failed` (the stream's own error event); then the
    process exits."""
    url, _, _, log, proc = keyed
    SlowChat.started.clear()
    auth = {"authorization": f"Bearer {KEY}"}
    with connect(ws_url(url), open_timeout=TIMEOUT, additional_headers=auth) as idle, \
            connect(ws_url(url), open_timeout=TIMEOUT, additional_headers=auth) as busy:
        busy.send(create("slow-mock"))
        assert json.loads(busy.recv(timeout=TIMEOUT))["type"] == "response.created"
        assert SlowChat.started.wait(TIMEOUT)
        proc.terminate()
        with pytest.raises(ConnectionClosed) as closed:
            idle.recv(timeout=5)
        assert closed.value.rcvd.code == 1001, closed.value
        events = []
        with pytest.raises(ConnectionClosed):
            while True:
                events.append(json.loads(busy.recv(timeout=10)))
        assert events and events[-1]["type"] == "response.failed" and "shutting down" in json.dumps(events[-1]), events
    assert proc.wait(timeout=10) == 0, log.read_text()


def test_key_checked_at_upgrade_and_per_turn(keyed):
    url, config, base, log, _ = keyed
    with pytest.raises(InvalidStatus) as e:
        connect(ws_url(url), open_timeout=TIMEOUT, additional_headers={"authorization": "Bearer wrong"})
    assert e.value.response.status_code == 401
    with connect(ws_url(url), open_timeout=TIMEOUT, additional_headers={"authorization": f"Bearer {KEY}"}) as ws:
        assert turn(ws, create(CHAT_ALIAS))[-1]["type"] == "response.completed"
        # The key is removed by a reload: the open socket's next turn is refused.
        # Replaced whole (a rename), so the watcher never reads a half-written file.
        staged = config.with_suffix(".next")
        staged.write_text(base + "keys:\n  - {name: other, key_sha256: " + "0" * 64 + "}\n")
        staged.replace(config)
        deadline = time.monotonic() + 15
        while True:
            ev = turn(ws, create(CHAT_ALIAS))[-1]
            if ev["type"] == "error" or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert ev["type"] == "error" and ev["status"] == 401, ev


def test_dropped_socket_cancels_the_turn_upstream(keyed):
    url, _, _, log, _ = keyed
    SlowChat.disconnected.clear()
    SlowChat.started.clear()
    with connect(ws_url(url), open_timeout=TIMEOUT, additional_headers={"authorization": f"Bearer {KEY}"}) as ws:
        ws.send(create("slow-mock"))
        assert json.loads(ws.recv(timeout=TIMEOUT))["type"] == "response.created"
        assert SlowChat.started.wait(TIMEOUT)
    assert SlowChat.disconnected.wait(10), "the upstream call went on after the socket closed"
    deadline = time.monotonic() + 10
    while "outcome=client_disconnected" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "outcome=client_disconnected" in log.read_text()
