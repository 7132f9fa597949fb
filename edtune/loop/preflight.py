"""The run-start teacher preflight: which checks a run needs, asking them once per run directory, and
what a failure means in settings.

Checks (`edtune.teacher.preflight`), for a method that asks the teacher:

- reachable, always: the server answers a structured request in the spec's mode;
- images, when the run sends images: the `images` capability is on and the val or pool set is not
  declared `text_only`;
- logprobs, when answer-switch would be used: `localise.method = "answer_switch"`, or `"auto"` with the
  logprobs capability on, in a method that localises, with a multiple-choice validation sample.

A failure is a TeacherPreflightFailed naming the setting that fixes it, with the server's evidence, except
one: logprobs that were only assumed (no run-config or spec declaration) and turn out missing make `auto`
choose direct localisation, and `localisation.json` and run.log say so.

The teacher is asked through a client built from its spec without the run's cache, so the server itself
answers, with at most PREFLIGHT_RETRIES retries so a dead server is found in seconds. A teacher given as a
client object is the caller's code and is not probed; `teacher_preflight = false` skips the checks. Each
preflight appends a record to preflight.jsonl (its calls count in usage.json under `teacher.preflight`); a
run directory whose last record passed every check now needed is not asked again on resume.
"""

from __future__ import annotations

from pydantic import Field

from edtune import specs
from edtune.errors import TeacherPreflightFailed
from edtune.jsonl import append_jsonl, read_jsonl
from edtune.llm.concurrency import run_sync
from edtune.loop.capabilities import TeacherCapabilities, observed
from edtune.loop.context import RunContext
from edtune.loop.runlog import say, say_once
from edtune.loop.stages_teacher import state_localisation
from edtune.methods import methods, needs_teacher
from edtune.records import Record
from edtune.specs import ModelSpec, load_model_spec
from edtune.teacher.answer_switch import AnswerSwitchOptions
from edtune.teacher.preflight import Check, CheckResult, run_checks

PREFLIGHT_FILE = "preflight.jsonl"
PREFLIGHT_RETRIES = 2
"""Retries per preflight request at most (fewer when the spec allows fewer)."""


class PreflightRecord(Record):
    """One preflight of a run: the checks it needed and what each showed."""

    teacher: str
    """The run's `teacher` setting."""
    needed: list[Check]
    """The checks the run needed."""
    checks: list[CheckResult] = Field(default_factory=list)
    """What each check showed, in the order asked."""

    @property
    def usable(self) -> bool:
        """Every needed check was asked, and none failed but logprobs (whose absence `auto` works around)."""
        asked = {c.check for c in self.checks}
        return set(self.needed) <= asked and all(c.passed or c.check == "logprobs" for c in self.checks)


def _localises(ctx: RunContext) -> bool:
    """Whether the run's method has a localisation stage."""
    return any(stage.name == "locate" for stage in methods.create(ctx.config.method).stages())


def needed_checks(ctx: RunContext) -> list[Check]:
    """The checks this run needs (see the module docstring)."""
    config, caps = ctx.config, ctx.capabilities()
    checks: list[Check] = ["reachable"]
    data = config.data
    if caps.images.value and not (data.val.text_only and data.pool.text_only):
        checks.append("images")
    if _localises(ctx) and (config.localise.method == "answer_switch" or (
            config.localise.method == "auto" and caps.logprobs.value
            and any(s.choices for s in ctx.samples("val")))):
        checks.append("logprobs")
    return checks


def preflight(ctx: RunContext) -> None:
    """Check the teacher before any model work (see the module docstring); TeacherPreflightFailed when it
    cannot do what the run needs. Updates the run's capabilities with what was seen, then states the
    localisation the run will use (localisation.json, run.log)."""
    if not needs_teacher(ctx.config.method) or ctx.config.teacher is None:
        return
    _check_teacher(ctx)
    if _localises(ctx):
        state_localisation(ctx)


def _check_teacher(ctx: RunContext) -> None:
    root = ctx.run.root
    if not ctx.config.teacher_preflight:
        say_once(root, "preflight", "skipped (teacher_preflight = false)")
        return
    if ctx.teacher_obj is not None:
        say_once(root, "preflight", f"skipped: the teacher is a client object ({ctx.teacher_obj.name}), not a spec")
        return
    needed = needed_checks(ctx)
    earlier = _earlier(ctx, needed)
    if earlier is not None:
        try:  # a run that started on this record resumes deciding as it did then
            ctx.note_capabilities(_checked(ctx, earlier, needed))
            return
        except TeacherPreflightFailed:  # it refused the start: the server may have been fixed since
            pass
    record = _ask(ctx, needed)
    append_jsonl(root / PREFLIGHT_FILE, [record])
    say(root, "preflight", "; ".join(f"{c.check} {'ok' if c.passed else 'FAILED'}: {c.detail}" for c in record.checks))
    ctx.note_capabilities(_checked(ctx, record, needed))


def read_preflights(ctx: RunContext) -> list[PreflightRecord]:
    """Every preflight record of the run, oldest first."""
    return read_jsonl(ctx.run.root / PREFLIGHT_FILE, PreflightRecord)


def _earlier(ctx: RunContext, needed: list[Check]) -> PreflightRecord | None:
    records = read_preflights(ctx)
    last = records[-1] if records else None
    if last is None or last.teacher != ctx.config.teacher or not last.usable or not set(needed) <= set(last.needed):
        return None
    return last


def _ask(ctx: RunContext, needed: list[Check]) -> PreflightRecord:
    assert ctx.config.teacher is not None
    teacher = ctx.config.teacher
    spec = load_model_spec(teacher)

    async def probe() -> list[CheckResult]:
        client = specs.build_teacher_client(teacher, max_retries=PREFLIGHT_RETRIES)
        try:
            return await run_checks(client, needed, mode=spec.mode, top_logprobs=AnswerSwitchOptions().top_logprobs,
                                    sampling=spec.params.request_fields())
        finally:
            close = getattr(client, "close", None)
            if close is not None:
                await close()

    return PreflightRecord(teacher=ctx.config.teacher, needed=needed, checks=run_sync(probe()))


def _checked(ctx: RunContext, record: PreflightRecord, needed: list[Check]) -> TeacherCapabilities:
    """The run's capabilities updated by the record's `needed` checks; TeacherPreflightFailed for a failed
    check the run cannot do without."""
    assert ctx.config.teacher is not None
    spec, caps = load_model_spec(ctx.config.teacher), ctx.capabilities()
    for result in (r for r in record.checks if r.check in needed):
        if result.passed:
            if result.check == "logprobs":
                caps = observed(caps, logprobs=True)
            continue
        if result.check == "logprobs" and caps.logprobs.source == "default" and \
                ctx.config.localise.method == "auto":
            caps = observed(caps, logprobs=False)
            continue
        raise _error(result, spec, caps, ctx.config.localise.method)
    return caps


def _error(result: CheckResult, spec: ModelSpec, caps: TeacherCapabilities, method: str) -> TeacherPreflightFailed:
    who = f"the teacher {spec.spec_string}"
    if result.check == "images":
        setting = "teacher_images"
        text = (f"{who} cannot take images ({result.detail}), but this run sends them. For a text-only teacher set "
                "teacher_images = false (run config; adapt(teacher_images=False)) or images = false in its spec file")
    elif result.check == "logprobs":
        setting = "localise.teacher_logprobs"
        why = ('localise.method = "answer_switch" reads them' if method == "answer_switch"
               else f"answer-switch would read them ({caps.logprobs.source} says the teacher returns them)")
        text = (f"{who} returned no top logprobs ({result.detail}), but {why}. Set localise.teacher_logprobs = "
                "false (run config; adapt(teacher_logprobs=False)) or logprobs = false in its spec file, or "
                'localise.method = "direct"')
    else:
        setting, text = _unreachable(who, result, spec)
    return TeacherPreflightFailed(f"preflight: {text}", check=result.check, setting=setting, status=result.status,
                                  body=result.body, tries=result.tries)


def _unreachable(who: str, result: CheckResult, spec: ModelSpec) -> tuple[str, str]:
    """(setting, message) for a failed `reachable` check."""
    if result.failure == "auth":
        return spec.key_env, (f"{who} refused the API key (HTTP {result.status}): set the environment variable "
                              f"{spec.key_env} (a spec file names another with api_key_env)")
    if result.failure == "not_found":
        return "teacher", (f"{who} answered HTTP 404: the server at {spec.base_url} does not serve model "
                           f"'{spec.model}' there; check the model name and that the base URL ends in /v1 (the "
                           "run-config key / adapt() argument `teacher`, or model and base_url in its spec file)")
    if result.failure in ("rejected", "invalid_reply"):
        return "mode", (f"{who} could not answer a structured request in mode '{spec.mode}' ({result.detail}). "
                        "A server of your own must answer the preflight's schema, PreflightReply, with "
                        '{"ok": true} (docs/teacher.md), or the run skips the check with teacher_preflight = '
                        'false; a model that cannot follow the mode takes a spec file with another one (mode = '
                        '"json_object" or "text"; spec strings use json_schema)')
    return "teacher", (f"{who} did not answer ({result.detail}). Start its server, or fix the `teacher` setting "
                       "(run-config key / adapt() argument; base_url in a spec file)")
