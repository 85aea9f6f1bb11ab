"""The ``openai`` engine: generation on any OpenAI-compatible server over HTTP.

For an inference fleet that already serves the model (vLLM, SGLang, TGI, llama.cpp's
server): each trial is one ``POST {base_url}/completions`` with ``n=1``, the trial's own
``seed``, the sampling settings and the stop strings, so a trial's text depends on its
prompt and seed as with the in-process engines (how exactly a server honours a seed is
the server's business: vLLM does per request). Requests run ``concurrency`` at a time;
429, 5xx, connection errors and timeouts (``timeout`` seconds per request) are retried
``max_retries`` times, after the server's ``Retry-After`` where it sends one, else after
an exponential backoff (``backoff`` seconds, doubled each time, at most 30 s); either
wait is stretched by a random 0-25% so that many workers do not retry in lock-step.
Anything else stops the run with the server's message. The chunked, resumable shard
writing is the caller's (:mod:`dart.engines.runner`): a server that dies mid-shard loses
at most the requests in flight, and a rerun redoes only those.

On SIGTERM/SIGINT (``dart.signals.Interrupted`` in the main thread) or any error, no
further request is sent: the workers are daemon threads that stop taking requests,
the ones in flight are abandoned (the process does not wait for them), and the
completions that arrived before are attached to the exception
(:func:`dart.engines.base.keep_completed`) for the runner to keep.

The model folder given as ``model`` supplies the tokenizer (chat templates) and the
provenance; the server's model is ``served_model`` (default: the only model the server
lists). The API key is read from the environment variable named by ``api_key_env``
(default: no key is sent); a variable named there that is unset or empty is refused when
the engine starts, naming it. Only that variable's name is recorded, never the key. Only the standard library is used for HTTP.

    dart generate --engine openai --model results/models/smollm2 \\
        --engine-options-json '{"base_url": "http://127.0.0.1:8000/v1"}' ...
"""

from __future__ import annotations

import email.utils
import http.client
import json
import logging
import os
import queue
import random
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from dart.engines.base import (
    Completion,
    Engine,
    ProgressFn,
    Request,
    SamplingParams,
    keep_completed,
)
from dart.engines.versions import OPENAI_CLIENT_VERSION
from dart.errors import DartError
from dart.lineage.records import read_record

log = logging.getLogger(__name__)

RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
MAX_BACKOFF_S = 30.0
MAX_RETRY_AFTER_S = 600.0  # a server asking for longer is not waited for beyond this
JITTER = 0.25  # each wait is stretched by a random share in [0, JITTER)
POLL_S = 0.1  # how often the main thread looks up from waiting for completions
TRANSIENT = (
    urllib.error.URLError,  # connection refused / reset, DNS (HTTPError is handled first)
    http.client.HTTPException,  # RemoteDisconnected, IncompleteRead, BadStatusLine
    ConnectionError,
    TimeoutError,
    socket.timeout,
)


class ServerError(DartError):
    """The server refused a request in a way a retry cannot fix."""


class _Stopped(Exception):
    """A worker saw the stop flag between attempts (the run is being abandoned)."""


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """The wait a ``Retry-After`` header asks for, in seconds (delta-seconds or an
    HTTP date); None when absent or unreadable. Bounded by ``MAX_RETRY_AFTER_S``."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        now = datetime.now(timezone.utc).timestamp() if now is None else now
        seconds = when.timestamp() - now
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


def retry_delay(
    attempt: int, backoff: float, retry_after: float | None, rng: random.Random
) -> float:
    """Seconds to wait before retry ``attempt + 1``: the server's ``Retry-After`` when it
    sent one, else ``backoff * 2**attempt`` (at most ``MAX_BACKOFF_S``), stretched by a
    random share in [0, JITTER) so that workers retrying together drift apart."""
    base = retry_after if retry_after is not None else min(backoff * 2**attempt, MAX_BACKOFF_S)
    return base * (1.0 + JITTER * rng.random())


def request_body(served_model: str, prompt: str, params: SamplingParams, seed: int) -> dict:
    """The ``/v1/completions`` body of one trial (pure). ``top_k`` and ``min_p`` are
    extensions (vLLM, SGLang, llama.cpp) and are sent only when they are switched on."""
    body: dict[str, Any] = {
        "model": served_model,
        "prompt": prompt,
        "n": 1,
        "seed": int(seed),
        "temperature": float(params.temperature),
        "top_p": float(params.top_p),
        "max_tokens": int(params.max_new_tokens),
        "stream": False,
    }
    if params.stop:
        body["stop"] = list(params.stop)
    if params.top_k > 0:
        body["top_k"] = int(params.top_k)
    if params.min_p > 0:
        body["min_p"] = float(params.min_p)
    return body


def completion_from_response(request_id: str, response: dict) -> Completion:
    """Map one ``/v1/completions`` response (n=1) to a Completion; token counts from
    ``usage`` (so they are the server tokenizer's, EOS included as the server counts it)."""
    try:
        [choice] = response["choices"]
        usage = response["usage"]
        reason = "length" if choice.get("finish_reason") == "length" else "stop"
        return Completion(
            request_id=request_id,
            text=choice["text"],
            finish_reason=reason,
            prompt_tokens=int(usage["prompt_tokens"]),
            completion_tokens=int(usage["completion_tokens"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ServerError(
            f"openai engine: request {request_id}: unexpected response {str(response)[:300]}"
        ) from exc


class OpenAIEngine(Engine):
    """Sampling through an OpenAI-compatible ``/v1/completions`` endpoint."""

    name = "openai"

    def __init__(
        self,
        model: str,
        *,
        base_url: str,
        served_model: str | None = None,
        api_key_env: str | None = None,
        concurrency: int = 8,
        timeout: float = 600.0,
        max_retries: int = 6,
        backoff: float = 1.0,
        revision: str | None = None,
    ) -> None:
        if not base_url or not str(base_url).startswith(("http://", "https://")):
            raise DartError(f"openai engine: base_url must be an http(s) URL, got {base_url!r}")
        if int(concurrency) < 1 or float(timeout) <= 0 or int(max_retries) < 0:
            raise DartError("openai engine: concurrency >= 1, timeout > 0, max_retries >= 0")
        if api_key_env is not None and not os.environ.get(str(api_key_env)):
            raise DartError(
                f"openai engine: api_key_env names the environment variable {api_key_env!r}, "
                "which is unset or empty; export the key in it, or drop api_key_env to send "
                "no key"
            )
        self.model_id, self.revision = str(model), revision
        self.base_url = str(base_url).rstrip("/")
        self.api_key_env = api_key_env
        self._rng = random.Random()  # jitter only: never part of any output
        self.concurrency, self.timeout = int(concurrency), float(timeout)
        self.max_retries, self.backoff = int(max_retries), float(backoff)
        self._tokenizer = None
        models = self._get("/models")["data"]
        ids = [m.get("id") for m in models]
        if served_model is None:
            if len(ids) != 1:
                raise DartError(
                    f"openai engine: {self.base_url} serves {len(ids)} models {ids}; "
                    "name one with the engine option served_model"
                )
            served_model = ids[0]
        if served_model not in ids:
            raise DartError(
                f"openai engine: {self.base_url} does not serve {served_model!r} (it serves {ids})"
            )
        self.served_model = served_model
        self.server_model = next(m for m in models if m.get("id") == served_model)
        self.server_version = self._server_version()

    # ------------------------------------------------------------------ HTTP

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        key = os.environ.get(self.api_key_env) if self.api_key_env else None
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def _call(self, method: str, url: str, body: dict | None = None) -> dict:
        """One HTTP exchange, no retry; raises HTTPError or a TRANSIENT error."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method, headers=self._headers())
        with urllib.request.urlopen(req, timeout=self.timeout) as response:
            return json.loads(response.read().decode())

    def _with_retries(
        self,
        what: str,
        method: str,
        url: str,
        body: dict | None = None,
        stop: threading.Event | None = None,
    ) -> dict:
        for attempt in range(self.max_retries + 1):
            retry_after = None
            try:
                return self._call(method, url, body)
            except urllib.error.HTTPError as exc:
                detail = exc.read().decode(errors="replace")[:300]
                if exc.code not in RETRY_STATUS:
                    raise ServerError(
                        f"openai engine: {what}: HTTP {exc.code} from {url}: {detail}"
                    ) from None
                error = f"HTTP {exc.code}: {detail}"
                retry_after = retry_after_seconds(exc.headers.get("Retry-After"))
            except TRANSIENT as exc:
                error = f"{type(exc).__name__}: {exc}"
            if attempt == self.max_retries:
                raise DartError(
                    f"openai engine: {what}: gave up after {attempt + 1} attempt(s) "
                    f"at {url}; last error {error}"
                )
            delay = retry_delay(attempt, self.backoff, retry_after, self._rng)
            log.warning("openai engine: %s: %s; retry in %.1f s", what, error, delay)
            if stop is None:
                time.sleep(delay)
            elif stop.wait(delay):
                raise _Stopped(what)
        raise AssertionError("unreachable")

    def _get(self, path: str) -> dict:
        return self._with_retries(f"GET {path}", "GET", self.base_url + path)

    def _server_version(self) -> str | None:
        """The server's version where it says it: ``/version`` (vLLM, SGLang's
        ``/get_server_info`` aside) or ``/info`` (TGI); None otherwise."""
        root = self.base_url.removesuffix("/v1")
        for path, key in (("/version", "version"), ("/info", "version")):
            try:
                found = self._call("GET", root + path)
            except (urllib.error.HTTPError, *TRANSIENT, ValueError):
                continue
            if isinstance(found, dict) and found.get(key):
                return str(found[key])
        return None

    # ------------------------------------------------------------------ Engine

    @property
    def tokenizer(self) -> Any:
        if self._tokenizer is None:
            from transformers import AutoTokenizer

            self._tokenizer = AutoTokenizer.from_pretrained(self.model_id, revision=self.revision)
        return self._tokenizer

    def _one(
        self, request: Request, params: SamplingParams, stop: threading.Event | None = None
    ) -> Completion:
        body = request_body(self.served_model, request.prompt, params, request.seed)
        url = self.base_url + "/completions"
        response = self._with_retries(f"request {request.request_id}", "POST", url, body, stop)
        return completion_from_response(request.request_id, response)

    def generate(
        self,
        requests: Sequence[Request],
        params: SamplingParams,
        progress: ProgressFn | None = None,
    ) -> list[Completion]:
        """Send ``requests`` ``concurrency`` at a time; the result is in request order.

        When anything stops the run (an error from a request, or ``Interrupted`` raised in
        this thread by a signal) the workers take no further request, the exception
        carries the completions that had arrived (``keep_completed``) and this returns at
        once: requests in flight are abandoned in their daemon threads."""
        if not requests:
            return []
        todo: queue.SimpleQueue[int] = queue.SimpleQueue()
        for index in range(len(requests)):
            todo.put(index)
        arrived: queue.SimpleQueue[tuple[int, Completion | None, BaseException | None]]
        arrived = queue.SimpleQueue()
        stop = threading.Event()

        def work() -> None:
            while not stop.is_set():
                try:
                    index = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    arrived.put((index, self._one(requests[index], params, stop), None))
                except _Stopped:
                    return
                except BaseException as exc:  # handed to the main thread, which raises it
                    arrived.put((index, None, exc))
                    return

        workers = min(self.concurrency, len(requests))
        for number in range(workers):
            threading.Thread(target=work, name=f"openai-{number}", daemon=True).start()
        results: dict[int, Completion] = {}
        try:
            while len(results) < len(requests):
                try:  # a timeout, so that a signal delivered to a worker thread is seen
                    index, completion, error = arrived.get(timeout=POLL_S)
                except queue.Empty:
                    continue
                if error is not None:
                    raise error
                results[index] = completion
                if progress is not None:
                    progress(1, completion.completion_tokens)
        except BaseException as exc:
            stop.set()
            while True:  # completions that arrived while this thread was stopping
                try:
                    index, completion, _ = arrived.get_nowait()
                except queue.Empty:
                    break
                if completion is not None:
                    results[index] = completion
            keep_completed(exc, results)
            raise
        return [results[i] for i in range(len(requests))]  # in request order

    def describe(self) -> dict[str, Any]:
        record = read_record(Path(self.model_id)) if Path(self.model_id).exists() else None
        return {
            "engine": self.name,
            "engine_version": OPENAI_CLIENT_VERSION,
            "model": self.model_id,
            "revision": self.revision,
            "weights_sha256": record.get("sha256") if record else None,
            "base_url": self.base_url,
            "served_model": self.served_model,
            "server_model": {
                k: self.server_model.get(k) for k in ("id", "owned_by", "root", "max_model_len")
            },
            "server_version": self.server_version,
            "api_key_env": self.api_key_env,
            "concurrency": self.concurrency,
        }
