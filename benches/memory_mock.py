#!/usr/bin/env python3
"""Pathological upstream for benches/memory-probes.sh (loopback only): answers every OpenAI Chat
request with a huge answer generated on the fly, never held in memory.

  POST .../chat/completions with "stream": true  -> one normal chunk, then one SSE line of
                                                    LINE_MB megabytes with no newline, then close
  POST .../chat/completions otherwise            -> a JSON answer of BODY_MB megabytes
                                                    (Content-Length set; chunked, with no
                                                    Content-Length, under /chunked/)

Usage: memory_mock.py PORT LINE_MB BODY_MB
"""
import json
import socketserver
import sys
from http.server import BaseHTTPRequestHandler

PORT, LINE_MB, BODY_MB = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
PIECE = b"x" * (64 * 1024)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.send_response(200)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def do_POST(self):
        n = int(self.headers.get("content-length", "0"))
        body = json.loads(self.rfile.read(n) or b"{}")
        try:
            if body.get("stream"):
                self.stream()
            else:
                self.whole()
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def stream(self):
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        first = {"id": "c1", "object": "chat.completion.chunk", "model": "m",
                 "choices": [{"index": 0, "delta": {"role": "assistant", "content": "hi"}}]}
        self.chunk(b"data: " + json.dumps(first).encode() + b"\n\n")
        self.chunk(b'data: {"id":"c1","choices":[{"index":0,"delta":{"content":"')
        for _ in range(LINE_MB * 16):
            self.chunk(PIECE)
        self.wfile.write(b"0\r\n\r\n")

    def whole(self):
        chunked = self.path.startswith("/chunked/")
        head = b'{"id":"c1","object":"chat.completion","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"'
        tail = b'"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1}}'
        pieces = BODY_MB * 16
        self.send_response(200)
        self.send_header("content-type", "application/json")
        if chunked:
            self.send_header("transfer-encoding", "chunked")
        else:
            self.send_header("content-length", str(len(head) + pieces * len(PIECE) + len(tail)))
        self.end_headers()
        write = self.chunk if chunked else self.wfile.write
        write(head)
        for _ in range(pieces):
            write(PIECE)
        write(tail)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    allow_reuse_address = True
    daemon_threads = True


Server(("127.0.0.1", PORT), Handler).serve_forever()
