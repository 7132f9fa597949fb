"""`edtune prompts ...`: look at templates, evaluate them on a gold set, diff two versions, export gold sets.

    edtune prompts list
    edtune prompts show first_wrong_step
    edtune prompts render first_wrong_step --vars vars.json --var n_steps=3
    edtune prompts eval first_wrong_step --gold gold.jsonl --teacher vllm/Qwen/Qwen2.5-7B-Instruct
    edtune prompts diff first_wrong_step@1a2b3c first_wrong_step --gold gold.jsonl --teacher SPEC
    edtune prompts export-gold --world data/shapes --out gold.jsonl

A TEMPLATE is a name in the project's `prompts/`, a path to a `.jinja` file, or (diff only) `name@hash`:
a version stored by an earlier `eval` with the same gold set and teacher.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from edtune.errors import TemplateError, UserError

if TYPE_CHECKING:
    from edtune.llm.base import LLMClient
    from edtune.prompt_eval.diff import RunDiff
    from edtune.prompt_eval.gold import GoldSet
    from edtune.prompt_eval.metrics import TemplateMetrics
    from edtune.prompt_eval.runner import EvalRun, EvalSettings
    from edtune.prompt_eval.store import ResultStore
    from edtune.templates import PromptTemplate

T = TypeVar("T")

prompts_app = typer.Typer(no_args_is_help=True, help="Prompt templates: inspect, render, evaluate, compare.")

GoldOpt = Annotated[Path, typer.Option("--gold", help="Gold set JSONL (see edtune.prompt_eval.gold).")]
TeacherOpt = Annotated[str, typer.Option("--teacher", help="Teacher spec string or spec file.")]
ImageRootOpt = Annotated[Path | None, typer.Option("--image-root", help="Overrides the gold set's image root.")]
ConcurrencyOpt = Annotated[int, typer.Option("--concurrency", min=1, help="Items in flight at once.")]
NoImagesOpt = Annotated[bool, typer.Option("--no-images", help="Text-only teacher: send no images.")]
ResultsOpt = Annotated[Path | None, typer.Option("--results", help="Results folder (default <project>/results/"
                                                                  "prompt_eval).")]
ProjectOpt = Annotated[Path | None, typer.Option("--project-dir", help="Project folder holding prompts/.")]


def _template(choice: str, project_dir: Path | None) -> PromptTemplate:
    from edtune.templates import load_template, parse_template

    path = Path(choice)
    if choice.endswith(".jinja") or path.is_file():
        if not path.is_file():
            raise TemplateError(f"template file {path} not found")
        return parse_template(path.read_bytes(), origin=str(path), path=path)
    return load_template(choice, project_dir)


@prompts_app.command("list")
def list_templates(project_dir: ProjectOpt = None) -> None:
    """Every template in prompts/: name, task, hash and description."""
    from edtune.templates import list_template_names, load_template

    for name in list_template_names(project_dir):
        template = load_template(name, project_dir)
        typer.echo(f"{name:<22} {template.meta.task:<20} {template.hash}  {template.meta.description}")


@prompts_app.command("show")
def show(template: Annotated[str, typer.Argument(help="Template name or .jinja path.")],
         project_dir: ProjectOpt = None) -> None:
    """A template's front matter facts, its variables and its file text."""
    loaded = _template(template, project_dir)
    meta = loaded.meta
    typer.echo(f"{meta.name}  (task {meta.task}, output {meta.output or 'plain text'}, images {meta.images}, "
               f"hash {loaded.hash})")
    typer.echo(meta.description)
    _echo_variables(loaded)
    if loaded.path is not None:
        typer.echo(f"\n--- {loaded.path}")
        typer.echo(loaded.path.read_text(encoding="utf-8").rstrip())


def _echo_variables(loaded: PromptTemplate) -> None:
    typer.echo("variables:")
    for name in sorted(loaded.variables()):
        typer.echo(f"  {name:<16} {loaded.meta.variables.get(name, '')}")


def _values(vars_file: Path | None, pairs: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if vars_file is not None:
        try:
            loaded = json.loads(vars_file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise UserError(f"{vars_file}: cannot read variables as JSON ({exc})") from exc
        if not isinstance(loaded, dict):
            raise UserError(f"{vars_file}: variables must be a JSON object of name -> value")
        values.update(loaded)
    for pair in pairs:
        name, eq, raw = pair.partition("=")
        if not eq or not name:
            raise UserError(f"--var {pair!r}: expected name=value")
        try:
            values[name] = json.loads(raw)
        except json.JSONDecodeError:
            values[name] = raw
    return values


@prompts_app.command("render")
def render(
    template: Annotated[str, typer.Argument(help="Template name or .jinja path.")],
    vars_file: Annotated[Path | None, typer.Option("--vars", help="JSON object of variable values.")] = None,
    var: Annotated[list[str] | None, typer.Option("--var", help="name=value (value read as JSON when it is).")] = None,
    project_dir: ProjectOpt = None,
) -> None:
    """Without values, list the variables the template needs; with values, render its messages."""
    loaded = _template(template, project_dir)
    values = _values(vars_file, var or [])
    if not values:
        _echo_variables(loaded)
        typer.echo("(give values with --vars FILE.json or --var name=value to render)")
        return
    for message in loaded.render(values):
        typer.echo(f"=== {message.role} ===")
        typer.echo(message.content if isinstance(message.content, str) else json.dumps(
            [part.model_dump(exclude_none=True) for part in message.content]))


def teacher_client(spec: str, *, project_dir: Path | None, cache_path: Path | None) -> LLMClient:
    """The teacher client a spec names, with the LLM cache at `cache_path` (tests replace this function)."""
    from edtune.llm.cache import LLMCache
    from edtune.specs import build_teacher_client

    cache = LLMCache(cache_path) if cache_path is not None else None
    return build_teacher_client(spec, project_dir=project_dir, cache=cache)


def _results(results: Path | None, project_dir: Path | None) -> Path:
    from edtune.prompt_eval.store import default_results_dir

    return results if results is not None else default_results_dir(project_dir)


def _run_with_teacher(spec: str, project_dir: Path | None, results: Path, no_cache: bool,
                      job: Callable[[LLMClient], Awaitable[T]]) -> T:
    """Run `job(client)` on the shared loop, closing the client afterwards."""
    from edtune.llm.concurrency import run_sync

    cache_path = None if no_cache else results / "llm_cache.sqlite"
    client = teacher_client(spec, project_dir=project_dir, cache_path=cache_path)

    async def go() -> T:
        try:
            return await job(client)
        finally:
            if (close := getattr(client, "close", None)) is not None:
                await close()

    return run_sync(go())


def _settings(concurrency: int, no_images: bool) -> EvalSettings:
    from edtune.prompt_eval.runner import EvalSettings

    return EvalSettings(concurrency=concurrency, images=not no_images)


def _fmt(value: float | None, percent: bool = True) -> str:
    if value is None:
        return "-"
    return f"{100 * value:.1f}" if percent else f"{value:.2f}"


def metric_rows(labelled: list[tuple[str, TemplateMetrics]]) -> list[str]:
    """Text table rows of TemplateMetrics, one per (label, metrics); percentages except the costs."""
    head = (f"{'version':<40} {'n':>4} {'exact':>6} {'±1':>6} {'unsc':>6} {'sk=':>6} {'skBM25':>6} {'skOvl':>6} "
            f"{'judge':>6} {'calls/i':>7} {'tok/i':>7} {'lat s':>7}")
    rows = [head]
    for label, m in labelled:
        rows.append(f"{label:<40} {m.items:>4} {_fmt(m.exact):>6} {_fmt(m.within_one):>6} {_fmt(m.unscored_rate):>6} "
                    f"{_fmt(m.skill_exact):>6} {_fmt(m.skill_bm25):>6} {_fmt(m.skill_overlap):>6} "
                    f"{_fmt(m.verdict_agreement):>6} {m.calls_per_item:>7.2f} {m.tokens_per_item:>7.1f} "
                    f"{m.latency_s:>7.2f}")
    return rows


@prompts_app.command("eval")
def evaluate(
    template: Annotated[str, typer.Argument(help="Template name or .jinja path.")],
    gold: GoldOpt, teacher: TeacherOpt, image_root: ImageRootOpt = None, concurrency: ConcurrencyOpt = 8,
    no_images: NoImagesOpt = False, results: ResultsOpt = None, project_dir: ProjectOpt = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Do not use the LLM cache.")] = False,
) -> None:
    """Run a template's teacher task over a gold set, store the result, and compare with earlier versions."""
    from edtune.prompt_eval.gold import load_gold
    from edtune.prompt_eval.runner import evaluate_template
    from edtune.prompt_eval.store import ResultStore

    loaded = _template(template, project_dir)
    gold_set = load_gold(gold, image_root=image_root)
    folder = _results(results, project_dir)
    settings = _settings(concurrency, no_images)
    run = _run_with_teacher(teacher, project_dir, folder, no_cache,
                            lambda client: evaluate_template(loaded, gold_set, client, settings))
    store = ResultStore(folder)
    path = store.save(run)
    history = store.runs(run.template, gold_hash=gold_set.hash, teacher=run.teacher)
    typer.echo(f"evaluated {run.template}@{run.template_hash} ({run.task}) on {gold_set.meta.name}@{gold_set.hash} "
               f"({len(gold_set)} items), teacher {run.teacher}; stored in {path}")
    labelled = [(f"{r.template}@{r.template_hash}" + (" (this run)" if r.template_hash == run.template_hash else ""),
                 r.metrics) for r in history]
    for line in metric_rows(labelled):
        typer.echo(line)


async def _side(choice: str, gold_set: GoldSet, client: LLMClient, settings: EvalSettings, store: ResultStore,
                project_dir: Path | None) -> EvalRun:
    """The EvalRun for one side of a diff: a stored version (`name@hash`) or a fresh (stored) run."""
    from edtune.prompt_eval.runner import evaluate_template

    name, at, prefix = choice.partition("@")
    if at and not choice.endswith(".jinja"):
        return store.find(name, prefix, gold_hash=gold_set.hash, teacher=client.name)
    result = await evaluate_template(_template(choice, project_dir), gold_set, client, settings)
    store.save(result)
    return result


@prompts_app.command("diff")
def diff(
    a: Annotated[str, typer.Argument(help="Template A: name, .jinja path, or name@hash (stored).")],
    b: Annotated[str, typer.Argument(help="Template B: name, .jinja path, or name@hash (stored).")],
    gold: GoldOpt, teacher: TeacherOpt, image_root: ImageRootOpt = None, concurrency: ConcurrencyOpt = 8,
    no_images: NoImagesOpt = False, results: ResultsOpt = None, project_dir: ProjectOpt = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Do not use the LLM cache.")] = False,
) -> None:
    """Metrics of A and B side by side, then every item whose outcome changed, with both outputs."""
    from edtune.prompt_eval.diff import diff_runs
    from edtune.prompt_eval.gold import load_gold
    from edtune.prompt_eval.store import ResultStore

    gold_set = load_gold(gold, image_root=image_root)
    folder = _results(results, project_dir)
    store, settings = ResultStore(folder), _settings(concurrency, no_images)

    async def job(client: LLMClient) -> RunDiff:
        run_a = await _side(a, gold_set, client, settings, store, project_dir)
        run_b = await _side(b, gold_set, client, settings, store, project_dir)
        return diff_runs(run_a, run_b, gold_set)

    result = _run_with_teacher(teacher, project_dir, folder, no_cache, job)
    for line in metric_rows([(f"A {result.a}", result.metrics_a), (f"B {result.b}", result.metrics_b)]):
        typer.echo(line)
    typer.echo(f"\n{len(result.changed)} item(s) changed outcome; {result.same_score_other_output} more gave "
               f"other output with the same score")
    for item in result.changed:
        typer.echo(f"\n{item.item_id}: {item.before} -> {item.after} (truth: {item.truth})")
        typer.echo(f"  A: {item.output_a}")
        typer.echo(f"  B: {item.output_b}")


@prompts_app.command("export-gold")
def export_gold_command(
    world: Annotated[Path, typer.Option("--world", help="A shapes world folder (edtune bench make).")],
    out: Annotated[Path, typer.Option("--out", help="Gold set JSONL to write.")],
    source: Annotated[str, typer.Option("--source", help="auto, student or corrupted.")] = "auto",
    size: Annotated[int, typer.Option("--size", min=1, help="Most items to keep.")] = 200,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the sample order and corruptions.")] = 0,
    split: Annotated[list[str] | None, typer.Option("--split", help="Splits to use (default: every *_val).")] = None,
    multiple_choice_only: Annotated[bool, typer.Option("--multiple-choice-only",
                                                       help="Keep only multiple-choice questions.")] = False,
) -> None:
    """Export student errors of the bundled world with their true first wrong step and missing skill."""
    from edtune.prompt_eval.export import export_gold
    from edtune.prompt_eval.gold import load_gold

    if source not in ("auto", "student", "corrupted"):
        raise UserError(f"--source must be auto, student or corrupted, not {source!r}")
    meta = export_gold(world, out, source=source, size=size, seed=seed, splits=split,  # type: ignore[arg-type]
                       multiple_choice_only=multiple_choice_only)
    written = load_gold(out)
    steps = sorted({item.first_wrong_step for item in written if item.first_wrong_step is not None})
    typer.echo(f"wrote {out}: {len(written)} {meta.source} errors ({meta.description}); first wrong steps {steps}")


def register(app: typer.Typer) -> None:
    """Attach the `prompts` command group to the main app."""
    app.add_typer(prompts_app, name="prompts")
