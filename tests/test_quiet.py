"""quiet_libraries: the libraries' own deprecation warnings are filtered, everything else still shows."""

from __future__ import annotations

import warnings

import pytest

from edtune.quiet import quiet_libraries
from edtune.student.base import LoraTrainConfig
from edtune.student.bundled import bundled_student
from edtune.student.lora import attach_lora


def _warnings_of_attaching(quiet: bool) -> list[warnings.WarningMessage]:
    student = bundled_student()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        if quiet:
            quiet_libraries()
        attach_lora(student.model, LoraTrainConfig(print_targets=False))
        warnings.warn("an edtune warning", UserWarning, stacklevel=1)
    return seen


def test_library_deprecations_are_filtered_and_others_kept() -> None:
    loud = [w for w in _warnings_of_attaching(False) if issubclass(w.category, FutureWarning | DeprecationWarning)]
    quiet = _warnings_of_attaching(True)
    if not loud:
        pytest.skip("this transformers/peft pair raises no deprecation warning on attach (the pinned pair does)")
    assert not [w for w in quiet if issubclass(w.category, FutureWarning | DeprecationWarning)]
    assert [str(w.message) for w in quiet] == ["an edtune warning"]
