"""Serve a GGUF model over the OpenAI chat-completions protocol with llama.cpp, in this process.

`xllamacpp` embeds llama.cpp's HTTP server: constructing its `Server` loads the model and starts
listening on background threads; destroying the object stops it. `llamacpp_server` wraps that in a
context manager that binds 127.0.0.1 on a free port, waits until `/v1/models` answers and always stops
the server on exit. Used by the integration tests and benchmarks; users serving a teacher at scale start
vLLM (or llama-server) themselves and point edtune at its base URL.
"""

from __future__ import annotations

import gc
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field

from edtune.errors import ConfigError, MissingDependency, ProviderError
from edtune.records import Record


class LlamaCppConfig(Record):
    """How to start an in-process llama.cpp server."""

    model_path: Path
    """The .gguf file to serve."""
    alias: str | None = None
    """Model name clients send and `/v1/models` lists; None: the file name without `.gguf`."""
    host: str = "127.0.0.1"
    """Interface to bind; loopback by default so nothing outside the machine can reach it."""
    port: int = Field(default=0, ge=0, le=65535)
    """TCP port; 0 lets the OS pick a free one (read it back from `RunningServer.base_url`)."""
    n_ctx: int = Field(default=4096, ge=256)
    """Total context in tokens, shared by the slots (each slot gets n_ctx / n_parallel)."""
    n_parallel: int = Field(default=4, ge=1)
    """Slots: how many requests are decoded together; more wait in a queue."""
    threads: int = Field(default=1, ge=1)
    """CPU threads for generation and prompt processing. 1 by default: llama.cpp's threads spin-wait for
    each other, so on cores other processes also use, 2 threads are far slower than 1 (benchmarks/README.md)."""
    ready_timeout_s: float = Field(default=60.0, gt=0)
    """How long to wait for `/v1/models` to answer and a first token to be generated before giving up."""
    verbosity: int = -1
    """llama.cpp log level; -1 keeps its logs off stderr, 3 shows everything."""

    @property
    def served_name(self) -> str:
        """The model name the server answers to."""
        return self.alias or self.model_path.name.removesuffix(".gguf")


@dataclass(frozen=True)
class RunningServer:
    """A server that is up: where to send requests and under which model name."""

    base_url: str
    """OpenAI-style base URL, ending in /v1."""
    model: str
    config: LlamaCppConfig


@contextmanager
def llamacpp_server(config: LlamaCppConfig) -> Iterator[RunningServer]:
    """Start the server, yield once `/v1/models` answers, stop it on exit (also on errors).

    Raises ConfigError for a missing model file, MissingDependency without `xllamacpp`, and ProviderError
    when llama.cpp refuses the settings or the server does not become ready in time.
    """
    if not config.model_path.is_file():
        raise ConfigError(f"GGUF model file not found: {config.model_path}")
    server = _start(config)
    try:
        root = str(server.listening_address).strip().rstrip("/")
        deadline = time.monotonic() + config.ready_timeout_s
        _wait_ready(f"{root}/v1/models", deadline, config.ready_timeout_s)
        _wait_generating(f"{root}/v1/completions", config.served_name, deadline, config.ready_timeout_s)
        yield RunningServer(base_url=f"{root}/v1", model=config.served_name, config=config)
    finally:
        # The C++ server stops in its destructor; drop the only reference and collect so it happens now.
        del server
        gc.collect()


def _start(config: LlamaCppConfig) -> Any:
    try:
        import xllamacpp
    except ImportError as exc:
        raise MissingDependency("xllamacpp", purpose="serving a GGUF model locally") from exc
    params = xllamacpp.CommonParams()
    params.model.path = str(config.model_path)
    params.model_alias = {config.served_name}
    params.hostnames = [config.host]
    params.port = config.port
    params.n_ctx = config.n_ctx
    params.n_parallel = config.n_parallel
    params.cpuparams.n_threads = config.threads
    params.cpuparams_batch.n_threads = config.threads
    params.verbosity = config.verbosity
    try:
        return xllamacpp.Server(params)
    except RuntimeError as exc:
        raise ProviderError(f"llama.cpp could not start serving {config.model_path}: {exc}") from exc


def _wait_ready(url: str, deadline: float, timeout_s: float) -> None:
    """Poll `url` until it answers 200; ProviderError naming `timeout_s` and the last failure at `deadline`."""
    last_error = "no answer yet"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
                last_error = f"HTTP {resp.status}"
        except (urllib.error.URLError, OSError) as exc:
            last_error = str(exc)
        time.sleep(0.1)
    raise ProviderError(f"llama.cpp server at {url} not ready within {timeout_s:g} s: {last_error}")


def _wait_generating(url: str, model: str, deadline: float, timeout_s: float) -> None:
    """Ask for one token, so that the server's task loop is known to run before anyone can stop it.

    xllamacpp signals "started" just before its task loop begins, and a stop that lands in between is
    lost: the destructor then joins a loop that never ends (seen as a hang of `test_server_stops_on_exit`
    on a loaded machine). A finished completion proves the loop is running.
    """
    body = json.dumps({"model": model, "prompt": "ok", "max_tokens": 1, "temperature": 0}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=max(1.0, deadline - time.monotonic())) as resp:
            if resp.status == 200:
                return
            problem = f"HTTP {resp.status}"
    except (urllib.error.URLError, OSError) as exc:
        problem = str(exc)
    raise ProviderError(f"llama.cpp server at {url} did not generate a first token within {timeout_s:g} s "
                        f"of starting: {problem}")
