"""Unit tests: schema shaping and parsing, retry waits, bounded concurrency, image data URIs."""

from __future__ import annotations

import asyncio
import random
import re
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import httpx2
import openai
import pytest
from PIL import Image
from pydantic import BaseModel

from edtune.errors import DataError, TemplateError
from edtune.llm import ChatRequest, Message
from edtune.llm.concurrency import map_bounded, run_bounded
from edtune.llm.images import image_data_uri
from edtune.llm.retry import RetryPolicy, is_transient, retry_after_s
from edtune.llm.scripted import ScriptedClient
from edtune.llm.structured import extract_json_object, render_reask, sent_schema, shape_for


class Inner(BaseModel):
    name: str


class Outer(BaseModel):
    items: list[Inner]
    count: int


class WithDict(BaseModel):
    scores: dict[str, float]


def test_sent_schema_closes_nested_objects_and_judges_strictness() -> None:
    schema, strict = sent_schema(Outer)
    assert strict is True
    assert schema["additionalProperties"] is False and schema["$defs"]["Inner"]["additionalProperties"] is False
    assert sent_schema(WithDict)[1] is False


def test_every_mode_avoids_guided_json_and_hash_tracks_schema() -> None:
    shapes = [shape_for(Outer, mode) for mode in ("json_schema", "structured_outputs", "json_object", "text")]
    for shape in shapes:
        assert "guided_json" not in repr(shape)
    assert shapes[3].response_format is None and shapes[3].extra_body is None
    assert shape_for(Outer, "json_schema").schema_hash != shape_for(Inner, "json_schema").schema_hash


def test_extract_json_object_from_chatter() -> None:
    assert extract_json_object('Answer: {"a": {"b": [1, "}"]}} trailing {"c": 2}') == '{"a": {"b": [1, "}"]}}'
    assert extract_json_object("{broken {\"ok\": true}") == '{"ok": true}'
    assert extract_json_object("[1, 2] no object") is None


REASK = """+++
name = "reask"
description = "Custom re-ask."
task = "reask"

[variables]
output_name = "model name"
error = "what was wrong"
+++
=== user ===
Fix {{ output_name }}: {{ error }}
"""


def test_reask_template_from_the_project_else_the_default(tmp_path: Path) -> None:
    (tmp_path / "prompts").mkdir()
    default = render_reask("x: bad", Outer, tmp_path)  # the project has no reask.jinja: edtune's own
    assert len(default) == 1 and "x: bad" in str(default[0].content) and '"count"' in str(default[0].content)
    (tmp_path / "prompts" / "reask.jinja").write_text(REASK)
    (custom,) = render_reask("count: Field required", Outer, tmp_path)
    assert custom.role == "user" and custom.content == "Fix Outer: count: Field required"
    (tmp_path / "prompts" / "reask.jinja").write_text(REASK.replace("{{ error }}", "{{ error }"))
    with pytest.raises(TemplateError, match=r"reask\.jinja"):
        render_reask("x", Outer, tmp_path)


def test_scripted_client_text_mode_and_shapes() -> None:
    client = ScriptedClient(['I think {"name": "blue"} is right'])
    request = ChatRequest(messages=[Message(role="user", content="colour?")])
    out = asyncio.run(client.structured(request, Inner, mode="text"))
    assert out.value.name == "blue" and client.shapes[0].mode == "text"


def _status_error(status: int, headers: dict[str, str]) -> openai.APIStatusError:
    req = httpx2.Request("POST", "http://x/v1/chat/completions")
    return openai.APIStatusError("e", response=httpx2.Response(status, headers=headers, request=req), body=None)


def test_transient_classification_and_retry_after_forms() -> None:
    assert is_transient(_status_error(429, {})) and is_transient(_status_error(502, {}))
    assert not is_transient(_status_error(404, {})) and not is_transient(ValueError())
    assert retry_after_s(_status_error(429, {"retry-after": "3"})) == 3.0
    assert retry_after_s(_status_error(429, {"retry-after-ms": "1500", "retry-after": "9"})) == 1.5
    later = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    assert 25 < (retry_after_s(_status_error(429, {"retry-after": later})) or 0) <= 30
    assert retry_after_s(_status_error(429, {"retry-after": "soon"})) is None


def test_backoff_is_seeded_and_bounded() -> None:
    waits = [RetryPolicy(rng=random.Random(4)).backoff(n) for n in range(1, 10)]
    assert waits == [RetryPolicy(rng=random.Random(4)).backoff(n) for n in range(1, 10)]
    assert all(0.25 <= w <= 30.0 for w in waits) and waits[-1] >= 15.0


def test_map_bounded_keeps_order_and_limit() -> None:
    running = peak = 0

    async def work(x: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.001 * (x % 3))
        running -= 1
        return x * x

    done: list[int] = []
    assert asyncio.run(map_bounded(work, range(20), 4, on_done=done.append)) == [x * x for x in range(20)]
    assert peak == 4 and done[-1] == 20


def test_map_bounded_failure_cancels_the_rest() -> None:
    started: list[int] = []

    async def work(x: int) -> int:
        started.append(x)
        if x == 1:
            raise RuntimeError("bad item")
        await asyncio.sleep(0.01)
        return x

    with pytest.raises(RuntimeError, match="bad item"):
        asyncio.run(map_bounded(work, range(50), 2))
    assert len(started) < 50


def test_run_bounded_reuses_one_loop_across_batches() -> None:
    loops: list[asyncio.AbstractEventLoop] = []

    async def where(x: int) -> int:
        loops.append(asyncio.get_running_loop())
        return x + 1

    assert run_bounded(where, [1, 2, 3], 2) == [2, 3, 4]
    assert run_bounded(where, [5], 1) == [6]
    assert len(set(map(id, loops))) == 1


def test_image_data_uri_from_pil_and_file(tmp_path: Path) -> None:
    image = Image.new("RGB", (4, 4), "red")
    uri = image_data_uri(image)
    assert re.fullmatch(r"data:image/png;base64,[A-Za-z0-9+/=]+", uri) and uri == image_data_uri(image)
    image.save(tmp_path / "a.jpg")
    assert image_data_uri(tmp_path / "a.jpg").startswith("data:image/jpeg;base64,")
    with pytest.raises(DataError, match=r"a\.txt"):
        image_data_uri(tmp_path / "a.txt")
