"""Pretraining the bundled tiny student on the shapes world's base skills (`edtune student pretrain`).

Steps: collect the world's vocabulary (every question family, so target-skill words exist in the
tokenizer even though they are never trained), draw base-skill samples (colour, shape, existence) with the
world's own generator, render their images, then `edtune.student.pretrain.pretrain_tiny`.

`init_from` continues from an existing checkpoint (its tokenizer and weights) instead of building one:
that is how the `attributes` student is made, the bundled student taught a richer listing step.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from pydantic import Field, model_validator

from edtune.bench.shapes.questions import Listing
from edtune.student.pretrain import PretrainStats, TinyPretrainConfig, pretrain_tiny, sample_texts, start_checkpoint


class PretrainConfig(TinyPretrainConfig):
    """Everything that determines the pretrained shapes student."""

    world_seed: int = 0
    """Seed of the shapes world whose base-skill samples and vocabulary are used."""
    vocabulary_per_family: int = Field(default=200, ge=1)
    """Samples per question family whose words form the vocabulary (target families included, so their
    words exist even though they are never trained)."""
    train_samples: int = Field(default=16_000, ge=1)
    """Distinct base-skill samples drawn (colour, shape and existence in equal numbers)."""
    listing: Listing = "names"
    """Listing style of the base-skill rationales trained on (see `ShapesConfig.listing`). From the bundled
    student, 6,000 steps at lr 1e-3 taught the "attributes" listing (exact on 300 of 300 held-out scenes,
    base skills unchanged); 2,000 steps left it exact on 28%."""

    @model_validator(mode="after")
    def _new_model_lists_names(self) -> PretrainConfig:
        if self.init_from is None and self.listing != "names":
            # From scratch, one more word per object kept the listing ungrounded after 5,000-8,000 steps.
            raise ValueError("a richer listing is taught by continuing a trained student: set init_from")
        return self


def world_texts(world_seed: int, per_family: int) -> list[str]:
    """Question and gold target texts of `per_family` samples of every shapes question family: the
    student's vocabulary (the world's wording is a small closed set; 200 per family covers all of it)."""
    from edtune.bench.shapes.families import FAMILIES
    from edtune.bench.shapes.world import ShapesConfig, generate_samples

    world = ShapesConfig(seed=world_seed)
    return sample_texts(s for family in FAMILIES
                        for s in generate_samples({family: 1.0}, per_family, split=f"vocabulary-{family}",
                                                  config=world))


def pretrain(out_dir: Path, config: PretrainConfig, *, progress: bool = False) -> PretrainStats:
    """Build, train and save the shapes student to `out_dir` (with `edtune_pretrain.json` describing the run)."""
    from edtune.bench.shapes.render import render_images
    from edtune.bench.shapes.world import ShapesConfig, generate_base

    started = time.perf_counter()
    if config.init_from is not None:
        start_checkpoint(config.init_from)  # a wrong folder fails before thousands of images are drawn
    # The vocabulary is only read for a new model; a continued one keeps its checkpoint's tokenizer.
    vocabulary = world_texts(config.world_seed, config.vocabulary_per_family) if config.init_from is None else []
    world = ShapesConfig(seed=config.world_seed, listing=config.listing)
    samples = generate_base(config.train_samples, config.world_seed, split="pretrain", config=world)
    with tempfile.TemporaryDirectory(prefix="edtune-pretrain-") as tmp:
        render_images(samples, Path(tmp))
        return pretrain_tiny(samples, Path(tmp), out_dir, config, vocabulary=vocabulary, progress=progress,
                             started=started)
