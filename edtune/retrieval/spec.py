"""Corpus specs: which pool to index, how, and where the index lives; TOML files in the project's `retrieval/`.

A spec is named by a path ending in `.toml` or by the name of a file `<name>.toml` in the project's
`retrieval/` folder (`edtune.settings.project_paths`). Relative paths inside a spec are resolved against the
folder that holds the spec file. The format is documented in `retrieval/README.md`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError

from edtune.errors import ConfigError
from edtune.records import Record
from edtune.retrieval.base import BM25Params
from edtune.retrieval.tokenize import TokenizerSettings
from edtune.settings import project_paths
from edtune.tomlfile import read_toml

TextFields = Literal["skills", "skills+question"]


class CorpusSpec(Record):
    """One retrieval corpus: the pool files, what text of each sample is indexed, and the index settings."""

    name: str = Field(min_length=1)
    """Short name of the corpus, shown in reports and the index manifest."""
    pool: list[Path] = Field(min_length=1)
    """JSONL files of `Sample` records, indexed in this order (document i is the i-th sample read)."""
    index_dir: Path
    """Folder the index is written to by `edtune index build` and read from by retrieval."""
    fields: TextFields = "skills"
    """Indexed text: the sample's required skills joined by "; ", optionally followed by its question."""
    on_missing_skills: Literal["error", "skip"] = "error"
    """A sample without `required_skills` (None or empty): a DataError naming file, row and field, or
    left out of the index (the manifest counts the skipped samples)."""
    tokenizer: TokenizerSettings = Field(default_factory=TokenizerSettings)
    """Tokenizer settings shared by documents and queries."""
    bm25: BM25Params = Field(default_factory=BM25Params)
    """BM25Okapi parameters."""

    def resolved(self, base: Path) -> CorpusSpec:
        """A copy whose relative paths are made absolute against `base`."""
        return self.model_copy(update={"pool": [(base / p).resolve() for p in self.pool],
                                       "index_dir": (base / self.index_dir).resolve()})


def spec_path(spec: str | Path, project_dir: str | Path | None = None) -> Path:
    """The spec file a name or path stands for (see the module docstring); ConfigError when absent."""
    text = str(spec)
    path = Path(text) if text.endswith(".toml") else project_paths(project_dir).retrieval / f"{text}.toml"
    if not path.is_file():
        raise ConfigError(f"corpus spec not found: {path}")
    return path.resolve()


def load_spec(spec: str | Path, project_dir: str | Path | None = None) -> CorpusSpec:
    """Read and validate a corpus spec; its paths come back absolute."""
    path = spec_path(spec, project_dir)
    data = read_toml(path, "corpus spec")
    try:
        return CorpusSpec.model_validate(data).resolved(path.parent)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{path}: {where}: {first['msg']}") from exc
