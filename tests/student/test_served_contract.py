"""Contract tests: `ServedStudent` through the real `openai` SDK over a fake vLLM (httpx2.MockTransport).

What goes over the wire (model name per adapter, the load call before an adapter's first use, image data
URIs, greedy settings, stop tokens) and how replies and refusals come back.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest
from PIL import Image

from edtune.errors import ConfigError, RequestRejected
from edtune.loop.config import StudentSettings
from edtune.loop.context import load_student
from edtune.records import Sample
from edtune.student import LoraTrainConfig, Student
from edtune.student.hf import HFStudent
from edtune.student.served import ServedStudent
from edtune.student.served_adapters import AdapterRefused
from edtune.student.served_config import VLLMServerConfig

URL = "http://vllm.test:8000/v1"
BASE = "tiny"
FAST = LoraTrainConfig(epochs=1, min_steps=2, batch_size=8, lr=2e-2, print_targets=False)
Handler = Callable[[dict[str, Any]], httpx2.Response]


def chat_reply(text: str | None) -> httpx2.Response:
    return httpx2.Response(200, json={
        "id": "c", "object": "chat.completion", "created": 0, "model": BASE,
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}]})


def error(status: int, message: str) -> httpx2.Response:
    return httpx2.Response(status, json={"error": {"message": message, "type": "x", "code": status}})


@dataclass
class FakeVLLM:
    """Routes by path; records (path, body) of every request. `chat` answers chat completions, `load`
    (when set) the adapter loads; served models are `BASE` plus the adapters loaded."""

    chat: Handler = field(default=lambda body: chat_reply("Step 1: The square is red.\nAnswer: red"))
    load: Handler | None = None
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    adapters: set[str] = field(default_factory=set)

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        path = request.url.path.removeprefix("/v1")
        body = json.loads(request.content) if request.content else {}
        self.calls.append((path, body))
        if path == "/models":
            return httpx2.Response(200, json={"object": "list", "data": [
                {"id": name, "object": "model", "created": 0, "owned_by": "vllm"} for name in [BASE, *self.adapters]]})
        if path == "/load_lora_adapter":
            if self.load is not None:
                return self.load(body)
            self.adapters.add(body["lora_name"])
            return httpx2.Response(200, text=f"Success: LoRA adapter '{body['lora_name']}' added successfully.")
        if path == "/unload_lora_adapter":
            self.adapters.discard(body["lora_name"])
            return httpx2.Response(200, text="Success")
        assert path == "/chat/completions", path
        return self.chat(body)

    def paths(self) -> list[str]:
        return [path for path, _ in self.calls]

    def chats(self) -> list[dict[str, Any]]:
        return [body for path, body in self.calls if path == "/chat/completions"]


@pytest.fixture
def fake() -> FakeVLLM:
    return FakeVLLM()


@pytest.fixture
def served(checkpoint: Path, fake: FakeVLLM, tmp_path: Path) -> ServedStudent:
    return _served(checkpoint, fake, tmp_path)


def _served(checkpoint: Path, fake: FakeVLLM, tmp_path: Path, **server: Any) -> ServedStudent:
    async def no_wait(_: float) -> None:
        return None

    config = VLLMServerConfig(base_url=URL, model=BASE, max_retries=2, **server)
    return ServedStudent(HFStudent.from_pretrained(checkpoint), config, adapter_dir=tmp_path / "served",
                         http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(fake)), sleep=no_wait)


def test_is_a_student(served: ServedStudent) -> None:
    assert isinstance(served, Student)


def test_base_model_request_is_greedy_with_images_and_hf_stops(served: ServedStudent, fake: FakeVLLM,
                                                               samples: list[Sample], image_root: Path) -> None:
    outputs = served.answer(samples[:3], image_root, batch_size=2)
    assert fake.paths() == ["/models"] + ["/chat/completions"] * 3
    body = fake.chats()[0]
    assert body["model"] == BASE and body["temperature"] == 0 and body["n"] == 1
    assert body["max_tokens"] == served.config.max_new_tokens
    assert body["stop_token_ids"] == served.trainer.stop_ids()
    assert body["skip_special_tokens"] is True
    assert body["add_special_tokens"] is False  # the tiny template writes BOS itself, as HFStudent's prompt has it
    image, text = body["messages"][0]["content"]
    assert body["messages"][0]["role"] == "user"
    assert text == {"type": "text", "text": samples[0].question}
    uri = image["image_url"]["url"]
    assert image["type"] == "image_url" and uri.startswith("data:image/png;base64,")
    sent = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
    original = Image.open(image_root / samples[0].images[0])
    assert sent.mode == "RGB" and sent.getpixel((0, 0)) == original.getpixel((0, 0))
    assert [(o.sample_id, o.steps, o.answer) for o in outputs] == [
        (s.id, ["The square is red."], "red") for s in samples[:3]]


def test_trained_adapter_is_loaded_before_first_use_then_named(served: ServedStudent, fake: FakeVLLM,
                                                               samples: list[Sample], image_root: Path) -> None:
    served.train(samples, image_root, FAST, seed=0)
    served.answer(samples[:2], image_root)
    assert fake.paths() == ["/models", "/load_lora_adapter", "/chat/completions", "/chat/completions"]
    load = fake.calls[1][1]
    assert load["lora_name"].startswith("edtune-") and {b["model"] for b in fake.chats()} == {load["lora_name"]}
    assert (Path(load["lora_path"]) / "adapter_config.json").is_file() and Path(load["lora_path"]).is_absolute()

    served.answer(samples[:1], image_root)  # same adapter: no second load
    assert fake.paths()[4:] == ["/chat/completions"]

    served.train(samples, image_root, FAST, seed=1)  # the adapter changed: load the new one, drop the old
    served.answer(samples[:1], image_root)
    assert fake.paths()[5:] == ["/load_lora_adapter", "/unload_lora_adapter", "/chat/completions"]
    second = fake.calls[5][1]["lora_name"]
    assert second != load["lora_name"] and fake.calls[6][1] == {"lora_name": load["lora_name"]}
    assert fake.chats()[-1]["model"] == second

    served.reset_adapter()  # back to the base model
    served.answer(samples[:1], image_root)
    assert fake.paths()[8:] == ["/unload_lora_adapter", "/chat/completions"] and fake.chats()[-1]["model"] == BASE


def test_same_weights_get_the_same_name_and_a_held_name_counts_as_loaded(
        checkpoint: Path, fake: FakeVLLM, samples: list[Sample], image_root: Path, tmp_path: Path) -> None:
    served = _served(checkpoint, fake, tmp_path)
    served.train(samples, image_root, FAST, seed=0)
    served.save_adapter(tmp_path / "saved")
    served.answer(samples[:1], image_root)
    name = fake.calls[1][1]["lora_name"]
    fake.load = lambda body: error(400, f"The lora adapter '{body['lora_name']}' has already been loaded.")
    again = _served(checkpoint, fake, tmp_path)  # e.g. a resumed run, same server
    again.load_adapter(tmp_path / "saved")
    assert again.answer(samples[:1], image_root)[0].answer == "red"
    assert fake.calls[-2][1]["lora_name"] == name and fake.chats()[-1]["model"] == name


def test_refused_adapter_names_url_adapter_and_path(served: ServedStudent, fake: FakeVLLM, samples: list[Sample],
                                                    image_root: Path) -> None:
    fake.load = lambda body: error(404, "Loading lora x failed: No adapter found for <path>")
    served.train(samples, image_root, FAST, seed=0)
    with pytest.raises(AdapterRefused) as caught:
        served.answer(samples[:1], image_root)
    exc = caught.value
    assert exc.status == 404 and "No adapter found" in (exc.body or "") and exc.tries == 1
    assert exc.url == f"{URL}/load_lora_adapter" and exc.adapter.startswith("edtune-")
    assert Path(exc.path).is_dir() and exc.adapter in str(exc) and exc.path in str(exc)
    assert "--enable-lora" in str(exc) and "VLLM_ALLOW_RUNTIME_LORA_UPDATING" in str(exc)


def test_transient_failures_are_retried(served: ServedStudent, fake: FakeVLLM, samples: list[Sample],
                                        image_root: Path) -> None:
    replies = [error(503, "busy"), chat_reply("Answer: blue")]
    fake.chat = lambda body: replies.pop(0)
    assert served.answer(samples[:1], image_root)[0].answer == "blue"
    assert fake.paths() == ["/models", "/chat/completions", "/chat/completions"]


def test_rejected_request_names_the_sample(served: ServedStudent, fake: FakeVLLM, samples: list[Sample],
                                           image_root: Path) -> None:
    fake.chat = lambda body: error(400, "This model's maximum context length is 64 tokens.")
    with pytest.raises(RequestRejected) as caught:
        served.answer(samples[:1], image_root)
    assert caught.value.status == 400 and "maximum context length" in (caught.value.body or "")
    assert f"sample {samples[0].id} (row 1)" in str(caught.value) and URL in str(caught.value)


def test_empty_reply_is_an_empty_answer(served: ServedStudent, fake: FakeVLLM, samples: list[Sample],
                                        image_root: Path) -> None:
    fake.chat = lambda body: chat_reply(None)
    [output] = served.answer(samples[:1], image_root)
    assert output.raw_text == "" and output.answer is None and output.steps == []


def test_unknown_served_model_is_a_config_error(checkpoint: Path, fake: FakeVLLM, samples: list[Sample],
                                                image_root: Path, tmp_path: Path) -> None:
    served = _served(checkpoint, fake, tmp_path)
    served.server = served.server.model_copy(update={"model": "other"})
    with pytest.raises(ConfigError, match=r"does not serve 'other' \(it serves tiny\)"):
        served.answer(samples[:1], image_root)


def test_restarted_server_gets_the_adapter_again(served: ServedStudent, fake: FakeVLLM, samples: list[Sample],
                                                 image_root: Path) -> None:
    served.train(samples, image_root, FAST, seed=0)
    served.answer(samples[:1], image_root)
    name = fake.calls[1][1]["lora_name"]
    fake.adapters.clear()  # a restart forgets run-time adapters
    fake.chat = lambda body: (chat_reply("Answer: red") if body["model"] in fake.adapters | {BASE}
                              else error(404, f"The model `{body['model']}` does not exist."))
    assert served.answer(samples[:1], image_root)[0].answer == "red"
    assert fake.paths()[3:] == ["/chat/completions", "/load_lora_adapter", "/chat/completions"]
    assert fake.calls[4][1]["lora_name"] == name


def test_settings_pick_the_engine(checkpoint: Path, tmp_path: Path) -> None:
    server = {"base_url": URL, "model": BASE}
    student = load_student(StudentSettings(path=str(checkpoint), engine="vllm", server=server), work_dir=tmp_path)
    assert isinstance(student, ServedStudent) and student.url == URL
    assert isinstance(load_student(StudentSettings(path=str(checkpoint))), HFStudent)
    with pytest.raises(ValueError, match=r"needs a \[student.server\] table"):
        StudentSettings(engine="vllm")
    with pytest.raises(ValueError, match="only used with engine"):
        StudentSettings(server=server)
    with pytest.raises(ValueError, match="must be absolute"):
        VLLMServerConfig(base_url=URL, model=BASE, adapter_dir="relative/dir")


def test_unset_key_variable_is_a_config_error(checkpoint: Path, fake: FakeVLLM, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EDTUNE_NO_SUCH_KEY", raising=False)
    with pytest.raises(ConfigError, match="EDTUNE_NO_SUCH_KEY"):
        _served(checkpoint, fake, tmp_path, api_key_env="EDTUNE_NO_SUCH_KEY")
