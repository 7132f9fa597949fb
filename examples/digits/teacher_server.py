"""A rule-based teacher for the digits task: an OpenAI-compatible server in the standard library only.

    python examples/digits/teacher_server.py --port 8011
    # -> serving model 'digits-teacher' at http://127.0.0.1:8011/v1

Spec string for edtune: `openai-compatible/digits-teacher@http://127.0.0.1:8011/v1`. It is text-only and
returns no logprobs: annotate with `--no-images`, and set `teacher_images = false` and
`localise.teacher_logprobs = false` in a run config.

It answers the structured teacher tasks edtune sends, told apart by the name of the JSON schema in
`response_format` (the contract in docs/reference_teacher.md "How it recognises the task"):

    RequiredSkills   the skills a pool question needs, from the kind of question it is
    FirstWrongStep   the first wrong step of a student's rationale
    StepVerdict      whether one step is right (per-step localisation)
    MissingSkills    the skill the student lacked at its wrong step
    PreflightReply   edtune's run-start check that the server answers at all: {"ok": true}

Like any teacher it reads only the request: the question, the correct answer the prompt states, and the
student's steps ("Step k: ..." lines, as edtune's templates write them). It never opens the task's files.
It does not look at the image either: a reading step ("The digit is 7.") is judged by whether that digit
agrees with the correct answer, and every later step by arithmetic on the digit read. Anything it cannot
read (an unknown question, a request for another task) gets HTTP 400 with an OpenAI-style error body.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL = "digits-teacher"

READING = re.compile(r"(?:digit|number)\s+(?:shown\s+)?is\s+(\d+)", re.IGNORECASE)
PARITY = re.compile(r"^(\d+)\s+is\s+(even|odd)\b", re.IGNORECASE)
GREATER = re.compile(r"^(\d+)\s+is\s+(not\s+)?(?:greater|bigger)\s+than\s+(?:5|five)\b", re.IGNORECASE)
SUCCESSOR = re.compile(r"^(\d+)\s+plus\s+1\s+is\s+(\d+)\b", re.IGNORECASE)
STEP = re.compile(r"^\s*Step\s+(\d+):\s*(.*\S)\s*$")

ANNOTATED = {
    "naming": ["reading a digit from an image"],
    "parity": ["telling even numbers from odd ones", "reading a digit from an image"],
    "greater_than_five": ["comparing a number with five", "reading a digit from an image"],
    "successor": ["adding one to a number", "reading a digit from an image"],
}
"""Skills a question of each kind needs (the annotation task), most important first."""
MISSING = {
    "reading": "recognising which digit is drawn",
    "parity": "deciding whether a number is even or odd",
    "greater_than_five": "judging whether a number exceeds five",
    "successor": "finding the number that comes next",
}
"""The skill named when a step of that kind is the wrong one (worded as a teacher would, not as annotated)."""


class Unanswerable(Exception):
    """The request is not one this teacher can answer; becomes an HTTP 400."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# ---- reading the prompt ---------------------------------------------------------------------------


def family_of(question: str) -> str:
    """The kind of question, from its words."""
    words = question.lower()
    if "even" in words or "odd" in words:
        return "parity"
    if "greater" in words or "bigger" in words or "more than" in words:
        return "greater_than_five"
    if "after" in words or "follows" in words or "next" in words:
        return "successor"
    if "digit" in words or "number" in words:
        return "naming"
    raise Unanswerable("unknown_question", f"not a digits question: {question!r}")


def consistent(family: str, digit: int, answer: str) -> bool:
    """Whether reading `digit` leads, reasoned correctly, to the correct `answer`."""
    answer = answer.strip().strip(".").lower()
    if family == "parity":
        return answer == ("even" if digit % 2 == 0 else "odd")
    if family == "greater_than_five":
        return answer == ("yes" if digit > 5 else "no")
    if family == "successor":
        return answer == str(digit + 1)
    return answer == str(digit)


def _field(text: str, label: str) -> str:
    match = re.search(rf"^{re.escape(label)}\s*(.*\S)\s*$", text, re.MULTILINE)
    if match is None:
        raise Unanswerable("unparsed_prompt", f"no '{label}' line in the prompt")
    return match.group(1)


def _steps(text: str) -> list[str]:
    """The last run of "Step k:" lines numbered from 1 (the student's reasoning)."""
    steps: list[str] = []
    for line in text.splitlines():
        if (match := STEP.match(line)) is not None:
            if int(match.group(1)) == 1:
                steps = []
            steps.append(match.group(2))
    return steps


# ---- judging steps --------------------------------------------------------------------------------


def step_kind(family: str, step: str) -> str:
    """What a step does: "reading", or the family its statement belongs to, or "other"."""
    if READING.search(step):
        return "reading"
    for kind, pattern in (("parity", PARITY), ("greater_than_five", GREATER), ("successor", SUCCESSOR)):
        if pattern.match(step):
            return kind
    return "other"


def judge_step(family: str, answer: str, previous: list[str], step: str) -> tuple[bool, str]:
    """(correct, reason) for `step` after the steps `previous`."""
    read = [int(m.group(1)) for s in previous if (m := READING.search(s))]
    kind = step_kind(family, step)
    if kind == "reading":
        digit = int(READING.search(step).group(1))  # type: ignore[union-attr]
        if consistent(family, digit, answer):
            return True, f"Reading the digit as {digit} agrees with the correct answer."
        return False, f"The digit is misread: a {digit} would not give the answer {answer}."
    if not read:
        return False, "The step reasons about a digit before reading one from the image."
    if kind != family:
        return False, f"The step does not help answer the question (it needs {MISSING[family]})."
    return _arithmetic(kind, read[-1], step)


def _arithmetic(kind: str, digit: int, step: str) -> tuple[bool, str]:
    if kind == "parity":
        m = PARITY.match(step)
        assert m is not None
        right = "even" if int(m.group(1)) % 2 == 0 else "odd"
        ok = int(m.group(1)) == digit and m.group(2).lower() == right
    elif kind == "greater_than_five":
        m = GREATER.match(step)
        assert m is not None
        ok = int(m.group(1)) == digit and (m.group(2) is None) == (digit > 5)
    else:
        m = SUCCESSOR.match(step)
        assert m is not None
        ok = int(m.group(1)) == digit and int(m.group(2)) == digit + 1
    if int(m.group(1)) != digit:
        return False, f"The step is about {m.group(1)}, but the digit read was {digit}."
    return ok, "The step is right." if ok else f"The step gets a fact about {digit} wrong."


def first_wrong(family: str, answer: str, steps: list[str]) -> tuple[int, str]:
    """(1-based step, reason): the first wrong step, else the last (the answer does not follow from it)."""
    for i, step in enumerate(steps):
        ok, reason = judge_step(family, answer, steps[:i], step)
        if not ok:
            return i + 1, reason
    return len(steps), "The steps are right, but the question is not answered from them."


def missing_skill(family: str, answer: str, steps: list[str], wrong: int | None) -> str:
    """The skill lacking at the wrong step: reading when the digit was misread, else the question's own."""
    if not steps:
        return MISSING[family]
    at = wrong if wrong is not None else first_wrong(family, answer, steps)[0]
    step = steps[min(max(at, 1), len(steps)) - 1]
    if step_kind(family, step) == "reading" and not judge_step(family, answer, [], step)[0]:
        return MISSING["reading"]
    return MISSING[family]


# ---- the tasks ------------------------------------------------------------------------------------


def _required_skills(prompt: str, schema: dict[str, Any]) -> dict[str, Any]:
    skills = ANNOTATED[family_of(_field(prompt, "Question:"))]
    return {"skills": skills[:schema.get("properties", {}).get("skills", {}).get("maxItems", len(skills))]}


def _first_wrong_step(prompt: str, schema: dict[str, Any]) -> dict[str, Any]:
    family, answer = family_of(_field(prompt, "Question:")), _field(prompt, "Correct answer:")
    steps = _steps(prompt)
    if not steps:
        raise Unanswerable("no_steps", "the prompt shows no student steps")
    step, reason = first_wrong(family, answer, steps)
    return {"step": step, "reason": reason}


def _step_verdict(prompt: str, schema: dict[str, Any]) -> dict[str, Any]:
    family, answer = family_of(_field(prompt, "Question:")), _field(prompt, "Correct answer:")
    before, _, judged = prompt.partition("Step to judge:")
    judged_steps = _steps(judged)
    if not judged_steps:
        raise Unanswerable("unparsed_prompt", "no 'Step to judge:' step in the prompt")
    correct, reason = judge_step(family, answer, _steps(before), judged_steps[0])
    return {"correct": correct, "reason": reason}


def _missing_skills(prompt: str, schema: dict[str, Any]) -> dict[str, Any]:
    family, answer = family_of(_field(prompt, "Question:")), _field(prompt, "Correct answer:")
    named = re.search(r"first incorrect step is Step (\d+)", prompt)
    return {"skills": [missing_skill(family, answer, _steps(prompt), int(named.group(1)) if named else None)]}


TASKS: dict[str, Callable[[str, dict[str, Any]], dict[str, Any]]] = {
    "RequiredSkills": _required_skills, "FirstWrongStep": _first_wrong_step,
    "StepVerdict": _step_verdict, "MissingSkills": _missing_skills,
}


def _text(message: dict[str, Any]) -> str:
    content = message.get("content") or ""
    if isinstance(content, str):
        return content
    return "\n".join(part.get("text", "") for part in content if part.get("type") == "text")


def answer(body: dict[str, Any]) -> str:
    """The reply text for one chat-completions request body."""
    fmt = body.get("response_format") or {}
    schema_info = fmt.get("json_schema") or {}
    if schema_info.get("name") == "PreflightReply":
        return json.dumps({"ok": True})
    task = TASKS.get(schema_info.get("name", ""))
    if task is None:
        raise Unanswerable("unknown_task", "only json_schema requests named RequiredSkills, FirstWrongStep, "
                                           "StepVerdict, MissingSkills or PreflightReply are answered")
    # A re-ask ends with edtune's "Invalid output" message: answer the last user message with a question.
    prompts = [_text(m) for m in body.get("messages", []) if m.get("role") == "user"]
    prompt = next((p for p in reversed(prompts) if "Question:" in p), None)
    if prompt is None:
        raise Unanswerable("unparsed_prompt", "no user message with a 'Question:' line")
    return json.dumps(task(prompt, schema_info.get("schema", {})))


# ---- HTTP -----------------------------------------------------------------------------------------


class TeacherServer(ThreadingHTTPServer):
    """The HTTP server, with a count of answered requests per task and of refused ones."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, _Handler)
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host if isinstance(host, str) else host.decode()}:{port}/v1"


class _Handler(BaseHTTPRequestHandler):
    server: TeacherServer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per request would drown the run's output

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/v1/models":
            self._send(200, {"object": "list", "data": [{"id": MODEL, "object": "model", "owned_by": "example"}]})
        else:
            self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

    def do_POST(self) -> None:
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
            return
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        task = ((body.get("response_format") or {}).get("json_schema") or {}).get("name", "?")
        try:
            text = answer(body)
        except Unanswerable as exc:
            with self.server.lock:
                self.server.counts["refused"] += 1
            self._send(400, {"error": {"message": f"digits teacher: {exc}", "type": "invalid_request_error",
                                       "param": None, "code": exc.code}})
            return
        with self.server.lock:
            self.server.counts[task] += 1
        prompt_tokens = sum(len(_text(m)) for m in body.get("messages", [])) // 4
        self._send(200, {
            "id": f"digits-{time.monotonic_ns()}", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", MODEL),
            "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                         "message": {"role": "assistant", "content": text}}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": len(text) // 4,
                      "total_tokens": prompt_tokens + len(text) // 4},
        })


def serve(host: str = "127.0.0.1", port: int = 0) -> TeacherServer:
    """Start the server on a background thread (port 0: a free one); `.shutdown()` stops it."""
    server = TeacherServer((host, port))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8011)
    args = parser.parse_args()
    server = TeacherServer((args.host, args.port))
    # Stop on Ctrl-C and on `kill` alike (a shell starts a background job with SIGINT ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    print(f"serving model '{MODEL}' at {server.base_url} - Ctrl-C to stop", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        print(f"requests answered per task: {dict(server.counts)}", flush=True)


if __name__ == "__main__":
    main()
