"""Exceptions, named by whose fault they are.

Every exception carries its evidence as attributes (file/row/field, raw model output, attempts, HTTP
status). Only the CLI turns them into text for people; library code raises and never prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class EdtuneError(Exception):
    """Base class of every error edtune raises on purpose."""


class UserError(EdtuneError):
    """The caller's fault: a bad setting, argument, file or spec. Fixing the input fixes it."""


class DataError(UserError):
    """One bad input record: names the file, the row (1-based line or index) and the field."""

    def __init__(self, message: str, *, file: str | None = None, row: int | None = None,
                 field: str | None = None) -> None:
        self.file = file
        self.row = row
        self.field = field
        self.detail = message
        super().__init__(self._format())

    def _format(self) -> str:
        where = [f"{k}={v}" for k, v in (("file", self.file), ("row", self.row), ("field", self.field))
                 if v is not None]
        return f"{self.detail} ({', '.join(where)})" if where else self.detail


class TemplateError(UserError):
    """A prompt template that is missing, invalid, or needs a variable the caller did not give."""


class ConfigError(UserError):
    """A config, spec file or spec string that does not validate."""


class TeacherPreflightFailed(ConfigError):
    """The run-start preflight found the teacher unable to do what the run needs: unreachable, unable to
    take images, without top logprobs where answer-switch would read them, or unable to reply in its
    structured-output mode. `check` names the failed check, `setting` what to change (a run-config key,
    the `adapt()` argument, a teacher spec key); `status`, `body` and `tries` are the server's evidence."""

    def __init__(self, message: str, *, check: str, setting: str, status: int | None = None,
                 body: str | None = None, tries: int = 0) -> None:
        self.check = check
        self.setting = setting
        self.status = status
        self.body = body
        self.tries = tries
        super().__init__(message)


class RunDirBusy(UserError):
    """Another process owns the run directory: a second run or resume on it is refused."""

    def __init__(self, root: str, *, pid: int | None, host: str | None) -> None:
        self.root = root
        self.pid = pid
        self.host = host
        owner = f"process {pid} on {host}" if pid is not None else "another process"
        super().__init__(f"{root} is in use by {owner}; wait for it to end or stop it first")


class MissingDependency(UserError):
    """An optional package is needed for what was asked; the message says what to pip install."""

    def __init__(self, package: str, extra: str | None = None, purpose: str = "") -> None:
        self.package = package
        self.extra = extra
        hint = f"pip install 'edtune[{extra}]'" if extra else f"pip install {package}"
        what = f" for {purpose}" if purpose else ""
        super().__init__(f"the optional package '{package}' is needed{what}: {hint}")


@dataclass
class Attempt:
    """One try at getting valid output from a model: what came back and why it was refused."""

    raw: str
    error: str
    extra: dict[str, Any] = field(default_factory=dict)


class UnexpectedModelBehavior(EdtuneError):
    """The model's fault: its output could not be used after every allowed re-ask.

    `attempts` holds each raw output with the validation error it got, in order.
    """

    def __init__(self, message: str, *, attempts: list[Attempt] | None = None,
                 model: str | None = None) -> None:
        self.attempts = attempts or []
        self.model = model
        super().__init__(message)

    @property
    def raw_output(self) -> str | None:
        """The last raw output the model gave, if any."""
        return self.attempts[-1].raw if self.attempts else None


class ProviderError(EdtuneError):
    """The server's fault, after retries: HTTP status, body and how many tries were made."""

    def __init__(self, message: str, *, status: int | None = None, body: str | None = None,
                 tries: int = 1) -> None:
        self.status = status
        self.body = body
        self.tries = tries
        super().__init__(message)


class RequestRejected(ProviderError):
    """The server refused this one request as invalid (HTTP 400, 413 or 422: too long for the context,
    content it cannot take ...). Unlike other provider errors it says nothing about the next request, so
    batch stages record it as that sample's failure and go on."""


class UnsupportedInput(ProviderError):
    """The server cannot take a kind of input the request carries, e.g. images sent to a text-only model
    (llama.cpp answers HTTP 500 "image input is not supported"). Never retried, whatever the status; unlike
    RequestRejected it concerns every request carrying that input, so it stops a run instead of failing
    one sample: send that teacher no images (`teacher_images = false`, or `images = false` in its spec)."""


class MalformedReply(ProviderError):
    """The server answered, but not with a usable chat completion: a truncated, empty or non-JSON body, a
    wrong content type, or a connection dropped mid-reply. Retried like a 5xx; once the retries are spent it
    concerns only this request, so batch stages record it as that sample's failure (with `body`, the raw
    reply, as evidence) and go on."""


SAMPLE_PROVIDER_ERRORS = (RequestRejected, MalformedReply)
"""Provider errors that concern one request, not the server: recorded per sample, never stopping a run."""


REJECTED_STATUSES = frozenset({400, 413, 422})
"""HTTP statuses that reject one request rather than signal a broken server, key or quota."""


class BudgetExceeded(EdtuneError):
    """A token or sample budget set by the user would be passed by the next call."""

    def __init__(self, message: str, *, used: int, limit: int) -> None:
        self.used = used
        self.limit = limit
        super().__init__(message)


class LaunchFailed(EdtuneError):
    """Training started with `accelerate launch` ended without its result: the processes exited with an error
    (a bad accelerate config, out of memory, a crash in a child) or left no adapter. Carries the command,
    the exit status and the end of the children's output."""

    def __init__(self, message: str, *, command: list[str], status: int, output: str) -> None:
        self.command = command
        self.status = status
        self.output = output
        super().__init__(f"{message} (exit status {status}; command: {' '.join(command)})\n{output}")


class Interrupted(BaseException):
    """The user stopped the process with SIGINT or SIGTERM (raised by the CLI's signal handlers).

    A BaseException like KeyboardInterrupt, so no `except Exception` on the way up swallows it: every
    `finally` runs, files are left as a kill would leave them at worst, and the run directory is let go.
    `run_dir` is filled in by the command that knows which run was stopped.
    """

    def __init__(self, signum: int, run_dir: str | None = None) -> None:
        self.signum = signum
        self.run_dir = run_dir
        super().__init__(f"interrupted by signal {signum}")

    @property
    def exit_code(self) -> int:
        """The shell's convention: 128 + the signal number (130 for SIGINT, 143 for SIGTERM)."""
        return 128 + self.signum
