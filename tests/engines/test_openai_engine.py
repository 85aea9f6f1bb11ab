"""The openai engine's HTTP client: request mapping, retries, key handling, order.

These run a few-line HTTP server on 127.0.0.1 that answers like an OpenAI-compatible
one but can be told to fail, to exercise the client's retry and error paths (which a
healthy real server never takes). The engine against a real server (vLLM's, started by
the test, killed and restarted mid-shard) is tests/vllm_cpu/test_openai_server.py.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dart.engines import get_engine
from dart.engines.base import Request, SamplingParams
from dart.engines.openai import request_body
from dart.errors import DartError


class _Server:
    """Echoes ``"<prompt>|<seed>"`` as the completion; fails the first POSTs on demand."""

    def __init__(self, failures: list[int] | None = None) -> None:
        self.failures = list(failures or [])
        self.bodies: list[dict] = []
        self.auth: list[str | None] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _send(self, code: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                if self.path == "/v1/models":
                    self._send(200, {"data": [{"id": "smol", "owned_by": "test", "root": "/m"}]})
                elif self.path == "/version":
                    self._send(200, {"version": "9.9.9"})
                else:
                    self._send(404, {"error": "no"})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.auth.append(self.headers.get("Authorization"))
                if outer.failures:
                    self._send(outer.failures.pop(0), {"error": {"message": "busy"}})
                    return
                outer.bodies.append(body)
                text = f"{body['prompt']}|{body['seed']}"
                self._send(200, {
                    "choices": [{"text": text, "finish_reason": "stop", "index": 0}],
                    "usage": {"prompt_tokens": 3, "completion_tokens": len(text)},
                })  # fmt: skip

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def server():
    found = _Server()
    yield found
    found.close()


PARAMS = SamplingParams(temperature=1.0, top_p=0.95, max_new_tokens=16, stop=("User:",))


def _engine(url: str, model, **options):
    return get_engine("openai", str(model), base_url=url, backoff=0.01, **options)


def test_request_body_maps_every_field():
    params = SamplingParams(temperature=0.7, top_p=0.9, top_k=20, min_p=0.05, max_new_tokens=64,
                            stop=("User:", "Assistant:"))  # fmt: skip
    assert request_body("smol", "Q?", params, 12345678901) == {
        "model": "smol", "prompt": "Q?", "n": 1, "seed": 12345678901, "temperature": 0.7,
        "top_p": 0.9, "max_tokens": 64, "stream": False, "stop": ["User:", "Assistant:"],
        "top_k": 20, "min_p": 0.05,
    }  # fmt: skip
    off = request_body("smol", "Q?", SamplingParams(temperature=0.0), 1)
    assert "top_k" not in off and "min_p" not in off and "stop" not in off


def test_order_seeds_and_provenance(server, tmp_path, monkeypatch):
    monkeypatch.setenv("DART_TEST_KEY", "sk-secret-123")
    engine = _engine(server.url, tmp_path, api_key_env="DART_TEST_KEY", concurrency=3)
    requests = [Request(f"r{i}", f"p{i}", 100 + i) for i in range(10)]
    done = engine.generate(requests, PARAMS)
    assert [c.request_id for c in done] == [r.request_id for r in requests]
    assert [c.text for c in done] == [f"p{i}|{100 + i}" for i in range(10)]
    assert sorted(b["seed"] for b in server.bodies) == list(range(100, 110))
    assert set(server.auth) == {"Bearer sk-secret-123"}
    described = engine.describe()
    assert described["served_model"] == "smol" and described["server_version"] == "9.9.9"
    assert "sk-secret-123" not in json.dumps(described)
    assert described["api_key_env"] == "DART_TEST_KEY"


def test_429_and_5xx_are_retried(tmp_path):
    server = _Server(failures=[429, 503, 500])
    try:
        engine = _engine(server.url, tmp_path, concurrency=1, max_retries=3)
        [done] = engine.generate([Request("a", "p", 7)], PARAMS)
        assert done.text == "p|7" and len(server.auth) == 4
    finally:
        server.close()


def test_retries_run_out_or_a_400_stops_at_once(tmp_path):
    server = _Server(failures=[503, 503, 503, 400])
    try:
        engine = _engine(server.url, tmp_path, concurrency=1, max_retries=2)
        with pytest.raises(DartError, match=r"request a: gave up after 3 attempt\(s\).*HTTP 503"):
            engine.generate([Request("a", "p", 7)], PARAMS)
        with pytest.raises(DartError, match="request b: HTTP 400"):
            engine.generate([Request("b", "p", 7)], PARAMS)
    finally:
        server.close()


def test_connection_refused_names_the_url(tmp_path):
    server = _Server()
    url = server.url
    server.close()
    with pytest.raises(DartError, match="GET /models: gave up after 2 attempt"):
        _engine(url, tmp_path, max_retries=1)


def test_unknown_served_model_is_refused(server, tmp_path):
    with pytest.raises(DartError, match="does not serve 'other'"):
        _engine(server.url, tmp_path, served_model="other")
