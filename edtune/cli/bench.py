"""`edtune bench make <world>`: write a bundled benchmark world to disk and summarise it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from edtune.cli.usage import validate_options
from edtune.errors import UserError

WORLDS = ("shapes",)

bench_app = typer.Typer(no_args_is_help=True, help="Bundled benchmark worlds.")


@bench_app.command("make")
def make(
    world: Annotated[str, typer.Argument(help="Which world to generate (only 'shapes' for now).")],
    out: Annotated[Path, typer.Option("--out", help="Folder to write into (empty or absent).")],
    seed: Annotated[int, typer.Option("--seed", help="Master seed; same seed, same bytes.")] = 0,
    pool_size: Annotated[int | None, typer.Option("--pool-size", help="Supporting-pool samples.")] = None,
    val_size: Annotated[int | None, typer.Option("--val-size", help="Validation samples per task.")] = None,
    test_size: Annotated[int | None, typer.Option("--test-size", help="Test samples per task.")] = None,
    base_size: Annotated[int | None, typer.Option("--base-size", help="Base-skill samples.")] = None,
    listing: Annotated[str, typer.Option("--listing", help="Opening step style: names (the bundled student's) or "
                                                          "attributes (the attributes student's).")] = "names",
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace a world already in --out.")] = False,
) -> None:
    """Generate a world and write it as JSONL + PNG with a world.json manifest."""
    if world not in WORLDS:
        raise UserError(f"unknown world '{world}' (known: {', '.join(WORLDS)})")
    from edtune.bench.shapes import ShapesConfig, generate_world, write_world

    sizes = {"pool_size": pool_size, "val_size": val_size, "test_size": test_size, "base_size": base_size}
    config = validate_options(ShapesConfig, {"seed": seed, "listing": listing,
                                             **{k: v for k, v in sizes.items() if v is not None}})
    start = time.perf_counter()
    generated = generate_world(config)
    made = time.perf_counter() - start
    manifest_path = write_world(generated, out, overwrite=overwrite)
    written = time.perf_counter() - start - made
    _summarise(manifest_path, made, written)


def _summarise(manifest_path: Path, made: float, written: float) -> None:
    from edtune.bench.shapes import read_manifest

    manifest = read_manifest(manifest_path.parent)
    typer.echo(f"wrote {manifest_path.parent} (generated in {made:.1f} s, written in {written:.1f} s)")
    for info in manifest.splits.values():
        families = ", ".join(f"{family} {count}" for family, count in info.families.items())
        typer.echo(f"  {info.file:<22} {info.count:>6}  {families}")
    shares = ", ".join(f"{group} {share:.1%}" for group, share in manifest.pool_group_shares.items())
    typer.echo(f"  pool shares by group: {shares}")
    typer.echo(f"  content hash {manifest.content_hash[:16]}")


def register(app: typer.Typer) -> None:
    """Attach the `bench` command group to the main app."""
    app.add_typer(bench_app, name="bench")
