"""What each process started by `accelerate launch` runs for one training call (see `edtune.student.launch`).

`python -m edtune.student.train_worker <job.json>`. Every process loads the student from its checkpoint
(on the device accelerate gives it), reads the samples from the job's files and trains through
`HFStudent.train_in_process`, each on its share of every batch. The adapter's weights are gathered from
all processes (they may be sharded), then the main process writes the adapter folder (whole, by rename)
and the stats (atomically, last). Steps are printed on stdout as `launch.STEP_LINE` lines.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from edtune.atomic import atomic_folder, atomic_write_json
from edtune.jsonl import read_jsonl
from edtune.quiet import quiet_libraries
from edtune.records import Sample
from edtune.student.launch import ADAPTER, REPLAY, SAMPLES, STATS, STEP_LINE, TrainJob

if TYPE_CHECKING:
    import torch
    from accelerate import Accelerator

    from edtune.student.hf import HFStudent


def main(argv: list[str]) -> int:
    """Run the job named by `argv[0]`; returns the exit status."""
    from accelerate import PartialState

    from edtune.student.hf import HFStudent

    job = TrainJob.model_validate_json(Path(argv[0]).read_text(encoding="utf-8"))
    quiet_libraries(progress_bars=False)
    # Before the model is loaded: on GPUs this makes "cuda" mean this process's own device.
    main_process = PartialState(cpu=job.student.device == "cpu").is_main_process
    student = HFStudent.from_pretrained(job.checkpoint, job.student)
    if job.adapter is not None:
        student.load_adapter(Path(job.adapter))
    folder = Path(job.out)
    replay_root = None if job.replay_root is None else Path(job.replay_root)
    stats = student.train_in_process(
        read_jsonl(folder / SAMPLES, Sample), Path(job.image_root), job.lora, seed=job.seed,
        replay=read_jsonl(folder / REPLAY, Sample), replay_root=replay_root,
        on_step=_print_step if main_process else None,
        on_end=lambda accelerator, model: _save_adapter(student, folder, accelerator, model))
    if main_process:
        atomic_write_json(folder / STATS, stats)
    state = PartialState()
    state.wait_for_everyone()
    state.destroy_process_group()
    return 0


def _print_step(done: int, total: int, loss: float) -> None:
    print(f"{STEP_LINE} {done} {total} {loss!r}", flush=True)


def _save_adapter(student: HFStudent, out: Path, accelerator: Accelerator, model: torch.nn.Module) -> None:
    """Every process takes part in gathering the weights; the main process writes them to `out/ADAPTER`."""
    weights = accelerator.get_state_dict(model)
    if not accelerator.is_main_process:
        return
    with atomic_folder(out / ADAPTER) as scratch:
        student.save_adapter(scratch, weights=weights)

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
