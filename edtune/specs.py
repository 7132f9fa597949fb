"""Choosing a judge or a teacher by one string or by a spec file.

One string is one of:
- a rule judge name: `exact`, `choice`, `numeric` (judges only);
- a model spec string `<provider>/<model>[@<base_url>]`, e.g. `openai/gpt-4o-mini`,
  `vllm/Qwen/Qwen2.5-7B-Instruct@http://127.0.0.1:8000/v1`, `llamacpp/smollm2`,
  `openai-compatible/smollm2@http://127.0.0.1:8080/v1`.
  The provider is everything before the first "/", the model everything up to the first "@" (it may
  contain "/"), the base URL the rest. `mock/<name>` and `mock/<replies>.jsonl` are an in-process model
  with default or scripted replies and no server (`edtune.llm.mock`);
- a spec file: a path ending in `.toml`, or the name of a file `<name>.toml` in the project's `judges/`
  folder (teacher specs have the same format and may live there too).

Spec files are TOML validated into `ModelSpec` (or `RuleJudgeSpec` when they set `rule`); the format
is documented in `judges/README.md`. A spec holds the NAME of the environment variable with the API key,
never the key, so a spec (and its repr, and a run record made from it) is safe to log.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator

from edtune.errors import ConfigError, UserError
from edtune.judging.base import Judge
from edtune.judging.registry import judges
from edtune.llm.base import LLMClient, StructuredMode
from edtune.records import Record
from edtune.settings import project_paths
from edtune.tomlfile import read_toml

if TYPE_CHECKING:
    from edtune.llm.cache import LLMCache
    from edtune.llm.usage import UsageMeter

Provider = Literal["openai", "vllm", "llamacpp", "openai-compatible", "mock"]
PROVIDERS: tuple[str, ...] = ("openai", "vllm", "llamacpp", "openai-compatible", "mock")
GRAMMAR = f"<provider>/<model>[@<base_url>] with provider one of {', '.join(PROVIDERS)}"
_DEFAULT_BASE_URL: dict[str, str | None] = {"openai": None, "vllm": "http://127.0.0.1:8000/v1",
                                            "llamacpp": "http://127.0.0.1:8080/v1", "openai-compatible": None,
                                            "mock": None}
_DEFAULT_KEY_ENV = {"openai": "OPENAI_API_KEY", "vllm": "VLLM_API_KEY", "llamacpp": "LLAMACPP_API_KEY",
                    "openai-compatible": "OPENAI_API_KEY", "mock": "MOCK_API_KEY"}
_ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


class SamplingParams(Record):
    """Sampling settings every request built from a spec carries."""

    temperature: float = Field(default=0.0, ge=0.0)
    """Sampling temperature; 0 (greedy) keeps judgments and teacher answers reproducible."""
    max_tokens: int | None = Field(default=None, gt=0)
    """Upper bound on generated tokens per call; None leaves it to the server."""
    seed: int | None = None
    """Server-side sampling seed, for servers that honour one."""

    def request_fields(self) -> dict[str, Any]:
        """The ChatRequest fields these settings set: temperature always, max_tokens and seed when set."""
        return self.model_dump(exclude_none=True)


class ModelSpec(Record):
    """A teacher or judge model: where it is served, how to call it, and with which settings."""

    provider: Provider
    """openai (the hosted API), vllm (a vLLM server), llamacpp (llama-server / xllamacpp),
    openai-compatible (any other server speaking the chat-completions protocol), or mock (in-process replies,
    no server: `edtune.llm.mock`). Names the client in logs."""
    model: str = Field(min_length=1, pattern=r"^[^\s@]+$")
    """The model name the server knows, e.g. "gpt-4o-mini" or "Qwen/Qwen2.5-7B-Instruct"; for mock, a name
    (default replies) or the path of a `.jsonl` replies file."""
    base_url: str | None = None
    """The server's OpenAI-compatible root, e.g. "http://127.0.0.1:8000/v1". Defaults: none (the SDK's) for
    openai, http://127.0.0.1:8000/v1 for vllm, http://127.0.0.1:8080/v1 for llamacpp; required for
    openai-compatible. Never with credentials."""
    api_key_env: str | None = Field(default=None, pattern=_ENV_NAME)
    """NAME of the environment variable holding the API key (never the key); None uses the provider's:
    OPENAI_API_KEY for openai and openai-compatible, VLLM_API_KEY for vllm, LLAMACPP_API_KEY for llamacpp
    (see `key_env`). A server on localhost needs no key at all."""
    mode: StructuredMode = "json_schema"
    """How structured replies are constrained: json_schema, structured_outputs (vLLM), json_object, text."""
    params: SamplingParams = Field(default_factory=SamplingParams)
    """Sampling settings for every request."""
    template: str | None = None
    """Prompt template name in `prompts/` (a judge's; None uses the default). Teachers ignore it."""
    concurrency: int = Field(default=8, ge=1)
    """Calls in flight at once for a batch."""
    timeout_s: float = Field(default=120.0, gt=0)
    """Per-request timeout in seconds."""
    max_retries: int = Field(default=5, ge=0)
    """Retries of a request after 408, 429, 5xx, timeouts, connection errors and malformed replies (a
    truncated, empty or non-JSON body); other 4xx are never retried."""
    max_reasks: int = Field(default=2, ge=0)
    """Re-asks with the validation error fed back when a structured reply does not validate."""
    images: bool = True
    """Whether the model reads images. False declares a text-only model: a run that leaves
    `teacher_images` unset then sends it none, and one that asks for images is refused at start."""
    logprobs: bool = True
    """Whether the server returns top logprobs. False: `localise.method = "auto"` uses direct localisation,
    and `"answer_switch"` (which reads them) is refused at start."""

    @field_validator("base_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http(s) URL with a host, e.g. http://127.0.0.1:8000/v1")
        if parts.username is not None or parts.password is not None:
            raise ValueError("must not carry credentials; put the key in the variable named by api_key_env")
        if parts.query or parts.fragment:
            raise ValueError("must not have a query or fragment")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _provider_defaults(self) -> ModelSpec:
        if self.provider == "mock" and self.base_url is not None:
            raise ValueError("provider mock runs in process and takes no base_url")
        if self.base_url is None:
            if self.provider == "openai-compatible":
                raise ValueError("provider openai-compatible needs a base_url")
            self.base_url = _DEFAULT_BASE_URL[self.provider]
        return self

    @property
    def key_env(self) -> str:
        """The environment variable the client reads the API key from."""
        return self.api_key_env or _DEFAULT_KEY_ENV[self.provider]

    @property
    def spec_string(self) -> str:
        """The one-string form, "<provider>/<model>[@<base_url>]" (no secrets: specs hold none)."""
        return f"{self.provider}/{self.model}" + (f"@{self.base_url}" if self.base_url else "")


class RuleJudgeSpec(Record):
    """A rule judge chosen by name, with options for its constructor (e.g. numeric tolerances)."""

    rule: str
    """A registered rule judge: exact, choice or numeric."""
    options: dict[str, float | int | str | bool] = Field(default_factory=dict)
    """Keyword arguments of the judge, e.g. {abs_tol = 0.5} for numeric."""

    @field_validator("rule")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in judges:
            raise ValueError(f"unknown rule judge (known: {', '.join(judges.names())})")
        return value


def _redact(text: str) -> str:
    return re.sub(r"//[^/@\s]*@", "//***@", text)


def _problems(exc: ValidationError) -> str:
    # Input values are left out on purpose: a misplaced key must never be echoed into a log.
    problems = []
    for err in exc.errors(include_url=False, include_input=False):
        where = ".".join(map(str, err["loc"]))
        message = err["msg"].removeprefix("Value error, ")
        problems.append(f"field '{where}': {message}" if where else message)
    return "; ".join(problems)


def parse_spec_string(text: str) -> ModelSpec:
    """`<provider>/<model>[@<base_url>]` into a ModelSpec; ConfigError naming the string when it is not one."""
    shown = _redact(text)
    provider, slash, rest = text.strip().partition("/")
    if not slash or not rest:
        raise ConfigError(f"bad model spec '{shown}': expected {GRAMMAR}")
    if provider not in PROVIDERS:
        hint = " (scripted clients are built in code, not from a spec)" if provider == "scripted" else ""
        raise ConfigError(f"bad model spec '{shown}': unknown provider '{provider}'{hint}; expected {GRAMMAR}")
    model, at, url = rest.partition("@")
    try:
        return ModelSpec.model_validate({"provider": provider, "model": model, "base_url": url if at else None})
    except ValidationError as exc:
        raise ConfigError(f"bad model spec '{shown}': {_problems(exc)}; expected {GRAMMAR}") from None


def load_spec_file(path: str | Path) -> ModelSpec | RuleJudgeSpec:
    """Validate a TOML spec file: a RuleJudgeSpec when it sets `rule`, else a ModelSpec.

    ConfigError names the file and every bad field (an unknown key included), never the values.
    """
    path = Path(path)
    data = read_toml(path, "spec file")
    record: type[ModelSpec | RuleJudgeSpec] = RuleJudgeSpec if "rule" in data else ModelSpec
    try:
        return record.model_validate(data)
    except ValidationError as exc:
        keys = [k for k in data if "key" in k.lower() and k != "api_key_env"]
        hint = "; a spec names the environment variable holding the key (api_key_env), never the key" if keys else ""
        raise ConfigError(f"{path}: invalid {record.__name__}: {_problems(exc)}{hint}") from None


def _find_spec_file(choice: str, project_dir: str | Path | None) -> Path:
    """The file a `.toml` choice names: a path as given, else a file of that name in `judges/`."""
    given = Path(choice).expanduser()
    if given.is_file():
        return given
    folder = project_paths(project_dir).judges
    if (folder / choice).is_file():
        return folder / choice
    raise ConfigError(f"spec file '{choice}' not found (looked in the working directory and {folder})")


def spec_file_names(project_dir: str | Path | None = None) -> list[str]:
    """Names of the spec files in the project's `judges/` folder (without `.toml`), sorted."""
    folder = project_paths(project_dir).judges
    return sorted(p.stem for p in folder.glob("*.toml")) if folder.is_dir() else []


def load_spec(choice: str, project_dir: str | Path | None = None) -> ModelSpec | RuleJudgeSpec:
    """Resolve one string: a rule judge name, a spec file (path or name in `judges/`), or a spec string."""
    if choice in judges:
        return RuleJudgeSpec(rule=choice)
    if choice.endswith(".toml"):
        return load_spec_file(_find_spec_file(choice, project_dir))
    if "/" in choice:
        return parse_spec_string(choice)
    named = project_paths(project_dir).judges / f"{choice}.toml"
    if re.fullmatch(r"[\w.-]+", choice) and named.is_file():
        return load_spec_file(named)
    files = ", ".join(spec_file_names(project_dir)) or "none"
    raise ConfigError(f"unknown judge or model '{_redact(choice)}': not a rule judge ({', '.join(judges.names())}), "
                      f"not a spec file in judges/ ({files}), and not a spec string {GRAMMAR}")


def load_model_spec(choice: str, project_dir: str | Path | None = None) -> ModelSpec:
    """Like `load_spec`, for places that need a model (a teacher): a rule judge is a ConfigError."""
    spec = load_spec(choice, project_dir)
    if isinstance(spec, RuleJudgeSpec):
        raise ConfigError(f"'{choice}' names the rule judge '{spec.rule}', but a model is needed here")
    return spec


def build_client(spec: ModelSpec, *, cache: LLMCache | None = None, usage: UsageMeter | None = None,
                 http_client: Any = None, replica_url: str | None = None,
                 project_dir: str | Path | None = None) -> LLMClient:
    """An OpenAICompatibleClient for `spec`. The key is read from the variable `spec.api_key_env` by the
    client; it never passes through the spec. `replica_url` sends the requests to a replica serving the
    same model instead of `spec.base_url`; cache keys keep naming `spec.base_url`, so all replicas share
    cached replies. `project_dir` is where the re-ask template is looked up (default: found from the
    working directory). A mock spec gives a `MockClient`, which takes none of these (no cache, no meter)."""
    if spec.provider == "mock":
        from edtune.llm.mock import mock_client

        return mock_client(spec.model, max_reasks=spec.max_reasks)
    from edtune.llm.openai_client import OpenAICompatibleClient

    key_base_url = spec.base_url if replica_url is not None else None
    return OpenAICompatibleClient(spec.model, base_url=replica_url or spec.base_url, api_key_env=spec.key_env,
                                  provider=spec.provider, default_mode=spec.mode, max_reasks=spec.max_reasks,
                                  max_retries=spec.max_retries, timeout_s=spec.timeout_s, cache=cache,
                                  usage=usage, http_client=http_client, key_base_url=key_base_url,
                                  project_dir=project_dir)


def build_judge(choice: str, *, project_dir: str | Path | None = None, cache: LLMCache | None = None,
                usage: UsageMeter | None = None, http_client: Any = None) -> Judge:
    """The judge one string names (see the module docstring); a model spec gives an LLMJudge."""
    spec = load_spec(choice, project_dir)
    if isinstance(spec, RuleJudgeSpec):
        try:
            return judges.create(spec.rule, **spec.options)
        except (TypeError, UserError) as exc:
            raise ConfigError(f"judge '{choice}': bad options for rule judge '{spec.rule}' ({exc})") from exc
    from edtune.judging.llm import DEFAULT_TEMPLATE, LLMJudge

    client = build_client(spec, cache=cache, usage=usage, http_client=http_client)
    return LLMJudge(client, template=spec.template or DEFAULT_TEMPLATE, project_dir=project_dir, mode=spec.mode,
                    concurrency=spec.concurrency, temperature=spec.params.temperature,
                    max_tokens=spec.params.max_tokens, seed=spec.params.seed)


def build_teacher_client(choice: str, *, project_dir: str | Path | None = None, cache: LLMCache | None = None,
                         usage: UsageMeter | None = None, http_client: Any = None,
                         max_retries: int | None = None) -> LLMClient:
    """The client a teacher spec string or spec file names. Its sampling settings are not the client's:
    hand `load_model_spec(choice).params` to the teacher tasks (`TeacherTask(..., sampling=...)`), which
    merge them with what each task needs; `.concurrency` bounds a batch. `max_retries` caps the spec's
    retries (a quick check wants a dead server found in seconds)."""
    spec = load_model_spec(choice, project_dir)
    if max_retries is not None and max_retries < spec.max_retries:
        spec = spec.model_copy(update={"max_retries": max_retries})
    return build_client(spec, cache=cache, usage=usage, http_client=http_client)
