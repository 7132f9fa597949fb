"""LLaVA conversation JSON: a JSON array of `{"id", "image", "conversations": [...]}` objects.

Rows are numbered by their 0-based index in the array. How conversations become samples:

- `conversations` must alternate `human` then `gpt` turns (a leading `system` turn is ignored); each
  human/gpt pair becomes one Sample whose question is the human text with the `<image>` token removed and
  whose answer comes from the gpt text: "Step N:" lines become `rationale` and the final-answer line (the
  answer pattern, default edtune's `Answer:` convention) becomes `answer`; a gpt turn without steps is an
  answer-only sample (see `edtune.data.assistant_turn`).
- A single-pair conversation keeps its id. A multi-turn one gives ids `<id>#1`, `<id>#2`, ... in turn order;
  every turn gets the conversation's image(s), and `metadata` records `llava_id`, `turn` (1-based) and
  `turns`. Earlier turns are not folded into later questions: each turn is answered on its own.
- `image` is one relative path, a list of them, or absent (a text-only sample). Other top-level keys go to
  `metadata` unchanged.

The file is parsed whole (JSON arrays cannot be streamed with the standard library).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from edtune.data.assistant_turn import compile_answer_pattern, split_turn
from edtune.data.rows import RawRow
from edtune.errors import DataError

IMAGE_TOKEN = re.compile(r"\s*<image>\s*")
_ROLES = ("human", "gpt")


def iter_llava_rows(path: Path, answer_pattern: str | None = None) -> Iterator[RawRow]:
    """Yield one RawRow per human/gpt pair of every conversation in the file.

    `answer_pattern` is a regular expression with a named group `answer` that finds the final-answer line
    of a gpt turn; None uses `edtune.rationale.ANSWER_PATTERN`. A bad pattern is a DataError on the file.
    """
    file = str(path)
    try:
        pattern = compile_answer_pattern(answer_pattern)
    except ValueError as exc:
        raise DataError(str(exc), file=file, field="answer_pattern") from exc
    for index, entry in enumerate(_read_array(path)):
        if not isinstance(entry, dict):
            raise DataError(f"expected a JSON object, got {type(entry).__name__}", file=file, row=index)
        yield from _conversation_rows(entry, pattern, file=file, row=index)


def _read_array(path: Path) -> list[Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text: {exc.reason} at byte {exc.start}", file=str(path)) from exc
    except json.JSONDecodeError as exc:
        raise DataError(f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", file=str(path)) from exc
    if not isinstance(data, list):
        raise DataError(f"expected a JSON array of conversations, got {type(data).__name__}", file=str(path))
    return data


def _conversation_rows(entry: dict[str, Any], pattern: re.Pattern[str], *, file: str,
                       row: int) -> Iterator[RawRow]:
    conv_id = _conversation_id(entry, file=file, row=row)
    images = _images(entry, file=file, row=row)
    pairs = _pairs(entry, file=file, row=row)
    extra = {k: v for k, v in entry.items() if k not in ("id", "image", "conversations")}
    for turn, (q_index, question, answer) in enumerate(pairs, start=1):
        metadata = dict(extra)
        sample_id = conv_id
        if len(pairs) > 1:
            sample_id = f"{conv_id}#{turn}"
            metadata.update(llava_id=conv_id, turn=turn, turns=len(pairs))
        answer_field = f"conversations.{q_index + 1}.value"
        try:
            split = split_turn(answer, pattern)
        except ValueError as exc:
            raise DataError(str(exc), file=file, row=row, field=answer_field) from exc
        data = {"id": sample_id, "images": images, "question": question, "answer": split.answer,
                "rationale": [{"text": step} for step in split.steps] or None, "metadata": metadata}
        fields = {"images": "image", "images.0": "image" if isinstance(entry.get("image"), str) else "image.0",
                  "question": f"conversations.{q_index}.value", "answer": answer_field, "rationale": answer_field}
        yield RawRow(file=file, row=row, data=data, source_fields=fields)


def _conversation_id(entry: dict[str, Any], *, file: str, row: int) -> str:
    if "id" not in entry:
        raise DataError("missing required field", file=file, row=row, field="id")
    value = entry["id"]
    # Some LLaVA-style sets use integer ids; they are kept as their decimal text.
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise DataError(f"id must be a string or integer, got {type(value).__name__}", file=file, row=row,
                        field="id")
    return str(value)


def _images(entry: dict[str, Any], *, file: str, row: int) -> list[str]:
    value = entry.get("image")
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise DataError("image must be a path or a list of paths", file=file, row=row, field="image")


def _pairs(entry: dict[str, Any], *, file: str, row: int) -> list[tuple[int, str, str]]:
    """(index of the human turn, question, answer) for each human/gpt pair."""
    turns = entry.get("conversations")
    if not isinstance(turns, list) or not turns:
        what = "missing required field" if turns is None else "conversations must be a non-empty list"
        raise DataError(what, file=file, row=row, field="conversations")
    start = 1 if isinstance(turns[0], dict) and turns[0].get("from") == "system" else 0
    texts: list[str] = []
    for i, turn in enumerate(turns[start:], start=start):
        texts.append(_turn_text(turn, _ROLES[(i - start) % 2], file=file, row=row, index=i))
    if len(texts) % 2:
        raise DataError("conversation ends with a human turn that has no gpt answer", file=file, row=row,
                        field=f"conversations.{len(turns) - 1}")
    return [(start + k, IMAGE_TOKEN.sub(" ", texts[k]).strip(), texts[k + 1].strip())
            for k in range(0, len(texts), 2)]


def _turn_text(turn: Any, role: str, *, file: str, row: int, index: int) -> str:
    where = f"conversations.{index}"
    if not isinstance(turn, dict):
        raise DataError(f"expected a JSON object, got {type(turn).__name__}", file=file, row=row, field=where)
    if turn.get("from") != role:
        raise DataError(f"expected a {role!r} turn, got {turn.get('from')!r}", file=file, row=row,
                        field=f"{where}.from")
    value = turn.get("value")
    if not isinstance(value, str):
        raise DataError("value must be a string", file=file, row=row, field=f"{where}.value")
    return value
