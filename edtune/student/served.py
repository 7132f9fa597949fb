"""`ServedStudent`: a student that trains with `HFStudent` and answers through a vLLM server.

Answering (validation each iteration, test, PROGRESS's cluster evaluation) dominates a real-size run and HF
`generate` is slow; vLLM batches requests itself. Training stays on HF/PEFT (accelerate), in this process.
After each change of adapter (a `train`, a `load_adapter`) the next `answer` writes the adapter where the
server reads it (`served_adapters.publish`), has the server load it, and names it as the model of every
request until the adapter changes again; after `reset_adapter` requests name the base model. Requests
carry the prompt `HFStudent` builds (`served_requests`), so both answer alike on the same weights.

Whose fault: a served model name the server does not serve, or a checkpoint without a chat template, is
a ConfigError; an adapter the server will not load, AdapterRefused (with the server's URL, the adapter's
name and folder, its status and body); a request it rejects, RequestRejected naming the sample; transient
failures are retried per `RetryPolicy` first, as for teacher servers.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import httpx2
import openai

from edtune.errors import ConfigError, ProviderError
from edtune.llm.concurrency import run_bounded, run_sync
from edtune.llm.reply_check import checked_completion
from edtune.llm.retry import RetryPolicy, Sleep, with_retries
from edtune.rationale import to_student_output
from edtune.records import Sample, StudentOutput
from edtune.student.base import LoraTrainConfig, StudentConfig, TrainStats
from edtune.student.hf import HFStudent
from edtune.student.served_adapters import Published, load, publish, unload
from edtune.student.served_config import VLLMServerConfig
from edtune.student.served_requests import adds_bos, chat_body, check_chat_family, user_message
from edtune.student.training import StepCallback

if TYPE_CHECKING:
    from edtune.student.scores import TokenScores

NO_KEY = "no-key-needed"
"""The key sent to a server started without `--api-key` (the SDK insists on one)."""


class ServedStudent:
    """The `Student` protocol over an `HFStudent` (training, adapters) and a vLLM server (answers)."""

    def __init__(self, trainer: HFStudent, server: VLLMServerConfig, *, adapter_dir: Path | None = None,
                 http_client: httpx2.AsyncClient | None = None, sleep: Sleep = asyncio.sleep) -> None:
        """`adapter_dir`: where adapters are written when `server.adapter_dir` is unset (None: a temporary
        folder). `http_client` replaces the SDK's transport (tests); `sleep` is the retry wait."""
        check_chat_family(trainer.encoder)
        self.server = server
        self._trainer = trainer
        folder = server.adapter_dir or adapter_dir
        self._folder = Path(folder) if folder is not None else Path(tempfile.mkdtemp(prefix="edtune-served-"))
        self._sdk = openai.AsyncOpenAI(api_key=_key(server), base_url=server.base_url, max_retries=0,
                                       timeout=server.timeout_s, http_client=http_client)
        self._retry = RetryPolicy(max_retries=server.max_retries, sleep=sleep)
        self._add_bos = adds_bos(trainer.encoder)
        self._checked = False
        self._changed = False
        """The trainer's adapter differs from the one the server was last given."""
        self._served: Published | None = None
        """The adapter requests name; None: the base model."""

    @property
    def trainer(self) -> HFStudent:
        """The HF student that trains, holds the adapter, and scores samples."""
        return self._trainer

    @property
    def config(self) -> StudentConfig:
        """The trainer's config; `max_new_tokens` is the answers' budget here too."""
        return self._trainer.config

    @property
    def has_adapter(self) -> bool:
        return self._trainer.has_adapter

    @property
    def url(self) -> str:
        """The server's root URL, as requests use it."""
        return str(self._sdk.base_url).rstrip("/")

    def answer(self, samples: Sequence[Sample], image_root: Path, *, batch_size: int = 64) -> list[StudentOutput]:
        """Greedy answers in input order, at most `batch_size` requests in flight (vLLM batches them)."""
        if batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
        model = run_sync(self._prepare())
        rows = list(enumerate(samples, start=1))
        try:
            texts = run_bounded(lambda row: self._ask(model, row[1], image_root, row=row[0]), rows, batch_size)
        except ProviderError as exc:
            if exc.status != 404 or self._served is None:
                raise
            # A restarted server forgets run-time adapters: give it this one again, once.
            self._served, self._changed = None, True
            model = run_sync(self._prepare())
            texts = run_bounded(lambda row: self._ask(model, row[1], image_root, row=row[0]), rows, batch_size)
        return [to_student_output(s.id, t) for s, t in zip(samples, texts, strict=True)]

    async def _prepare(self) -> str:
        """The model name requests use now: the base model's, or the current adapter's once the server has it."""
        if not self._checked:
            await self._check_served()
        if not self._trainer.has_adapter:
            await self._switch(None)
        elif self._changed or self._served is None:
            adapter = publish(self._trainer.save_adapter, self._folder)
            await load(self._sdk, adapter, self._retry)
            await self._switch(adapter)
        self._changed = False
        return self.server.model if self._served is None else self._served.name

    async def _switch(self, adapter: Published | None) -> None:
        """Name `adapter` in requests from now on; the server drops the one named before."""
        before, self._served = self._served, adapter
        if before is not None and (adapter is None or before.name != adapter.name):
            await unload(self._sdk, before.name, self._retry)

    async def _check_served(self) -> None:
        """ConfigError when the server does not serve `server.model` (it lists what it serves)."""
        async def listing() -> list[str]:
            return [m.id for m in (await self._sdk.models.list()).data]

        served = await with_retries(listing, self._retry, label=f"student server {self.url}/models")
        if self.server.model not in served:
            raise ConfigError(f"the student server {self.url} does not serve {self.server.model!r} "
                              f"(it serves {', '.join(served) or 'nothing'}): set student.server.model to "
                              f"its --served-model-name")
        self._checked = True

    async def _ask(self, model: str, sample: Sample, image_root: Path, *, row: int) -> str:
        message = user_message(self._trainer.encoder, sample, image_root, row=row)
        body = chat_body(message, model=model, max_new_tokens=self.config.max_new_tokens,
                         stop_ids=self._trainer.stop_ids(), add_bos=self._add_bos)

        async def attempt() -> openai.types.chat.ChatCompletion:
            return checked_completion(await self._sdk.chat.completions.with_raw_response.create(**body))

        completion = await with_retries(attempt, self._retry,
                                         label=f"student server {self.url} ({model}), sample {sample.id} (row {row})")
        return (completion.choices[0].message.content or "").strip()

    def train(self, samples: Sequence[Sample], image_root: Path, config: LoraTrainConfig, *, seed: int,
              replay: Sequence[Sample] = (), replay_root: Path | None = None,
              on_step: StepCallback | None = None) -> TrainStats:
        """`HFStudent.train`; the trained adapter answers from the next `answer` on."""
        self._changed = True
        return self._trainer.train(samples, image_root, config, seed=seed, replay=replay, replay_root=replay_root,
                                   on_step=on_step)

    def token_scores(self, samples: Sequence[Sample], image_root: Path, *,
                     batch_size: int = 32) -> list[TokenScores]:
        """`HFStudent.token_scores` of the trainer (scores are computed on the HF weights, not served)."""
        return self._trainer.token_scores(samples, image_root, batch_size=batch_size)

    def save_adapter(self, directory: Path) -> None:
        self._trainer.save_adapter(directory)

    def load_adapter(self, directory: Path) -> None:
        """`HFStudent.load_adapter`; that adapter answers from the next `answer` on."""
        self._changed = True
        self._trainer.load_adapter(directory)

    def reset_adapter(self) -> None:
        """Drop the adapter: the base model answers from the next `answer` on."""
        self._trainer.reset_adapter()
        self._changed = False

    def close(self) -> None:
        """Close the HTTP connections."""
        run_sync(self._sdk.close())


def _key(server: VLLMServerConfig) -> str:
    if server.api_key_env is None:
        return NO_KEY
    key = os.environ.get(server.api_key_env)
    if not key:
        raise ConfigError(f"student.server.api_key_env names {server.api_key_env}, which is not set")
    return key
