"""Handing a trained LoRA adapter to a vLLM server: written to a folder the server reads, named by content.

vLLM loads an adapter at run time with POST /v1/load_lora_adapter {lora_name, lora_path} (a server started
with `--enable-lora` and `VLLM_ALLOW_RUNTIME_LORA_UPDATING=True`); requests then name the adapter as their
model. It refuses a name it already holds, so each adapter is named after a hash of its files: the same
weights always get the same name, and a name the server already holds is already those weights.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import openai

from edtune.atomic import atomic_folder
from edtune.errors import ProviderError
from edtune.llm.retry import RetryPolicy, with_retries

ADAPTER_PREFIX = "edtune-"
"""Start of every adapter name edtune gives the server."""
_ALREADY_LOADED = re.compile(r"already\s+been\s+loaded", re.IGNORECASE)
_SETUP_HINT = ("start the server with --enable-lora --max-lora-rank R (R >= the adapter's rank) and "
               "VLLM_ALLOW_RUNTIME_LORA_UPDATING=True, and write adapters where the server reads them "
               "(student.server.adapter_dir)")


class AdapterRefused(ProviderError):
    """The student's vLLM server would not load an adapter: not started for run-time LoRA, the adapter's
    folder not readable at that path on the server's side, a rank above its `--max-lora-rank`, or a target
    module it cannot adapt. `url`, `adapter` and `path` say which; `status`, `body`, `tries` are its answer."""

    def __init__(self, message: str, *, url: str, adapter: str, path: str, status: int | None,
                 body: str | None, tries: int) -> None:
        self.url = url
        self.adapter = adapter
        self.path = path
        super().__init__(message, status=status, body=body, tries=tries)


@dataclass(frozen=True)
class Published:
    """An adapter written for the server."""

    name: str
    """What requests name as their model once it is loaded."""
    path: Path
    """Its folder (peft format)."""


def publish(save: Callable[[Path], None], folder: Path) -> Published:
    """Write an adapter with `save` into `folder`/<its name>, the name a hash of its files (kept as it is
    when that folder already exists: same name, same weights). The named folder appears whole
    (`edtune.atomic.atomic_folder`): the server never sees half an adapter."""
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".saving-") as saving:
        save(Path(saving))
        name = ADAPTER_PREFIX + _digest(Path(saving))
        final = folder / name
        if not final.exists():
            with atomic_folder(final) as scratch:
                shutil.copytree(saving, scratch, dirs_exist_ok=True)
    return Published(name=name, path=final.resolve())


def _digest(directory: Path) -> str:
    """sha256 over the folder's files (names and bytes, in name order), 16 hex digits."""
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        digest.update(path.relative_to(directory).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


async def load(sdk: openai.AsyncOpenAI, adapter: Published, policy: RetryPolicy) -> None:
    """Have the server load `adapter` (success too when it already holds that name); AdapterRefused else."""
    url = f"{str(sdk.base_url).rstrip('/')}/load_lora_adapter"

    async def attempt() -> str:
        try:
            return await sdk.post("/load_lora_adapter", cast_to=str,
                                  body={"lora_name": adapter.name, "lora_path": str(adapter.path)})
        except openai.APIStatusError as exc:
            if exc.status_code == 400 and _ALREADY_LOADED.search(exc.response.text):
                return exc.response.text
            raise

    try:
        await with_retries(attempt, policy, label=f"student server {url}")
    except ProviderError as exc:
        raise AdapterRefused(f"{exc} (adapter {adapter.name} at {adapter.path}): {_SETUP_HINT}", url=url,
                             adapter=adapter.name, path=str(adapter.path), status=exc.status, body=exc.body,
                             tries=exc.tries) from None


async def unload(sdk: openai.AsyncOpenAI, name: str, policy: RetryPolicy) -> None:
    """Have the server drop adapter `name`; one it does not hold (404) is already dropped."""

    async def attempt() -> str:
        try:
            return await sdk.post("/unload_lora_adapter", cast_to=str, body={"lora_name": name})
        except openai.NotFoundError as exc:
            return exc.response.text

    await with_retries(attempt, policy, label=f"student server {str(sdk.base_url).rstrip('/')}/unload_lora_adapter")
