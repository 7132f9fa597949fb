"""Reading a chat-completions request: which teacher task it is, and what its prompt shows.

This is the only module of the reference teacher that reads prompt text. It relies on as little
wording as it can, so that users may edit the templates in `prompts/` freely:

- The task comes from the request body, not the prompt: the `response_format` json_schema `name` (or,
  for vLLM `structured_outputs`, the schema's `title`) names the output record; a request with neither
  that asks for `logprobs` is answer-switch. Anything else is refused. A run-start preflight request
  (`PreflightReply`) is answered without reading its prompt.
- Images: every `image_url` part in any message, as a `data:` URI (base64).
- Text is read from the LAST user message only, so few-shot examples in earlier messages are ignored.
  A conversation that ends with an assistant reply and then a user message may be a re-ask (edtune's
  structured-output retry appends the refused reply and the validation error): its `reasked_text` is
  the user message before that reply, which the engine reads when the last one names no task, drawing
  as it did for the request that was re-asked.
  From the message read:
  - the question (template variable `question`) must stand alone on a line, optionally after a label
    ending in ":" (e.g. "Question: ...");
  - options (`options` / the judge's `choices`) are lines "(A) text", "(B) text" ...;
  - steps (`steps`, `previous_steps` + `step`) are lines "Step k: text" as `edtune.rationale` writes
    them; the last run numbered 1, 2, 3 ... counts. For step_check the judged step is the last one.
  - judge only: the lines labelled "Reference answer:" (`reference`) and "Student answer:" (`answer`,
    which runs to the end of the message, since a whole unparsed reply may be shown).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from edtune.bench.reference.settings import UnmatchedRequest
from edtune.judging.llm import JudgeVerdict
from edtune.teacher.preflight import PreflightReply
from edtune.teacher.records import FirstWrongStep, MissingSkills, RequiredSkills, StepVerdict

TaskKind = Literal["first_wrong_step", "step_check", "answer_switch", "missing_skills", "required_skills", "judge",
                   "preflight"]

SCHEMA_TASKS: dict[str, TaskKind] = {
    FirstWrongStep.__name__: "first_wrong_step",
    StepVerdict.__name__: "step_check",
    MissingSkills.__name__: "missing_skills",
    RequiredSkills.__name__: "required_skills",
    JudgeVerdict.__name__: "judge",
    PreflightReply.__name__: "preflight",
}
"""Output record name (json_schema `name` or schema `title`) -> the teacher task that asks for it."""

_STEP = re.compile(r"^\s*Step\s+(\d+)\s*:\s*(.*?)\s*$")
_OPTION = re.compile(r"^\s*\(([A-Z])\)\s+(.*?)\s*$")
_REFERENCE = re.compile(r"^\s*Reference answer:\s*(.*?)\s*$", re.MULTILINE)
_STUDENT = re.compile(r"^\s*Student answer:[ \t]*(.*)\Z", re.MULTILINE | re.DOTALL)
_DATA_URI = re.compile(r"^data:[\w.+-]+/[\w.+-]+;base64,(?P<data>.*)$", re.DOTALL)


@dataclass(frozen=True)
class ParsedRequest:
    """What the reference teacher needs from one request body."""

    task: TaskKind
    schema: dict[str, Any] | None
    """The JSON schema the reply must satisfy (None for answer-switch)."""
    image_hashes: tuple[str, ...]
    """sha256 (hex) of each image's bytes, in message order."""
    text: str
    """The last user message's text."""
    reasked_text: str | None
    """When the conversation ends with an assistant reply and a user message (a re-ask, or a few-shot
    prompt): the text of the last user message before that reply; None otherwise."""
    reasked_key: str | None
    """With `reasked_text`: the `content_key` of the conversation without that reply and message, i.e. of
    the request that was re-asked."""
    top_logprobs: int
    """Alternatives asked for per token (answer-switch); 0 when none."""
    content_key: str
    """sha256 over the messages, the output constraint and the logprob settings: what the seeded random
    choices of this request depend on."""

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    def steps(self) -> list[str]:
        """The student's steps shown (see the module docstring); empty when none."""
        runs: list[list[str]] = []
        for line in self.lines:
            if (m := _STEP.match(line)) is None:
                continue
            number = int(m.group(1))
            if number == 1:
                runs.append([])
            if runs and number == len(runs[-1]) + 1:
                runs[-1].append(m.group(2))
        return runs[-1] if runs else []

    def options(self) -> list[str] | None:
        """The option texts shown as "(A) ...", in letter order; None when the prompt shows none."""
        runs: list[list[str]] = []
        for line in self.lines:
            if (m := _OPTION.match(line)) is None:
                continue
            index = ord(m.group(1)) - ord("A")
            if index == 0:
                runs.append([])
            if runs and index == len(runs[-1]):
                runs[-1].append(m.group(2))
        return runs[-1] if runs else None

    def question_lines(self) -> list[str]:
        """Each line, and each line's text after its first ":", as candidates for the question."""
        found: list[str] = []
        for line in self.lines:
            found.append(line.strip())
            if ":" in line:
                found.append(line.split(":", 1)[1].strip())
        return [text for text in found if text]

    def reference_answer(self) -> str | None:
        """Judge: the text of the "Reference answer:" line, or None."""
        match = _REFERENCE.search(self.text)
        return match.group(1) if match else None

    def student_answer(self) -> str:
        """Judge: the text after "Student answer:" to the end of the message; UnmatchedRequest without it."""
        match = _STUDENT.search(self.text)
        if match is None or not match.group(1).strip():
            raise UnmatchedRequest("judge request: no 'Student answer:' line in the last user message "
                                   "(the reference teacher reads the student's answer from it)", "unparsed_prompt")
        return match.group(1).strip()


def parse_request(body: Mapping[str, Any]) -> ParsedRequest:
    """Identify the task and collect images and text; UnmatchedRequest for a body it cannot use."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise UnmatchedRequest("the request has no messages", "invalid_request")
    task, schema = identify_task(body)
    turns, images = _contents(messages)
    top = body.get("top_logprobs")
    reasked = _reasked(turns)
    reasked_key = None if reasked is None else _key(messages[:-2], schema, body)
    return ParsedRequest(task=task, schema=schema, image_hashes=tuple(images), text=_last_user(turns),
                         reasked_text=reasked, reasked_key=reasked_key,
                         top_logprobs=int(top) if isinstance(top, int) else 0,
                         content_key=_key(messages, schema, body))


def _key(messages: list[Any], schema: dict[str, Any] | None, body: Mapping[str, Any]) -> str:
    source = {"messages": messages, "schema": schema, "logprobs": bool(body.get("logprobs")),
              "top": body.get("top_logprobs")}
    return hashlib.sha256(json.dumps(source, sort_keys=True).encode()).hexdigest()


def identify_task(body: Mapping[str, Any]) -> tuple[TaskKind, dict[str, Any] | None]:
    """The teacher task a body asks for, with the schema sent (see the module docstring)."""
    name, schema = _constraint(body)
    if schema is not None:
        if name in SCHEMA_TASKS:
            return SCHEMA_TASKS[name], schema
        raise UnmatchedRequest(f"unknown output schema {name!r}; the reference teacher answers "
                               f"{', '.join(SCHEMA_TASKS)}", "unknown_task")
    if body.get("response_format") is not None:
        raise UnmatchedRequest("response_format without a json_schema: the reference teacher identifies the "
                               "task from the schema (use mode json_schema or structured_outputs)", "unknown_task")
    if body.get("logprobs"):
        return "answer_switch", None
    raise UnmatchedRequest("a plain request without logprobs: the reference teacher answers structured "
                           "requests (json_schema / structured_outputs) and logprob requests (answer-switch)",
                           "unknown_task")


def _constraint(body: Mapping[str, Any]) -> tuple[str | None, dict[str, Any] | None]:
    fmt = body.get("response_format")
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        spec = fmt.get("json_schema") or {}
        schema = spec.get("schema")
        return spec.get("name") or (schema or {}).get("title"), schema if isinstance(schema, dict) else {}
    outputs = body.get("structured_outputs")
    if isinstance(outputs, dict) and isinstance(outputs.get("json"), dict):
        return outputs["json"].get("title"), outputs["json"]
    return None, None


def _last_user(turns: list[tuple[str, str]]) -> str:
    texts = [text for role, text in turns if role == "user"]
    if not texts:
        raise UnmatchedRequest("the request has no user message", "invalid_request")
    return texts[-1]


def _reasked(turns: list[tuple[str, str]]) -> str | None:
    """The user message before a trailing (assistant reply, user message) pair; None without that pair."""
    roles = [role for role, _ in turns]
    if len(roles) < 3 or roles[-1] != "user" or roles[-2] != "assistant":
        return None
    earlier = [text for role, text in turns[:-2] if role == "user"]
    return earlier[-1] if earlier else None


def _contents(messages: list[Any]) -> tuple[list[tuple[str, str]], list[str]]:
    """(role, text) of every message, and the sha256 of every image in the conversation."""
    turns: list[tuple[str, str]] = []
    images: list[str] = []
    for message in messages:
        if not isinstance(message, dict):
            raise UnmatchedRequest("a message is not a JSON object", "invalid_request")
        content = message.get("content")
        parts: list[Any] = content if isinstance(content, list) else [{"type": "text", "text": content or ""}]
        texts = []
        for part in parts:
            if not isinstance(part, dict):
                raise UnmatchedRequest("a content part is not a JSON object", "invalid_request")
            if part.get("type") == "image_url":
                images.append(_image_hash(str((part.get("image_url") or {}).get("url", ""))))
            elif part.get("type") == "text":
                texts.append(str(part.get("text") or ""))
        turns.append((str(message.get("role")), "\n".join(texts)))
    return turns, images


def _image_hash(url: str) -> str:
    match = _DATA_URI.match(url)
    if match is None:
        raise UnmatchedRequest(f"image {url[:40]!r} is not a base64 data URI; the reference teacher matches "
                               f"images by the sha256 of their bytes", "unmatched_image")
    try:
        data = base64.b64decode(match.group("data"), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise UnmatchedRequest(f"image data URI is not valid base64 ({exc})", "unmatched_image") from exc
    return hashlib.sha256(data).hexdigest()
