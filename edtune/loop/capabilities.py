"""What the run's teacher can do (see images, return logprobs), and the localisation `auto` picks from it.

Each capability comes from the run config when set there (`teacher_images`, `localise.teacher_logprobs`),
else from the teacher spec's declaration (`images`, `logprobs` in a spec file), else it is assumed (a spec
string or a teacher object declares nothing). A config that asks for what the spec declares missing, or
`localise.method = "answer_switch"` without logprobs, is refused before any model work. Where logprobs are
only assumed, the run-start preflight (`edtune.loop.preflight`) replaces the assumption by what the teacher
showed (`observed`), so `auto` never picks answer-switch for a teacher that returns no logprobs.
"""

from __future__ import annotations

from typing import Literal

from edtune.errors import ConfigError
from edtune.loop.config import RunConfig
from edtune.methods import needs_teacher
from edtune.records import Record

Source = Literal["run config", "teacher spec", "default", "preflight"]


class Capability(Record):
    """One capability of the teacher and where the run got it from."""

    value: bool
    """Whether the teacher has it."""
    source: Source
    """run config (set there), teacher spec (declared in its spec file), default (assumed), or preflight (the
    run-start check saw it, where it was only assumed)."""
    setting: str
    """The run-config setting that controls it, for messages."""


class TeacherCapabilities(Record):
    """The capabilities a run relies on."""

    images: Capability
    """The teacher reads images (samples' images are sent with each request)."""
    logprobs: Capability
    """The teacher's server returns top logprobs (answer-switch localisation reads them)."""


class LocalisationChoice(Record):
    """Which localisation a run uses and why: written to `localisation.json` in the run directory."""

    method: Literal["auto", "direct", "per_step", "answer_switch"]
    """The configured `localise.method`."""
    multiple_choice: str
    """How multiple-choice errors are localised."""
    open_questions: str
    """How open-question errors are localised."""
    reason: str
    """Why, in words."""


def _declared(config: RunConfig) -> tuple[bool | None, bool | None]:
    """(images, logprobs) as the teacher spec declares them; None for one it does not set (a spec string
    sets neither) and for a teacher that is no spec."""
    from edtune.specs import ModelSpec, load_spec

    if config.teacher is None:
        return None, None
    try:
        spec = load_spec(config.teacher)
    except ConfigError:  # a teacher object's name, not a spec
        return None, None
    if not isinstance(spec, ModelSpec):
        return None, None
    declared = spec.model_fields_set
    return (spec.images if "images" in declared else None, spec.logprobs if "logprobs" in declared else None)


def _capability(configured: bool | None, declared: bool | None, setting: str) -> Capability:
    if configured is not None:
        return Capability(value=configured, source="run config", setting=setting)
    if declared is not None:
        return Capability(value=declared, source="teacher spec", setting=setting)
    return Capability(value=True, source="default", setting=setting)


def teacher_capabilities(config: RunConfig) -> TeacherCapabilities:
    """The run's teacher capabilities; ConfigError when the config asks for one the spec declares missing."""
    images, logprobs = _declared(config)
    caps = TeacherCapabilities(images=_capability(config.teacher_images, images, "teacher_images"),
                               logprobs=_capability(config.localise.teacher_logprobs, logprobs,
                                                    "localise.teacher_logprobs"))
    for cap, declared, key in ((caps.images, images, "images"), (caps.logprobs, logprobs, "logprobs")):
        if cap.value and declared is False:
            raise ConfigError(f"{cap.setting} = true, but the teacher spec '{config.teacher}' declares {key} = false; "
                              f"leave {cap.setting} unset or use a teacher that has it")
    if needs_teacher(config.method) and config.localise.method == "answer_switch" and not caps.logprobs.value:
        raise ConfigError("localise.method = \"answer_switch\" reads the teacher's logprobs, but "
                          f"{_said(caps.logprobs)} they are not returned; use \"auto\" or \"direct\"")
    return caps


def observed(caps: TeacherCapabilities, *, logprobs: bool) -> TeacherCapabilities:
    """`caps` with the logprobs the preflight saw, where they were only assumed (a declared capability that
    the teacher lacks is the preflight's error, not a silent change)."""
    if caps.logprobs.source != "default":
        return caps
    seen = Capability(value=logprobs, source="preflight", setting=caps.logprobs.setting)
    return caps.model_copy(update={"logprobs": seen})


def _said(cap: Capability) -> str:
    return {"run config": f"{cap.setting} = false says", "teacher spec": "the teacher spec's logprobs = false says",
            "default": "the default says", "preflight": "the run-start preflight found"}[cap.source]


def localisation_choice(config: RunConfig, caps: TeacherCapabilities) -> LocalisationChoice:
    """What `localise.method` means for this run's teacher, with the reason."""
    method = config.localise.method
    if method != "auto":
        name = method.replace("_", "-")
        return LocalisationChoice(method=method, multiple_choice=name, open_questions=name,
                                  reason=f"localise.method = \"{method}\" was set")
    if caps.logprobs.value:
        origin = {"run config": "as the run config says", "teacher spec": "as its spec declares",
                  "default": "assumed: set localise.teacher_logprobs = false or logprobs = false in the "
                             "teacher spec if it does not",
                  "preflight": "the run-start preflight saw top logprobs in its reply"}[caps.logprobs.source]
        return LocalisationChoice(method=method, multiple_choice="answer-switch", open_questions="direct",
                                  reason=f"the teacher returns logprobs ({origin}); answer-switch cannot score "
                                         "an open question")
    return LocalisationChoice(method=method, multiple_choice="direct", open_questions="direct",
                              reason=f"{_said(caps.logprobs)} the teacher returns no logprobs, which answer-switch "
                                     "needs" + (" (asked for top_logprobs, its reply carried none)"
                                                if caps.logprobs.source == "preflight" else ""))
