"""Settings of a student that answers through a vLLM server (`edtune.student.served.ServedStudent`)."""

from __future__ import annotations

from pathlib import PurePath

from pydantic import Field, field_validator

from edtune.records import Record


class VLLMServerConfig(Record):
    """Where the student's answers come from when `StudentSettings.engine = "vllm"`.

    The server must serve the same checkpoint the student trains (`StudentSettings.path`), with LoRA and
    run-time adapter loading switched on: `VLLM_ALLOW_RUNTIME_LORA_UPDATING=True python -m
    vllm.entrypoints.openai.api_server --model <the checkpoint folder> --served-model-name <model>
    --enable-lora --max-lora-rank <at least LoraTrainConfig.r>` (see docs/scale.md, "Student answering on
    vLLM")."""

    base_url: str
    """The server's OpenAI-compatible root, ending in /v1 (e.g. "http://127.0.0.1:8000/v1")."""
    model: str
    """The name the server serves the base checkpoint under (its `--served-model-name`)."""
    api_key_env: str | None = None
    """Environment variable holding the server's key (vLLM's `--api-key`); None: the server takes no key."""
    adapter_dir: str | None = None
    """Absolute folder where each trained adapter is written for the server to load, at a path the server
    reads as it is (the same machine, or a file system both mount at the same path). None: a `served/`
    folder in the run's adapters folder (or a temporary folder outside a run), which only works when the
    server runs on this machine."""
    timeout_s: float = Field(default=600.0, gt=0)
    """Seconds one request may take (answers and adapter loads), a retry included separately."""
    max_retries: int = Field(default=5, ge=0)
    """Retries of a transient failure (5xx, 408/409/429, dropped connection), as for teacher servers."""

    @field_validator("adapter_dir")
    @classmethod
    def _absolute(cls, value: str | None) -> str | None:
        if value is not None and not PurePath(value).is_absolute():
            raise ValueError(f"adapter_dir must be absolute (the server resolves it on its side): {value!r}")
        return value
