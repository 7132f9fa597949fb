"""Fixtures for tests against a real LLM server: SmolLM2-135M-Instruct served by llama.cpp (xllamacpp).

The GGUF is fetched at install time by `python scripts/fetch_test_model.py` (never by a test). Without
it these tests skip, unless EDTUNE_REQUIRE_INTEGRATION=1 (CI), where a missing model fails the run.
EDTUNE_TEST_GGUF points at a different file.

One llama.cpp server serves the whole session; `llama_server` gives its base URL and model name.

`served` is parametrised over the two real servers: llama.cpp (started here) and vLLM (CPU build),
which `.ci/vllm_stage.sh` starts and announces through EDTUNE_VLLM_BASE_URL / EDTUNE_VLLM_MODEL. Without
those the vLLM cases skip (fail under EDTUNE_REQUIRE_VLLM=1); `pytest -m vllm` selects only them.
`llm` gives each test a fresh `OpenAICompatibleClient` pointed at the served model (a client's
connection pool belongs to the event loop of the test that opened it, so clients are not shared).
Teacher and judge tests build on `llm`; async tests are marked `anyio` (the backend is asyncio).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from edtune.llm.openai_client import OpenAICompatibleClient
from edtune.servers import Served
from edtune.servers.llamacpp import LlamaCppConfig, RunningServer, llamacpp_server

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_GGUF = REPO_ROOT / ".cache" / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
SERVED_NAME = "smollm2-135m"
SLOTS = 4


@pytest.fixture(scope="session")
def gguf_path() -> Path:
    """The test model's GGUF; skips (or fails, under EDTUNE_REQUIRE_INTEGRATION=1) when it is absent."""
    path = Path(os.environ.get("EDTUNE_TEST_GGUF", DEFAULT_GGUF))
    if not path.is_file():
        reason = f"test model {path} not found; run: python scripts/fetch_test_model.py"
        if os.environ.get("EDTUNE_REQUIRE_INTEGRATION") == "1":
            pytest.fail(f"EDTUNE_REQUIRE_INTEGRATION=1 but {reason}")
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def llama_server(gguf_path: Path) -> Iterator[RunningServer]:
    """A llama.cpp server on 127.0.0.1 (free port) with SLOTS parallel slots, up for the whole session."""
    pytest.importorskip("xllamacpp")
    config = LlamaCppConfig(model_path=gguf_path, alias=SERVED_NAME, n_ctx=8192, n_parallel=SLOTS)
    with llamacpp_server(config) as server:
        yield server


@pytest.fixture(scope="session", params=[
    pytest.param("llamacpp", id="llamacpp"),
    pytest.param("vllm", id="vllm", marks=pytest.mark.vllm),
])
def served(request: pytest.FixtureRequest) -> Served:
    """Each real server in turn; the llama.cpp one is only started when a llama.cpp case runs."""
    if request.param == "llamacpp":
        server: RunningServer = request.getfixturevalue("llama_server")
        return Served("llamacpp", server.base_url, server.model)
    base_url = os.environ.get("EDTUNE_VLLM_BASE_URL")
    if not base_url:
        reason = "no vLLM server: set EDTUNE_VLLM_BASE_URL (bash .ci/vllm_stage.sh starts one)"
        if os.environ.get("EDTUNE_REQUIRE_VLLM") == "1":
            pytest.fail(f"EDTUNE_REQUIRE_VLLM=1 but {reason}")
        pytest.skip(reason)
    return Served("vllm", base_url, os.environ.get("EDTUNE_VLLM_MODEL", SERVED_NAME))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def llm(served: Served) -> AsyncIterator[OpenAICompatibleClient]:
    """A ready client for the served model (no cache; a key variable no one sets, so none leaks)."""
    client = OpenAICompatibleClient(served.model, served.base_url, provider=served.provider,
                                    api_key_env="EDTUNE_LLAMACPP_TEST_KEY", timeout_s=300)
    yield client
    await client.close()
