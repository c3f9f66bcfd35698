"""A mock LLM upstream that speaks Anthropic Messages, OpenAI Chat, OpenAI Responses and Gemini.

One server answers all four dialects, streaming and not, the way the providers do:

- ``POST /v1/messages`` (+ ``/count_tokens``; Anthropic, mock_anthropic.py),
  ``POST /v1/chat/completions`` (OpenAI Chat, mock_openai.py), ``POST /v1/responses``
  (+ ``/input_tokens``; OpenAI Responses, mock_responses.py) and
  ``POST /v1beta/models/{m}:generateContent|streamGenerateContent|countTokens`` (Gemini,
  mock_gemini.py, key in ``x-goog-api-key`` or ``?key=``); what the "model" answers is in
  mock_model.py. Token counters answer ``COUNT_BASE`` plus one per word of the request's texts.
- Plain requests get a text answer. When the request offers tools and the last user turn holds no
  tool result, the mock calls a tool: one the user text asks for ("call the NAME tool [with
  {json}]") or a ``get_weather``-style tool, once per city named in the last user text (two
  cities -> two parallel calls). When the last turn holds tool results, the answer is text that
  quotes each result with its tool id.
- Usage is fixed per dialect (``ANTHROPIC_USAGE``, ``OPENAI_USAGE``, ``RESPONSES_USAGE``,
  ``GEMINI_USAGE``) so tests can check its translation.
- Streams are sent incrementally as SSE with chunked transfer encoding; OpenAI Chat streams send
  the ``include_usage`` chunk when asked and end with ``data: [DONE]``; Responses streams carry
  the full event lifecycle with sequence numbers; Gemini streams need ``?alt=sse``.
- Requests are checked the way the providers check them (API key, ``anthropic-version``, tool
  call / tool result pairing, ``stream_options`` without ``stream``) and refused in the
  provider's error shape. Some model names fail on purpose: ``...does-not-exist...`` (404),
  ``context-overflow`` (the provider's context-length 400), ``error-<status>``, and
  ``midstream-error`` (a stream that breaks off with the provider's in-stream error).
- Every request is recorded: ``GET /_requests`` returns them (method, path, query, lowercased
  headers, parsed body, raw body text); ``POST /_reset`` clears them.

Run standalone with ``python mock_upstream.py --port 8999``.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import mock_anthropic
import mock_gemini
import mock_model as m
import mock_openai
import mock_responses
from mock_model import (  # noqa: F401 - re-exported for the tests
    ANTHROPIC_TEXT,
    ANTHROPIC_USAGE,
    GEMINI_TEXT,
    GEMINI_USAGE,
    OPENAI_TEXT,
    OPENAI_USAGE,
    RESPONSES_TEXT,
    RESPONSES_USAGE,
    THINKING_SIGNATURE,
    THINKING_TEXT,
    TOOL_RESULT_PREFIX,
)

API_KEY = "test-key"


class MockHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: MockServer

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    # -- plumbing

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            data = b""
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send_json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _start_sse(self, headers: dict[str, str]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.flush()

    def _send_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _end_chunks(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _record(self, raw: bytes) -> dict[str, Any]:
        parts = urlsplit(self.path)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        rec = {
            "method": self.command,
            "path": parts.path,
            "query": parts.query,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body,
            "raw": raw.decode("utf-8", "replace"),
        }
        with self.server.lock:
            self.server.requests.append(rec)
        return rec

    # -- routes

    def do_HEAD(self) -> None:
        self._record(b"")
        self._send_json(200, {})

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/_requests":
            with self.server.lock:
                snapshot = list(self.server.requests)
            self._send_json(200, snapshot)
            return
        self._record(b"")
        if path in ("/v1/models", "/models"):
            if "anthropic-version" in {k.lower() for k in self.headers}:
                data = [
                    {
                        "type": "model",
                        "id": "mock-claude",
                        "display_name": "Mock Claude",
                        "created_at": "2025-01-01T00:00:00Z",
                    }
                ]
                self._send_json(
                    200, {"data": data, "has_more": False, "first_id": "mock-claude", "last_id": "mock-claude"}
                )
            else:
                data = [{"id": "mock-gpt", "object": "model", "created": 1735689600, "owned_by": "mock"}]
                self._send_json(200, {"object": "list", "data": data})
            return
        if path == "/v1beta/models":
            data = [{"name": "models/mock-gemini", "displayName": "Mock Gemini", "supportedGenerationMethods": []}]
            self._send_json(200, {"models": data})
            return
        if path in ("/", "/health"):
            self._send_json(200, {"ok": True})
            return
        self._send_json(404, {"error": {"message": f"no route {path}", "type": "not_found_error"}})

    def do_POST(self) -> None:
        raw = self._read_body()
        path = urlsplit(self.path).path
        if path == "/_reset":
            with self.server.lock:
                self.server.requests.clear()
            self._send_json(200, {"ok": True})
            return
        rec = self._record(raw)
        if path in ("/v1/messages", "/messages"):
            self._anthropic(rec)
        elif path in ("/v1/messages/count_tokens", "/messages/count_tokens"):
            self._anthropic(rec, count=True)
        elif path in ("/v1/chat/completions", "/chat/completions"):
            self._openai(rec)
        elif path in ("/v1/responses", "/responses"):
            self._responses(rec)
        elif path in ("/v1/responses/input_tokens", "/responses/input_tokens"):
            self._responses(rec, count=True)
        elif path.startswith("/v1beta/models/") and ":" in path:
            model, _, method = path.removeprefix("/v1beta/models/").rpartition(":")
            self._gemini(rec, model, method)
        else:
            self._send_json(404, {"error": {"message": f"no route {path}", "type": "not_found_error"}})

    def _anthropic(self, rec: dict[str, Any], count: bool = False) -> None:
        h = rec["headers"]
        headers = {"request-id": "req_01" + m.rand_id(22), "anthropic-organization-id": "mock-org"}
        try:
            key = h.get("x-api-key") or h.get("authorization", "").removeprefix("Bearer ").strip()
            if not key:
                raise m.ApiFailure(401, "authentication_error", "x-api-key header is required")
            if key != self.server.api_key:
                raise m.ApiFailure(401, "authentication_error", "invalid x-api-key")
            if not h.get("anthropic-version"):
                raise m.ApiFailure(400, "invalid_request_error", "anthropic-version: header is required")
            body = rec["body"]
            if body is None:
                raise m.ApiFailure(400, "invalid_request_error", "There was an issue with the JSON body")
            # A beta call (client.beta.messages.create) takes the beta request fields.
            beta = "beta=true" in rec["query"] or bool(h.get("anthropic-beta"))
            if count:
                self._send_json(200, mock_anthropic.count_tokens(body, beta), headers)
                return
            mock_anthropic.validate(body, beta)
            m.model_failure("anthropic", body["model"])
            ans = mock_anthropic.decide(body)
        except m.ApiFailure as f:
            rec["refused"] = f"{f.status} {f.message}"
            self._send_json(f.status, mock_anthropic.error_body(f), headers)
            return
        if not body.get("stream"):
            self._send_json(200, mock_anthropic.message(body, ans), headers)
            return
        self._start_sse(headers)
        for event, data in mock_anthropic.events(body, ans):
            self._send_chunk(f"event: {event}\ndata: {json.dumps(data)}\n\n".encode())
        self._end_chunks()

    def _openai_auth(self, rec: dict[str, Any]) -> None:
        auth = rec["headers"].get("authorization", "")
        if not auth.startswith("Bearer ") or auth.removeprefix("Bearer ").strip() != self.server.api_key:
            raise m.ApiFailure(401, "invalid_request_error", "Incorrect API key provided.", "invalid_api_key")

    def _openai(self, rec: dict[str, Any]) -> None:
        headers = {"x-request-id": "req_" + m.rand_id(24), "openai-processing-ms": "1"}
        try:
            self._openai_auth(rec)
            body = rec["body"]
            if body is None:
                raise m.ApiFailure(400, "invalid_request_error", "We could not parse the JSON body of your request.")
            mock_openai.validate(body)
            m.model_failure("openai", body["model"])
            ans = mock_openai.decide(body)
        except m.ApiFailure as f:
            rec["refused"] = f"{f.status} {f.message}"
            self._send_json(f.status, mock_openai.error_body(f), headers)
            return
        if not body.get("stream"):
            self._send_json(200, mock_openai.completion(body, ans), headers)
            return
        self._start_sse(headers)
        for c in mock_openai.chunks(body, ans):
            self._send_chunk(f"data: {json.dumps(c)}\n\n".encode())
        if not ans.midstream_error:
            self._send_chunk(b"data: [DONE]\n\n")
        self._end_chunks()


    def _responses(self, rec: dict[str, Any], count: bool = False) -> None:
        headers = {"x-request-id": "req_" + m.rand_id(24), "openai-processing-ms": "1"}
        try:
            self._openai_auth(rec)
            body = rec["body"]
            if body is None:
                raise m.ApiFailure(400, "invalid_request_error", "We could not parse the JSON body of your request.")
            if count:
                body.setdefault("model", "counted")
                mock_responses.validate(body)
                self._send_json(200, mock_responses.input_tokens(body), headers)
                return
            mock_responses.validate(body)
            m.model_failure("responses", body["model"])
            ans = mock_responses.decide(body)
        except m.ApiFailure as f:
            rec["refused"] = f"{f.status} {f.message}"
            self._send_json(f.status, mock_responses.error_body(f), headers)
            return
        if not body.get("stream"):
            self._send_json(200, mock_responses.respond(body, ans), headers)
            return
        self._start_sse(headers)
        for e in mock_responses.events(body, ans):
            self._send_chunk(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode())
        self._end_chunks()

    def _gemini(self, rec: dict[str, Any], model: str, method: str) -> None:
        query = parse_qs(rec["query"])
        try:
            key = rec["headers"].get("x-goog-api-key") or (query.get("key") or [""])[0]
            if not key:
                raise m.ApiFailure(
                    403,
                    "PERMISSION_DENIED",
                    "Method doesn't allow unregistered callers (callers without established identity). "
                    "Please use API Key or other form of API consumer identity to call this API.",
                )
            if key != self.server.api_key:
                raise m.ApiFailure(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.")
            if method not in ("generateContent", "streamGenerateContent", "countTokens"):
                raise m.ApiFailure(404, "NOT_FOUND", f"Method not found: {method}")
            if rec["body"] is None:
                raise m.ApiFailure(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
            if method != "countTokens":
                mock_gemini.unknown_field(rec["body"])
            body = mock_gemini.camel(rec["body"])
            m.model_failure("gemini", model)
            if method == "countTokens":
                self._send_json(200, mock_gemini.count_tokens(body))
                return
            mock_gemini.validate(body)
            ans = mock_gemini.decide(body, model)
        except m.ApiFailure as f:
            rec["refused"] = f"{f.status} {f.message}"
            self._send_json(f.status, mock_gemini.error_body(f))
            return
        if method == "generateContent":
            self._send_json(200, mock_gemini.response(model, ans))
            return
        if query.get("alt") != ["sse"]:
            # Without alt=sse the API streams one JSON array; amux and the SDKs always ask for SSE.
            self._send_json(200, list(mock_gemini.chunks(model, ans)))
            return
        self._start_sse({})
        for c in mock_gemini.chunks(model, ans):
            self._send_chunk(f"data: {json.dumps(c)}\r\n\r\n".encode())
        self._end_chunks()


class MockServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr: tuple[str, int], api_key: str = API_KEY, verbose: bool = False):
        super().__init__(addr, MockHandler)
        self.api_key = api_key
        self.verbose = verbose
        self.lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # a client that hung up (keep-alive close, cancelled stream) is no error
        super().handle_error(request, client_address)

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def recorded(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.requests)

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()


def start(port: int = 0, api_key: str = API_KEY) -> tuple[MockServer, threading.Thread]:
    """Start a mock on 127.0.0.1:port (0 = a free port) in a daemon thread."""
    server = MockServer(("127.0.0.1", port), api_key)
    thread = threading.Thread(target=server.serve_forever, name="mock-upstream", daemon=True)
    thread.start()
    return server, thread


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=8999)
    ap.add_argument("--api-key", default=API_KEY)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    server = MockServer(("127.0.0.1", args.port), args.api_key, args.verbose)
    print(f"mock upstream listening on {server.url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
