"""`edtune run CONFIG` and `edtune resume RUN_DIR`: the adaptation loop from the command line."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from edtune.errors import Interrupted

if TYPE_CHECKING:
    from edtune.judging.base import JudgeSummary
    from edtune.loop.api import AdaptResult

BarsFlag = Annotated[bool, typer.Option("--bars/--no-bars", help="Show progress bars.")]
OldBarsFlag = Annotated[bool | None, typer.Option("--progress/--no-progress", hidden=True,
                                                  help="Old name of --bars/--no-bars.")]


def bars_flag(bars: bool, progress: bool | None) -> bool:
    """--bars, or the value of its old name --progress (said to be deprecated on stderr)."""
    if progress is None:
        return bars
    typer.echo("--progress/--no-progress is now --bars/--no-bars (the old name will be removed in the next "
               "release)", err=True)
    return progress


def run_command(
    config: Annotated[Path, typer.Argument(help="TOML run config (see examples/shapes_error_driven.toml).")],
    run_dir: Annotated[Path | None, typer.Option("--run-dir", help="Run directory; default runs/<config name>. "
                                                 "An existing run with the same config is continued.")] = None,
    bars: BarsFlag = True,
    progress: OldBarsFlag = None,
    method: Annotated[str | None, typer.Option("--method", help="Selection method, replacing the config's "
                                               "(the same as --set method=NAME).")] = None,
    overrides: Annotated[list[str] | None, typer.Option("--set", help="DOTTED.KEY=VALUE replacing a config value "
                                                        "(JSON, else a string), e.g. training.lora.min_steps=300; "
                                                        "repeatable.")] = None,
) -> None:
    """Adapt the configured student: answer, judge, diagnose errors, retrieve, LoRA-tune, evaluate.

    With --method or --set and no --run-dir, the run directory is runs/<config name>+<the overrides>."""
    from edtune.loop import load_config, run_config
    from edtune.loop.overrides import override_label

    changes = [*([f"method={method}"] if method is not None else []), *(overrides or [])]
    settings = load_config(config, changes)
    default = config.stem + (f"+{override_label(changes)}" if changes else "")
    target = run_dir or Path("runs") / default
    with _naming(target):
        result = run_config(settings, target, show_bars=bars_flag(bars, progress))
    _summarise(result)


def resume_command(
    run_dir: Annotated[Path, typer.Argument(help="A run directory made by `edtune run`.")],
    bars: BarsFlag = True,
    progress: OldBarsFlag = None,
) -> None:
    """Continue an interrupted run; finished stages and paid teacher calls are not repeated."""
    from edtune.loop import resume

    with _naming(run_dir):
        result = resume(run_dir, show_bars=bars_flag(bars, progress))
    _summarise(result)


@contextmanager
def _naming(run_dir: Path) -> Iterator[None]:
    """Attach `run_dir` to an Interrupted passing through, so the CLI can say what to resume."""
    try:
        yield
    except Interrupted as exc:
        exc.run_dir = str(run_dir)
        raise


def _summarise(result: AdaptResult) -> None:
    from edtune.loop.runlog import read_log

    # Iterations that trained: a run that keeps its best validated adapter ends with a folder that only
    # validates the last adapter, which is not an iteration of the run.
    trained = max((it.iteration for it in result.metrics.iterations if it.train is not None), default=0)
    typer.echo(f"{result.method}: stopped ({result.stopped}) after {trained} "
               f"iteration(s); {result.samples_used} samples used ({result.pool_fraction:.1%} of the pool)")
    for it in result.metrics.iterations:
        only = "  (validation of the last adapter only)" if it.iteration > trained and it.train is None else ""
        typer.echo(f"  iteration {it.iteration}: test {_accuracy(it.test)}  val {_accuracy(it.val)}  "
                   f"errors {it.errors}  selected {it.selected}  used {it.samples_used}{only}")
    said = read_log(result.run_dir)
    if said:
        typer.echo("run log (run.log):\n" + "\n".join(f"  {line}" for line in said))
    typer.echo(f"adapter: {result.adapter or 'none'}\nrun directory: {result.run_dir}")


def _accuracy(summary: JudgeSummary | None) -> str:
    """Accuracy over every question, with the share the judge left unscored beside it when there is one."""
    if summary is None or summary.accuracy is None:
        return "-"
    share = summary.unscored_share
    return f"{summary.accuracy:.3f}" + (f" ({share:.1%} unscored)" if share else "")


def register(app: typer.Typer) -> None:
    """Attach `run` and `resume` to the main app."""
    app.command("run")(run_command)
    app.command("resume")(resume_command)
