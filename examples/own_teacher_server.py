"""A teacher server of your own, in the Python standard library only (docs/teacher.md explains the contract).

It speaks the OpenAI chat-completions protocol and answers every request an edtune run sends its teacher
with simple deterministic rules that read the default prompts. Replace the `answer_*` functions with calls
to your model and keep the rest: the dispatch on the output schema's name, the reply and logprob format.

    python examples/own_teacher_server.py --port 8011
    # -> listening on http://127.0.0.1:8011/v1 (model own-teacher)
    edtune run my_config.toml        # with teacher = "openai-compatible/own-teacher@http://127.0.0.1:8011/v1"

--no-images answers requests carrying images as a text-only llama.cpp server does (HTTP 500 "image input is
not supported"); --no-logprobs never returns logprobs. A run's preflight refuses or works around both.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import re
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL = "own-teacher"
STOP_WORDS = {"a", "an", "the", "is", "are", "of", "in", "on", "to", "what", "which", "there", "this", "that",
              "does", "do", "how", "be", "picture", "image"}


class Refused(Exception):
    """A request this server cannot answer: becomes an HTTP error with an OpenAI-style body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


# ---- reading a request ---------------------------------------------------------------------------

def schema_name(body: dict[str, Any]) -> str | None:
    """The output record a structured request asks for: json_schema `name` (mode json_schema) or the
    schema's `title` (vLLM's structured_outputs); None for a plain request."""
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        return str(fmt["json_schema"]["name"])
    outputs = body.get("structured_outputs") or {}
    return str(outputs["json"].get("title")) if isinstance(outputs.get("json"), dict) else None


def user_text(body: dict[str, Any]) -> tuple[str, int]:
    """The text of the first user message (a re-ask appends messages; the task is in the first), and how
    many images the conversation carries (each a base64 data URI)."""
    text, images = None, 0
    for message in body["messages"]:
        content = message["content"]
        parts = content if isinstance(content, list) else [{"type": "text", "text": content}]
        for part in parts:
            if part["type"] == "image_url":
                images += 1
                _check_data_uri(part["image_url"]["url"])
            elif message["role"] == "user" and text is None:
                text = part["text"]
    if text is None:
        raise Refused(400, "the request has no user message")
    return text, images


def _check_data_uri(url: str) -> None:
    match = re.match(r"data:image/[\w.+-]+;base64,(.*)$", url, re.DOTALL)
    try:
        if match is None or not base64.b64decode(match.group(1), validate=True):
            raise ValueError(url[:40])
    except (binascii.Error, ValueError) as exc:
        raise Refused(400, f"images must be base64 data URIs ({exc})") from None


def labelled(text: str, label: str) -> str:
    """The rest of the line starting with `label` (e.g. "Question:"), or ""."""
    match = re.search(rf"^{re.escape(label)}\s*(.*)$", text, re.MULTILINE)
    return match.group(1).strip() if match else ""


def steps(text: str) -> list[str]:
    """The "Step k: ..." lines, in order."""
    return re.findall(r"^Step \d+:\s*(.*)$", text, re.MULTILINE)


def options(text: str) -> list[str]:
    """The option letters shown as "(A) ..." lines."""
    return re.findall(r"^\(([A-Z])\) ", text, re.MULTILINE)


# ---- the rules: replace these with your model -----------------------------------------------------

def skill_phrase(question: str) -> str:
    """A short skill phrase from the question's content words (at most 6 words)."""
    words = [w for w in re.findall(r"[a-z]+", question.lower()) if w not in STOP_WORDS]
    return "answering " + " ".join(words[:5] or ["questions"])


def answer_first_wrong_step(text: str) -> dict[str, Any]:
    """Blame the last step: it is the one that gave the wrong answer."""
    return {"step": max(1, len(steps(text))), "reason": "this step leads to the wrong answer"}


def answer_step_check(text: str) -> dict[str, Any]:
    """The judged step (the last one shown) is wrong when it states a number that is not the correct answer."""
    step = (steps(text) or [""])[-1]
    numbers = re.findall(r"\d+", step)
    correct = all(n == labelled(text, "Correct answer:") for n in numbers)
    return {"correct": correct, "reason": "the numbers agree" if correct else "a number is wrong"}


def answer_skills(text: str) -> dict[str, Any]:
    """Missing skills of an error, or required skills of a pool sample: one phrase from the question."""
    return {"skills": [skill_phrase(labelled(text, "Question:"))]}


def answer_switch(text: str) -> tuple[str, dict[str, float]]:
    """One option letter, and the log-probabilities of every option letter: the hinted option first."""
    letters = options(text) or ["A", "B"]
    hint = re.search(r"answer is \(([A-Z])\)", text)
    best = hint.group(1) if hint else letters[0]
    return best, {letter: (-0.05 if letter == best else -3.0) for letter in letters}


# ---- the protocol ---------------------------------------------------------------------------------

def reply(body: dict[str, Any], *, images: bool, logprobs: bool) -> dict[str, Any]:
    """The chat.completion answering one request body."""
    text, shown = user_text(body)
    if shown and not images:  # what a text-only llama.cpp server answers
        raise Refused(500, "image input is not supported - hint: if this is unexpected, you may need to provide "
                           "the mmproj")
    name = schema_name(body)
    structured = {"PreflightReply": lambda t: {"ok": True}, "FirstWrongStep": answer_first_wrong_step,
                  "StepVerdict": answer_step_check, "MissingSkills": answer_skills, "RequiredSkills": answer_skills}
    if name in structured:
        content, letters = json.dumps(structured[name](text)), {"{": -0.01, " {": -4.0}
    elif name is None and body.get("logprobs"):
        content, letters = answer_switch(text)
    else:
        raise Refused(400, f"unknown task: output schema {name!r} (plain requests must ask for logprobs)")
    choice: dict[str, Any] = {"index": 0, "message": {"role": "assistant", "content": content},
                              "finish_reason": "stop", "logprobs": None}
    if body.get("logprobs") and logprobs:
        top = sorted(letters.items(), key=lambda item: -item[1])[: int(body.get("top_logprobs") or 0)]
        first = max(letters.items(), key=lambda item: item[1])
        choice["logprobs"] = {"content": [{"token": first[0], "logprob": first[1], "bytes": None,
                                           "top_logprobs": [{"token": t, "logprob": p, "bytes": None}
                                                            for t, p in top]}]}
    prompt, completion = len(json.dumps(body["messages"])) // 4, max(1, len(content) // 4)
    return {"id": "own-1", "object": "chat.completion", "created": 0, "model": MODEL, "choices": [choice],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                      "total_tokens": prompt + completion}}


def handler(images: bool, logprobs: bool) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
                return
            try:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                self._send(200, reply(body, images=images, logprobs=logprobs))
            except Refused as exc:
                kind = "server_error" if exc.status >= 500 else "invalid_request_error"
                self._send(exc.status, {"error": {"code": exc.status, "message": str(exc), "type": kind}})
            except (ValueError, KeyError, TypeError) as exc:
                self._send(400, {"error": {"message": f"bad request: {exc!r}", "type": "invalid_request_error"}})

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: one line per request would drown the run's own output."""

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8011, help="0 picks a free port")
    parser.add_argument("--no-images", action="store_true", help="refuse images like a text-only server")
    parser.add_argument("--no-logprobs", action="store_true", help="never return logprobs")
    args = parser.parse_args()
    server = ThreadingHTTPServer((args.host, args.port), handler(not args.no_images, not args.no_logprobs))
    server.daemon_threads = True
    print(f"listening on http://{args.host}:{server.server_address[1]}/v1 (model {MODEL})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
