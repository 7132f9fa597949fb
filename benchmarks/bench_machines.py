"""Wall time of one LoRA training call launched on 2 "machines" through Ray, against the same call on 2
processes of this machine and in this process (accumulating 2 micro-batches: the same gradients).

    PYTHONPATH=. .venv/bin/python benchmarks/bench_machines.py [--steps 6] [--rounds 2]

The 2 machines are two Ray nodes on this host (`ray.cluster_utils.Cluster`, 1 CPU each), one gloo process on
each: what differs from the 2-process launch is only the Ray path (placement group, one launcher actor per
node, the shared-folder check, polling). So this measures that path's cost per call, not what several real
machines gain. The cluster's start is shown apart. Settings alternate within each round; the adapters of
the three are compared (largest weight difference).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from edtune.bench.shapes.render import render_images
from edtune.bench.shapes.world import ShapesConfig, generate_samples
from edtune.student import LoraTrainConfig, StudentConfig
from edtune.student.bundled import bundled_student

ONE_MACHINE = "distributed_type: MULTI_GPU\nnum_processes: 2\nnum_machines: 1\nmain_process_port: 0\n"
TWO_MACHINES = "distributed_type: MULTI_GPU\nnum_processes: 2\nnum_machines: 2\n"


def train(root: Path, config_file: Path | None, lora: LoraTrainConfig, out: Path) -> tuple[float, dict[str, object]]:
    """One training call from the bundled student: its wall time (s) and the adapter's weights."""
    from safetensors.torch import load_file

    samples = generate_samples({"counting": 1.0}, 12, split="bench-machines", config=ShapesConfig(seed=0))
    config = StudentConfig(accelerate_config=None if config_file is None else str(config_file))
    student = bundled_student(config, work_dir=root / "work")
    if config_file is None:
        lora = lora.model_copy(update={"gradient_accumulation_steps": 2})
    started = time.perf_counter()
    student.train(samples, root / "images", lora, seed=0)
    wall = time.perf_counter() - started
    student.save_adapter(out)
    return wall, dict(load_file(out / "adapter_model.safetensors"))


def largest_difference(a: dict[str, object], b: dict[str, object]) -> float:
    return max(float((a[k] - b[k]).abs().max()) for k in a)  # type: ignore[operator]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    import ray
    from ray.cluster_utils import Cluster

    root = Path(tempfile.mkdtemp(prefix="bench-machines-"))
    render_images(generate_samples({"counting": 1.0}, 12, split="bench-machines", config=ShapesConfig(seed=0)),
                  root / "images")
    (root / "one.yaml").write_text(ONE_MACHINE)
    (root / "two.yaml").write_text(TWO_MACHINES)
    started = time.perf_counter()
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False,
                                                            "object_store_memory": 80 * 2**20})
    cluster.add_node(num_cpus=1, object_store_memory=80 * 2**20)
    ray.init(address=cluster.address, include_dashboard=False, log_to_driver=False, logging_level="WARNING")
    print(f"Ray {ray.__version__}: 2-node local cluster started in {time.perf_counter() - started:.1f} s; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    lora = LoraTrainConfig(steps=args.steps, batch_size=4, lr=2e-2, print_targets=False)
    settings = {"in process, accumulating 2": None, "2 processes, this machine": root / "one.yaml",
                "2 machines through Ray": root / "two.yaml"}
    times: dict[str, list[float]] = {name: [] for name in settings}
    weights: dict[str, dict[str, object]] = {}
    try:
        for round_ in range(args.rounds):
            for index, (name, config_file) in enumerate(settings.items()):
                wall, weights[name] = train(root, config_file, lora, root / f"adapter-{round_}-{index}")
                times[name].append(wall)
    finally:
        ray.shutdown()
        cluster.shutdown()
    reference = weights["in process, accumulating 2"]
    print(f"{args.steps} steps of 4 samples, bundled student, {args.rounds} rounds; load average "
          f"{os.getloadavg()[0]:.1f} at the end")
    print(f"{'setting':32} {'median s':>9} {'runs':>20} {'vs 2 processes':>15} {'adapter diff':>13}")
    base = statistics.median(times["2 processes, this machine"])
    for name, walls in times.items():
        median = statistics.median(walls)
        runs = " ".join(f"{w:.1f}" for w in walls)
        print(f"{name:32} {median:9.1f} {runs:>20} {median / base:14.2f}x "
              f"{largest_difference(reference, weights[name]):13.1e}")


if __name__ == "__main__":
    main()
