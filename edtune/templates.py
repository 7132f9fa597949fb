"""Prompt templates as files: load, validate, hash and render them into chat messages.

A template is one file `prompts/<name>.jinja`: TOML front matter between `+++` lines, then one or more
message sections, each opened by a line `=== system ===`, `=== user ===` or `=== assistant ===`. The
format is documented for users in `prompts/README.md`.

Loading validates the front matter (`TemplateMeta`), parses every section with Jinja, and checks that
the variables the sections use (found with `jinja2.meta`) are exactly those the front matter documents.
Rendering happens in a `SandboxedEnvironment` with `StrictUndefined`: a missing variable, or an attempt
to reach Python internals (`{{ ''.__class__ }}`), raises `TemplateError` naming the template.

The content hash is taken over the file's bytes, so any edit (even to the description) gives a new
hash; callers put it in `ChatRequest.template_hash`, which makes it part of the cache key.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, UndefinedError, meta
from jinja2 import TemplateError as JinjaTemplateError
from jinja2.sandbox import SandboxedEnvironment, SecurityError
from pydantic import Field, ValidationError

from edtune import tomlfile
from edtune.errors import TemplateError
from edtune.llm.base import ContentPart, Message
from edtune.records import Record
from edtune.settings import defaults_root, project_paths

SUFFIX = ".jinja"
_FENCE = "+++"
_SECTION = re.compile(r"^===\s*(?P<role>system|user|assistant)\s*===\s*$")
_NAME = r"^[a-z][a-z0-9_]*$"

Role = Literal["system", "user", "assistant"]
ImageInput = str | Path
"""An image for a VLM prompt: a `data:` URI used as is, or a path to an image file."""


# Plain text out (no HTML escaping); block tags take their line with them so templates read naturally.
_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True,
                            keep_trailing_newline=False)


class TemplateMeta(Record):
    """The TOML front matter of a template file."""

    name: str = Field(pattern=_NAME)
    """Identifier; must equal the file name without `.jinja` (lowercase, digits, underscores)."""
    description: str = Field(min_length=1)
    """One or two sentences on what the prompt asks, shown by `edtune prompts list`."""
    task: str = Field(pattern=_NAME)
    """The task that renders this template (e.g. `first_wrong_step`); a task refuses a template made
    for another task, so a template cannot be plugged into the wrong code by mistake."""
    output: str | None = None
    """Name of the Pydantic model the reply must validate against, or None for a plain-text reply."""
    images: bool = False
    """Whether the template may carry images: they are attached to the first user message."""
    variables: dict[str, str] = Field(default_factory=dict)
    """Every variable the message sections use, mapped to a description of what it holds."""


@dataclass(frozen=True)
class _Section:
    role: Role
    source: str
    compiled: Template


@dataclass(frozen=True)
class PromptTemplate:
    """A loaded, validated template. Build with `load_template` or `parse_template`."""

    meta: TemplateMeta
    path: Path | None
    hash: str
    sections: tuple[_Section, ...]
    needed: frozenset[str]

    @property
    def name(self) -> str:
        return self.meta.name

    def variables(self) -> set[str]:
        """The variables the message sections need (found by `jinja2.meta`, not read from the front matter)."""
        return set(self.needed)

    def render(self, variables: Mapping[str, Any], images: Sequence[ImageInput] = ()) -> list[Message]:
        """Render every section into a message; images go first in the first user message.

        Raises TemplateError for a missing variable, an unsafe operation caught by the sandbox, images
        given to a template without `images = true`, or a template that renders to no message at all.
        Variables the template does not use are ignored, so an edited template may drop one.
        """
        missing = sorted(self.variables() - set(variables))
        if missing:
            raise TemplateError(f"template '{self.name}' needs variable(s) {', '.join(missing)} "
                                f"that were not given")
        if images and not self.meta.images:
            raise TemplateError(f"template '{self.name}' does not take images (set images = true to allow)")
        messages = [Message(role=s.role, content=text) for s in self.sections
                    if (text := self._render_section(s, variables))]
        if not messages:
            raise TemplateError(f"template '{self.name}' rendered no message (every section was empty)")
        return _attach_images(self.name, messages, [image_data_uri(i) for i in images]) if images else messages

    def _render_section(self, section: _Section, variables: Mapping[str, Any]) -> str:
        try:
            return section.compiled.render(variables).strip()
        except SecurityError as exc:
            raise TemplateError(f"template '{self.name}' was refused by the sandbox: {exc}") from exc
        except UndefinedError as exc:
            raise TemplateError(f"template '{self.name}' used an undefined value: {exc}") from exc
        except (JinjaTemplateError, TypeError, ValueError, ArithmeticError) as exc:
            # e.g. a filter applied to a value of the wrong type: the template (or its input) is at fault
            raise TemplateError(f"template '{self.name}' failed to render: {type(exc).__name__}: {exc}") from exc


def template_hash(data: bytes) -> str:
    """The content hash of a template file: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(data).hexdigest()[:16]


def parse_template(data: bytes, *, origin: str, path: Path | None = None) -> PromptTemplate:
    """Validate and compile a template from a file's bytes; `origin` names it in error messages."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TemplateError(f"{origin}: not UTF-8 ({exc})") from exc
    header, body = _split_front_matter(text, origin)
    template_meta = _parse_meta(header, origin)
    sections = _parse_sections(body, origin)
    needed = frozenset().union(*(meta.find_undeclared_variables(_ENV.parse(s.source)) for s in sections))
    template = PromptTemplate(meta=template_meta, path=path, hash=template_hash(data), sections=sections,
                              needed=needed)
    _check_variables(template, origin)
    return template


def load_template(name: str, project_dir: str | Path | None = None) -> PromptTemplate:
    """Load `prompts/<name>.jinja` from the project dir (see `edtune.settings.project_paths`)."""
    folder = project_paths(project_dir).prompts
    path = folder / f"{name}{SUFFIX}"
    if not path.is_file():
        known = ", ".join(list_template_names(project_dir)) or "none"
        raise TemplateError(f"no template '{name}' in {folder} (known: {known})")
    template = parse_template(path.read_bytes(), origin=str(path), path=path)
    if template.meta.name != name:
        raise TemplateError(f"{path}: front matter name '{template.meta.name}' differs from the file name")
    return template


def load_template_or_default(name: str, project_dir: str | Path | None = None) -> PromptTemplate:
    """`prompts/<name>.jinja` of the project dir, else edtune's default one: for templates a project need not
    copy (see `edtune.settings`). A project file that is invalid is an error, not skipped."""
    has_own = (project_paths(project_dir).prompts / f"{name}{SUFFIX}").is_file()
    defaults = defaults_root()
    if not has_own and defaults is not None:
        return load_template(name, defaults)
    return load_template(name, project_dir)


def load_template_file(path: str | Path) -> PromptTemplate:
    """Load a template from any file (e.g. an edited copy outside `prompts/`); its name need not match."""
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise TemplateError(f"{file}: cannot read template ({exc.strerror})") from exc
    return parse_template(data, origin=str(file), path=file)


def list_template_names(project_dir: str | Path | None = None) -> list[str]:
    """Names of the template files in the project's `prompts/` folder, sorted."""
    folder = project_paths(project_dir).prompts
    return sorted(p.name.removesuffix(SUFFIX) for p in folder.glob(f"*{SUFFIX}") if p.is_file())


def image_data_uri(image: ImageInput) -> str:
    """A `data:` URI for an image file; a string that already is one is returned unchanged."""
    if isinstance(image, str) and image.startswith("data:"):
        return image
    from edtune.llm.images import image_data_uri as encode  # PIL is only needed when images are sent

    return encode(image)


def _split_front_matter(text: str, origin: str) -> tuple[str, str]:
    lines = text.splitlines()
    if not lines or lines[0].strip() != _FENCE:
        raise TemplateError(f"{origin}: must start with a '{_FENCE}' line opening the TOML front matter")
    for i, line in enumerate(lines[1:], start=1):
        if line.strip() == _FENCE:
            return "\n".join(lines[1:i]), "\n".join(lines[i + 1:])
    raise TemplateError(f"{origin}: the front matter is not closed by a '{_FENCE}' line")


def _parse_meta(header: str, origin: str) -> TemplateMeta:
    try:
        raw = tomlfile.loads(header)
    except tomlfile.TOMLDecodeError as exc:
        raise TemplateError(f"{origin}: front matter is not valid TOML ({exc})") from exc
    try:
        return TemplateMeta.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise TemplateError(f"{origin}: invalid front matter ({problems})") from exc


def _parse_sections(body: str, origin: str) -> tuple[_Section, ...]:
    parts: list[tuple[Role, list[str]]] = []
    for number, line in enumerate(body.splitlines(), start=1):
        if (m := _SECTION.match(line)) is not None:
            role: Role = m.group("role")  # type: ignore[assignment]
            parts.append((role, []))
        elif parts:
            parts[-1][1].append(line)
        elif line.strip():
            raise TemplateError(f"{origin}: body line {number} comes before the first '=== role ===' line")
    if not parts:
        raise TemplateError(f"{origin}: no message section ('=== system ===' or '=== user ===')")
    return tuple(_compile(role, "\n".join(lines), origin) for role, lines in parts)


def _compile(role: Role, source: str, origin: str) -> _Section:
    try:
        return _Section(role=role, source=source, compiled=_ENV.from_string(source))
    except TemplateSyntaxError as exc:
        raise TemplateError(f"{origin}: Jinja syntax error in a {role} section, line {exc.lineno}: "
                            f"{exc.message}") from exc


def _check_variables(template: PromptTemplate, origin: str) -> None:
    used = template.variables()
    documented = set(template.meta.variables)
    if undocumented := sorted(used - documented):
        raise TemplateError(f"{origin}: variable(s) {', '.join(undocumented)} used but not listed in [variables]")
    if unused := sorted(documented - used):
        raise TemplateError(f"{origin}: variable(s) {', '.join(unused)} listed in [variables] but never used")


def _attach_images(name: str, messages: list[Message], uris: list[str]) -> list[Message]:
    index = next((i for i, m in enumerate(messages) if m.role == "user"), None)
    if index is None:
        raise TemplateError(f"template '{name}' takes images but rendered no user message to carry them")
    target = messages[index]
    parts = [ContentPart(type="image_url", image_url=uri) for uri in uris]
    parts.append(ContentPart(type="text", text=str(target.content)))
    return [*messages[:index], Message(role="user", content=parts), *messages[index + 1:]]
