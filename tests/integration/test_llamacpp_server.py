"""The in-process llama.cpp server helper: start, answer, stop; and facts about what it returns."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from edtune.errors import ConfigError, ProviderError
from edtune.servers.llamacpp import LlamaCppConfig, RunningServer, _wait_ready, llamacpp_server

pytestmark = pytest.mark.integration


def _post(server: RunningServer, body: dict[str, Any]) -> dict[str, Any]:
    req = urllib.request.Request(f"{server.base_url}/chat/completions", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as resp:
        data: dict[str, Any] = json.load(resp)
    return data


def test_missing_model_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="GGUF model file not found"), \
            llamacpp_server(LlamaCppConfig(model_path=tmp_path / "none.gguf")):
        pass


def test_readiness_timeout_names_its_seconds_and_last_failure() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing answers there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ProviderError, match=r"not ready within 0\.3 s: .*(refused|Errno)"):
        _wait_ready(f"http://127.0.0.1:{port}/v1/models", time.monotonic() + 0.3, 0.3)


def test_server_lists_its_alias_on_loopback(llama_server: RunningServer) -> None:
    assert llama_server.base_url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(f"{llama_server.base_url}/models", timeout=10) as resp:
        listed = json.load(resp)
    assert [m["id"] for m in listed["data"]] == [llama_server.model]


def test_top_logprobs_come_back_per_token(llama_server: RunningServer) -> None:
    body = {"model": llama_server.model, "messages": [{"role": "user", "content": "Name a colour."}],
            "max_tokens": 4, "temperature": 0, "logprobs": True, "top_logprobs": 5}
    content = _post(llama_server, body)["choices"][0]["logprobs"]["content"]
    assert 1 <= len(content) <= 4
    for token in content:
        alternatives = token["top_logprobs"]
        assert len(alternatives) == 5
        assert all(alt["logprob"] <= 0 for alt in alternatives)
        # Greedy decoding: the chosen token is the most likely alternative.
        assert token["logprob"] == pytest.approx(max(alt["logprob"] for alt in alternatives))


def test_server_stops_on_exit(gguf_path: Path) -> None:
    with llamacpp_server(LlamaCppConfig(model_path=gguf_path, n_parallel=1, n_ctx=512, threads=1)) as server:
        url = f"{server.base_url}/models"
        with urllib.request.urlopen(url, timeout=10) as resp:
            assert resp.status == 200
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url, timeout=5)
