"""Students: vision-language models that answer with a rationale and learn through LoRA adapters.

`import edtune.student` stays light; `HFStudent` (torch, transformers, peft) is imported from
`edtune.student.hf`, the tiny-model builder from `edtune.student.tiny`.
"""

from edtune.student.base import LoraTrainConfig, Student, StudentConfig, TrainStats

__all__ = ["LoraTrainConfig", "Student", "StudentConfig", "TrainStats"]
