"""The one TOML reader: each failure is a ConfigError naming the file and what kind of file it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from edtune.errors import ConfigError
from edtune.retrieval.spec import load_spec
from edtune.specs import load_spec_file
from edtune.tomlfile import read_toml


def test_reads_the_top_level_table(tmp_path: Path) -> None:
    path = tmp_path / "a.toml"
    path.write_text('name = "x"\n[section]\nk = 1\n', encoding="utf-8")
    assert read_toml(path) == {"name": "x", "section": {"k": 1}}


@pytest.mark.parametrize(("content", "message"), [
    (None, "config file not found: {path}"),
    (b"name = \n", "{path}: not valid TOML (Invalid value (at line 1, column 8))"),
    (b'name = "\xff"\n', "{path}: not valid TOML ('utf-8' codec can't decode"),
])
def test_errors_name_the_file(tmp_path: Path, content: bytes | None, message: str) -> None:
    path = tmp_path / "run.toml"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        read_toml(path, "config file")
    assert str(caught.value).startswith(message.format(path=path))


def test_a_folder_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cannot read spec file \("):
        read_toml(tmp_path, "spec file")


def test_spec_readers_use_it(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("provider = \n", encoding="utf-8")
    for load in (load_spec_file, load_spec):
        with pytest.raises(ConfigError, match=f"{bad}: not valid TOML"):
            load(bad)
    with pytest.raises(ConfigError, match="spec file not found"):
        load_spec_file(tmp_path / "missing.toml")
