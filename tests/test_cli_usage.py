"""Every command-line usage error is one line on stderr with exit code 2, never a traceback."""

from __future__ import annotations

import pytest

from edtune.cli import main
from edtune.cli.usage import validate_options
from edtune.errors import ConfigError
from edtune.loop.config import DataFile


def _run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    monkeypatch.setattr("sys.argv", ["edtune", *args])
    with pytest.raises(SystemExit) as done:
        main()
    code = done.value.code
    return (code if isinstance(code, int) else 1), capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("retrieve", "pool.jsonl", "--skill", "x"), "error: Missing option '--index'. (see '"),
        (("demo", "--task", "foo"), "error: invalid --task: unknown task 'foo'; known: counting, spatial, size"),
        (("demo", "--seeds", "0"), "error: Invalid value for '--seeds'"),
        (("demo", "--bogus"), "error: No such option: --bogus"),
        (("no-such-command",), "error: No such command 'no-such-command'."),
        (("bench", "make", "shapes", "--out", "x", "--pool-size", "-3"), "error: invalid --pool-size: Input should "
         "be greater than or equal to 1, got -3"),
        (("student", "pretrain", "--out", "x", "--samples", "0"), "error: invalid --samples: "),
    ],
)
def test_usage_errors_are_one_line_with_exit_code_2(monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str], args: tuple[str, ...],
                                                    expected: str) -> None:
    code, err = _run(monkeypatch, capsys, *args)
    assert code == 2
    assert err.startswith(expected) and err.count("\n") == 1, err
    assert "Traceback" not in err


def test_validate_options_names_the_option() -> None:
    with pytest.raises(ConfigError, match=r"^invalid --path: missing required field$"):
        validate_options(DataFile, {})
    with pytest.raises(ConfigError, match=r"^invalid --family: String should match pattern"):
        validate_options(DataFile, {"path": "x", "family_field": " "}, options={"family_field": "--family"})
    assert validate_options(DataFile, {"path": "x"}).path.name == "x"
