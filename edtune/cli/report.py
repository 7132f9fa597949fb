"""`edtune report RUN_DIR` and `edtune demo`: the comparison table, plots and the bundled demo."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from edtune.cli.run import BarsFlag, OldBarsFlag, bars_flag


def report_command(
    run_dirs: Annotated[list[Path], typer.Argument(help="A run directory, or a folder holding runs of several "
                                                   "methods and seeds (searched recursively).")],
    out: Annotated[Path | None, typer.Option("--out", help="Where report.md, plots/ and results.json go; "
                                             "default: the (single) folder given.")] = None,
    html: Annotated[Path | None, typer.Option("--html", help="Instead, write the run viewer's pages (as "
                                              "`edtune view` serves them) to this folder; report.md links "
                                              "them when the folder is `viewer` beside it.")] = None,
) -> None:
    """Write report.md with plots and results.json comparing the runs (accuracy, samples used, % of full);
    with --html, the viewer's pages of the given run directories as static files instead."""
    if html is not None:
        from edtune.view.static import write_site

        typer.echo(f"viewer: {write_site(run_dirs, html)}")
        return
    from edtune.report import format_table, write_report

    report, results = write_report(run_dirs, out)
    typer.echo(format_table(results))
    typer.echo(f"report: {report}\nresults: {report.parent / 'results.json'}")


def demo_command(
    quick: Annotated[bool, typer.Option("--quick", help="A smaller world and budget (pool 1,500, budget "
                                        "150, 2 iterations) for a first look.")] = False,
    seeds: Annotated[int, typer.Option("--seeds", min=1, help="Seeds 0..N-1; each writes its own world.")] = 1,
    out: Annotated[Path, typer.Option("--out", help="Folder for the worlds, runs and report; finished runs "
                                      "already there are reused.")] = Path("runs/demo"),
    task: Annotated[str, typer.Option("--task", help="Target task: counting, spatial or size.")] = "counting",
    ablations: Annotated[bool, typer.Option("--ablations", help="Also run the paper's three ablations at the "
                                            "same budget.")] = False,
    teacher_error_rate: Annotated[float, typer.Option("--teacher-error-rate", min=0, max=1, help="Share of "
                                                      "reference-teacher replies made wrong on purpose.")] = 0.0,
    listing: Annotated[str, typer.Option("--listing", help="The world's listing style: names, or attributes "
                                         "(adapts the shipped student that writes it).")] = "names",
    student: Annotated[str, typer.Option("--student", help="\"bundled\" or another tiny-student checkpoint "
                                         "folder (e.g. one made by `edtune student pretrain`).")] = "bundled",
    also: Annotated[list[str] | None, typer.Option("--also", help="Another method to run beside random, "
                                                   "error_driven and full (e.g. skill_progress); repeatable.")] = None,
    bars: BarsFlag = True,
    progress: OldBarsFlag = None,
) -> None:
    """Adapt the bundled tiny student with the reference teacher: pretrained / random / error-driven / full."""
    from edtune.cli.usage import validate_options
    from edtune.demo import ABLATIONS, DEFAULT_METHODS, QUICK, DemoConfig, run_demo

    base = QUICK if quick else DemoConfig()
    methods = [*DEFAULT_METHODS[:-1], *(ABLATIONS if ablations else ()), *(also or ()), DEFAULT_METHODS[-1]]
    chosen = {"seeds": list(range(seeds)), "task": task, "methods": methods, "student": student, "listing": listing,
              "teacher_error_rate": teacher_error_rate}
    config = validate_options(DemoConfig, base.model_dump() | chosen)
    started = time.perf_counter()

    def notify(line: str) -> None:
        typer.echo(f"[{time.perf_counter() - started:6.0f} s] {line}")

    outcome = run_demo(config, out, show_bars=bars_flag(bars, progress), notify=notify)
    typer.echo(f"\n{config.task}: pool {config.pool_size:,}, budget {config.budget} "
               f"({100 * config.budget / config.pool_size:.0f}% of the pool), seeds {config.seeds}\n")
    typer.echo(outcome.table)
    typer.echo(f"\nreport: {outcome.report} (took {time.perf_counter() - started:.0f} s)")


def register(app: typer.Typer) -> None:
    """Attach `report` and `demo` to the main app."""
    app.command("report")(report_command)
    app.command("demo")(demo_command)
