"""The bundled tiny student: where the shipped checkpoint lives and how to load it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from edtune.errors import UserError
from edtune.student.base import StudentConfig

if TYPE_CHECKING:
    from edtune.student.hf import HFStudent

TINY_CHECKPOINT = Path(__file__).with_name("tiny_checkpoint")
"""The shipped, pretrained tiny student (rebuilt by `edtune student pretrain --out <this folder>`)."""
ATTRIBUTES_CHECKPOINT = Path(__file__).with_name("tiny_checkpoint_attributes")
"""The shipped student for shapes worlds with `listing = "attributes"`: the tiny student taught to list
each object's size and cell (rebuilt by `edtune student pretrain --out <this folder> --init-from bundled
--listing attributes --steps 6000 --lr 1e-3`; its `edtune_pretrain.json` records the run)."""
CHECKPOINT_FOR_LISTING = {"names": TINY_CHECKPOINT, "attributes": ATTRIBUTES_CHECKPOINT}
"""A shapes world's listing style -> the shipped student pretrained to write it."""


def bundled_student(config: StudentConfig | None = None, *, work_dir: Path | None = None) -> HFStudent:
    """The pretrained tiny student as an `HFStudent` (`work_dir` as in `HFStudent.__init__`); UserError saying
    how to rebuild it when missing."""
    from edtune.student.hf import HFStudent

    if not (TINY_CHECKPOINT / "model.safetensors").is_file():
        raise UserError(f"the bundled tiny student is missing from {TINY_CHECKPOINT}; rebuild it with "
                        f"`edtune student pretrain --out {TINY_CHECKPOINT}` (15-30 min on 2 cores)")
    return HFStudent.from_pretrained(TINY_CHECKPOINT, config, work_dir=work_dir)
