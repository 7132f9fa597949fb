"""`edtune index build SPEC` and `edtune retrieve --index ... --skill ...`: BM25 indexes over a pool's skills."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from edtune.retrieval.sparse import SparseBM25

index_app = typer.Typer(no_args_is_help=True, help="BM25 indexes over a supporting pool's required skills.")

ProjectDir = Annotated[Path | None, typer.Option("--project-dir", help="Folder holding retrieval/ (default: "
                                                 "$EDTUNE_PROJECT_DIR or the nearest parent with prompts/).")]


@index_app.command("build")
def build(
    spec: Annotated[str, typer.Argument(help="Corpus spec: a .toml path or a name in the project's retrieval/.")],
    project_dir: ProjectDir = None,
) -> None:
    """Read the spec's pool, build the sparse BM25 index and write it to the spec's index_dir."""
    from edtune.retrieval.index import build_index, read_manifest
    from edtune.retrieval.spec import load_spec

    corpus = load_spec(spec, project_dir)
    start = time.perf_counter()
    build_index(corpus)
    manifest = read_manifest(corpus.index_dir)
    typer.echo(f"indexed {manifest.documents} documents of '{corpus.name}' ({manifest.skipped} skipped, "
               f"{manifest.vocabulary} terms, {manifest.postings} postings) in {time.perf_counter() - start:.1f} s "
               f"-> {corpus.index_dir}")


def _open(index: str, project_dir: Path | None) -> tuple[SparseBM25, Path]:
    """An index named by its folder, or by the corpus spec (name or .toml) it was built from."""
    from edtune.retrieval.index import open_index
    from edtune.retrieval.spec import load_spec

    if Path(index).is_dir():
        return open_index(Path(index)), Path(index)
    corpus = load_spec(index, project_dir)
    return open_index(corpus), corpus.index_dir


def retrieve(
    index: Annotated[str, typer.Option("--index", help="Index folder, or the corpus spec (name or .toml).")],
    skill: Annotated[list[str], typer.Option("--skill", help="Skill to search for; repeat for several.")],
    k: Annotated[int, typer.Option("-k", "--top-k", min=1, help="Hits per skill.")] = 10,
    project_dir: ProjectDir = None,
) -> None:
    """Print the top-k pool samples for each skill: rank, BM25 score, sample id and indexed text."""
    from edtune.retrieval.index import read_texts

    retriever, index_dir = _open(index, project_dir)
    texts = read_texts(index_dir)
    for query, hits in zip(skill, retriever.search(skill, k), strict=True):
        typer.echo(f"skill: {query}")
        for rank, hit in enumerate(hits, start=1):
            typer.echo(f"  {rank:>3}  {hit.score:8.4f}  {hit.sample_id}  {texts[hit.doc]}")


def register(app: typer.Typer) -> None:
    """Attach `edtune index ...` and `edtune retrieve` to the main app."""
    app.add_typer(index_app, name="index")
    app.command("retrieve")(retrieve)
