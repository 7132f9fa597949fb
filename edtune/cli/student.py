"""`edtune student ...`: pretrain a tiny student (the bundled one, or one on your own samples), and score a
student on a data file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from edtune.cli.usage import validate_options

student_app = typer.Typer(no_args_is_help=True, help="Build and evaluate students.")


@student_app.command("pretrain")
def pretrain_command(
    out: Annotated[Path, typer.Option(help="Checkpoint directory to write (the shipped one is "
                                           "edtune/student/tiny_checkpoint).")],
    data: Annotated[Path | None, typer.Option(help="Your own samples to pretrain on (JSONL, LLaVA JSON or HF "
                                                   "dataset, with rationales); default: the shapes world's "
                                                   "base skills.")] = None,
    vocab: Annotated[list[Path] | None, typer.Option(help="With --data: more data files whose words join the "
                                                          "vocabulary (every task the student will be tuned on, "
                                                          "and the pool); repeatable.")] = None,
    image_root: Annotated[Path | None, typer.Option(help="With --data: its image root (default: the data file's "
                                                         "folder).")] = None,
    patch_size: Annotated[int | None, typer.Option(help="With --data: ViT patch side of a new model (image side "
                                                        "48 px).")] = None,
    steps: Annotated[int, typer.Option(help="Optimiser steps.")] = 5000,
    samples: Annotated[int | None, typer.Option(help="Shapes world: distinct base-skill training samples "
                                                     "(default 16000).")] = None,
    lr: Annotated[float, typer.Option(help="Peak AdamW learning rate.")] = 2e-3,
    seed: Annotated[int, typer.Option(help="Weight-init and batch-order seed.")] = 0,
    world_seed: Annotated[int | None, typer.Option(help="Shapes world: the seed its samples come from "
                                                        "(default 0).")] = None,
    listing: Annotated[str | None, typer.Option(help="Shapes world: listing step style, names or attributes "
                                                     "(needs --init-from; default names).")] = None,
    init_from: Annotated[str | None, typer.Option(help="Continue from this checkpoint folder, or 'bundled'.")]
        = None,
) -> None:
    """Pretrain a tiny Llava student: on your own samples (--data), or on the shapes world's base skills."""
    import torch

    torch.set_num_threads(1)
    if data is not None:
        _pretrain_own(out, data, vocab or [], image_root, {"steps": steps, "lr": lr, "seed": seed,
                                                            "init_from": init_from}, patch_size,
                      shapes_only={"--samples": samples, "--world-seed": world_seed, "--listing": listing})
        return
    if vocab or image_root is not None or patch_size is not None:
        raise typer.BadParameter("--vocab, --image-root and --patch-size go with --data")
    from edtune.bench.shapes.pretrain import PretrainConfig, pretrain

    shapes = {"train_samples": samples, "world_seed": world_seed, "listing": listing}
    config = validate_options(PretrainConfig, {"steps": steps, "lr": lr, "seed": seed, "init_from": init_from}
                              | {k: v for k, v in shapes.items() if v is not None},
                              options={"train_samples": "--samples"})
    stats = pretrain(out, config, progress=True)
    typer.echo(f"wrote {out}: {stats.steps} steps on {stats.train_samples} samples, "
               f"prepare {stats.prepare_s:.0f} s + train {stats.train_s:.0f} s, "
               f"loss {stats.first_loss:.3f} -> {stats.final_loss:.3f}")


def _pretrain_own(out: Path, data: Path, vocab: list[Path], image_root: Path | None, settings: dict[str, object],
                  patch_size: int | None, *, shapes_only: dict[str, object]) -> None:
    """`edtune student pretrain --data`: `pretrain_tiny` on the user's samples, vocabulary from every file."""
    from edtune.data.loaders import default_image_root, load_samples
    from edtune.student.pretrain import TinyPretrainConfig, pretrain_tiny, sample_texts

    given = [name for name, value in shapes_only.items() if value is not None]
    if given:
        raise typer.BadParameter(f"{', '.join(given)}: shapes-world options; they do not go with --data")
    if patch_size is not None:
        settings = settings | {"model": {"patch_size": patch_size}}
    config = validate_options(TinyPretrainConfig, settings, options={"model": "--patch-size"})
    samples = load_samples(data, image_root=image_root)
    texts = sample_texts([*samples, *(s for extra in vocab for s in load_samples(extra))])
    stats = pretrain_tiny(samples, image_root or default_image_root(data), out, config, vocabulary=texts,
                          progress=True)
    typer.echo(f"wrote {out}: {stats.steps} steps on {stats.train_samples} samples, vocabulary "
               f"{stats.vocab_size}, {stats.parameters:,} parameters, train {stats.train_s:.0f} s, "
               f"loss {stats.first_loss:.3f} -> {stats.final_loss:.3f}")


@student_app.command("eval")
def eval_command(
    data: Annotated[Path, typer.Option(help="Samples (JSONL, LLaVA JSON or HF dataset) with answers.")],
    model: Annotated[Path | None, typer.Option(help="HF checkpoint directory; default: the bundled tiny "
                                                    "student.")] = None,
    image_root: Annotated[Path | None, typer.Option(help="Image root (default: the data file's folder).")] = None,
    adapter: Annotated[Path | None, typer.Option(help="LoRA adapter directory to load first.")] = None,
    batch_size: Annotated[int, typer.Option(help="Samples per generation batch.")] = 64,
    limit: Annotated[int | None, typer.Option(help="Only the first N samples.")] = None,
    device: Annotated[str, typer.Option(help="cpu or cuda.")] = "cpu",
    family_field: Annotated[str, typer.Option(help="Metadata key of a sample's question family (accuracy is "
                                                   "printed per family).")] = "skill",
) -> None:
    """Answer every sample and print exact-match accuracy per question family (`metadata.<family-field>`)."""
    from transformers.utils import logging as hf_logging

    from edtune.data.loaders import default_image_root, load_samples
    from edtune.student import StudentConfig
    from edtune.student.bundled import TINY_CHECKPOINT
    from edtune.student.devices import require_device
    from edtune.student.evaluate import accuracy_by, exact_matches, skill_of
    from edtune.student.hf import HFStudent

    hf_logging.disable_progress_bar()  # a bar for loading a few MB only clutters the score table
    require_device(device, "--device")
    samples = load_samples(data, image_root=image_root)[:limit]
    root = image_root or default_image_root(data)
    student = HFStudent.from_pretrained(model or TINY_CHECKPOINT, StudentConfig.model_validate({"device": device}))
    if adapter is not None:
        student.load_adapter(adapter)
    correct = exact_matches(samples, student.answer(samples, root, batch_size=batch_size))
    for family, (hits, total) in accuracy_by(samples, correct, lambda s: skill_of(s, family_field)).items():
        typer.echo(f"{family:28s} {hits / total:6.3f}  ({hits}/{total})")
    typer.echo(f"{'all':28s} {sum(correct) / max(1, len(correct)):6.3f}  ({sum(correct)}/{len(correct)})")


def register(app: typer.Typer) -> None:
    """Attach the `student` command group to the main app."""
    app.add_typer(student_app, name="student")
