"""`edtune reference-teacher --world DIR`: serve the reference teacher of a bundled world until Ctrl-C."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from edtune.cli.usage import validate_options


def reference_teacher(
    world: Annotated[Path, typer.Option("--world", help="A world folder written by `edtune bench make`.")],
    port: Annotated[int, typer.Option("--port", help="TCP port (0 picks a free one).")] = 8000,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    error_rate: Annotated[float, typer.Option("--error-rate", help="Share of requests answered wrongly.")] = 0.0,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the simulated errors.")] = 0,
    model: Annotated[str, typer.Option("--model", help="Model name the server reports.")] = "edtune-reference",
    phrasing: Annotated[str, typer.Option("--phrasing", help="Skills as 'canonical' or 'paraphrase' phrases.")]
    = "paraphrase",
) -> None:
    """Serve a benchmark instrument that answers edtune's teacher and judge requests from the world's gold data
    (OpenAI chat-completions protocol). Not a model: see docs/reference_teacher.md."""
    from edtune.bench.reference import ReferenceSettings, WorldIndex
    from edtune.bench.reference import reference_teacher as serve

    settings = validate_options(ReferenceSettings, {"error_rate": error_rate, "seed": seed, "model": model,
                                                    "phrasing": phrasing})
    index = WorldIndex.load(world)
    # Ctrl-C and `kill` both stop it with the summary. Setting SIGINT explicitly matters: a process started
    # in the background by a script (`cmd &`) inherits SIGINT as ignored, and Python then never raises
    # KeyboardInterrupt.
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, _interrupt)
    with serve(index, settings=settings, host=host, port=port) as server:
        try:
            # The banner is inside the try: a caller that reads the address may stop us before echo returns
            # (seen under load: the interrupt then escaped from echo and the summary was never written).
            typer.echo(f"reference teacher for {world} ({index.size} samples, error rate {error_rate}, seed {seed})")
            typer.echo(f"serving model '{server.model}' at {server.base_url} - Ctrl-C to stop")
            # Short sleeps, not one endless wait: a signal may be delivered to a server thread, and a main
            # thread blocked on a lock for good would never run its handler.
            while True:
                time.sleep(0.5)
        except KeyboardInterrupt:
            served = server.stats()
            counts = ", ".join(f"{task} {c.requests} ({c.simulated_errors} wrong)" for task, c in served.tasks.items())
            typer.echo(f"stopped; served {counts or 'nothing'}; refused {served.rejected}")


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def register(app: typer.Typer) -> None:
    """Attach `edtune reference-teacher` to the main app."""
    app.command("reference-teacher")(reference_teacher)
