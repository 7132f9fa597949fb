"""Helpers of the Ray engine's tests: the annotate command line, in-process runs, and what to compare."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer
from typer.testing import CliRunner

from edtune.bench.reference import RunningServer
from edtune.cli import annotate as annotate_cli

POOL_SIZE = 24
"""Samples in the test pool (one required-skills request each)."""


def annotate_args(world: Path, server: RunningServer, out: Path, *extra: str) -> list[str]:
    """`edtune annotate` of the plain pool with the reference teacher, 2 requests at a time."""
    return ["annotate", str(world / "pool_plain.jsonl"), "--teacher",
            f"openai-compatible/{server.model}@{server.base_url}", "--out", str(out), "--image-root", str(world),
            "--concurrency", "2", "--no-bars", *extra]


def run_cli(args: list[str]) -> str:
    """Run `edtune annotate` in this process; its output (a failure shows the exception)."""
    app = typer.Typer()
    annotate_cli.register(app)
    app.command("unused")(lambda: None)  # two commands keep `annotate` a subcommand
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, f"{result.output}\n{result.exception!r}"
    return result.output


def requests(server: RunningServer) -> int:
    """Required-skills requests the reference teacher has answered so far."""
    return server.stats().tasks["required_skills"].requests if "required_skills" in server.stats().tasks else 0


def same_records(a: Path, b: Path) -> bool:
    """Whether two results files hold the same record per sample, wall-clock latency aside."""
    def records(path: Path) -> dict[str, dict[str, Any]]:
        from edtune.teacher.annotate_file import latest_annotations

        return {i: r.model_dump(exclude={"latency_s"}) for i, r in latest_annotations(path).items()}

    return records(a) == records(b)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
