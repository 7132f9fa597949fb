"""Export a gold set from the bundled shapes world: student errors with the true first wrong step and skill.

Two sources, recorded in the gold set's header (`source`) and in every item (`origin`):

- **student**: real errors. Given a student's outputs on world samples (e.g. the bundled tiny student's
  on the validation splits), every wrong output whose first wrong step (by `edtune.bench.shapes.locate`)
  lies within the student's own steps becomes an item. Errors only in the final answer line are left
  out: no step of the student's can be blamed for them.
- **corrupted**: synthetic errors, for when no student is at hand. For each sample, with a
  `random.Random` seeded by (seed, sample id): a step k is drawn uniformly among the gold steps that hold
  a word of a known class (colours, shapes, sizes, row and column words, above/below, bigger/smaller,
  digits, yes/no); one such word in step k is replaced by another word of its class. Steps before k and
  after k keep their gold text. The final answer is made wrong too: for multiple choice another option,
  one the corrupted step names when it names any (so the answer follows from the error, as a student's
  would), else one drawn at random; for an open question the gold answer put through the same word swap.
  A sample whose steps hold no such word, or whose answer cannot be made wrong, is skipped. The truth
  is then recomputed with `first_wrong_step`, which must give step k.

Every exported sample carries `metadata["scene_text"]`, a plain description of its scene, so that a
text-only teacher (which cannot see the image) can still check steps; a vision teacher gets the image.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from edtune.bench.shapes import SKILLS, Scene, first_wrong_step, load_world, read_manifest
from edtune.errors import UserError
from edtune.prompt_eval.gold import GoldItem, GoldSetMeta, write_gold
from edtune.records import Sample, StudentOutput

ExportSource = Literal["auto", "student", "corrupted"]

WORD_CLASSES: tuple[tuple[str, ...], ...] = (
    ("red", "green", "blue", "yellow"), ("circle", "square", "triangle"), ("small", "large"),
    ("top", "bottom"), ("left", "right"), ("above", "below"), ("bigger", "smaller"), ("yes", "no"),
    tuple("0123456789"),
)
"""Words the corruption may swap, each for another word of its own class."""
_CLASS_OF = {word: words for words in WORD_CLASSES for word in words}
_WORD = re.compile(r"[A-Za-z]+|\d")


def scene_text(scene: Scene) -> str:
    """The scene in words, e.g. "a large red circle in the top-left cell; a small blue square in ..."."""
    return "; ".join(f"a {o.size} {o.colour} {o.shape} in the {o.position} cell" for o in scene.objects)


def swap_word(text: str, rng: random.Random) -> str | None:
    """`text` with one known-class word (drawn by `rng`) replaced by another of its class; None if none."""
    spots = [m for m in _WORD.finditer(text) if m.group().lower() in _CLASS_OF]
    if not spots:
        return None
    spot = rng.choice(spots)
    word = spot.group()
    replacement = rng.choice([w for w in _CLASS_OF[word.lower()] if w != word.lower()])
    replacement = replacement.capitalize() if word[0].isupper() else replacement
    return text[: spot.start()] + replacement + text[spot.end():]


def _with_scene_text(sample: Sample) -> Sample:
    scene = Scene.model_validate(sample.metadata["scene"])
    return sample.model_copy(update={"metadata": {**sample.metadata, "scene_text": scene_text(scene)}})


def _skill_text(skill: str) -> list[str]:
    info = SKILLS.get(skill)
    return [info.description, *info.phrases] if info is not None else []


Origin = Literal["student", "corrupted"]


def _item(sample: Sample, steps: list[str], answer: str | None, origin: Origin) -> GoldItem | None:
    truth = first_wrong_step(sample, steps, answer)
    if truth is None or truth.at_answer or truth.step > len(steps):
        return None
    return GoldItem(id=sample.id, sample=_with_scene_text(sample), student_steps=steps, student_answer=answer,
                    first_wrong_step=truth.step, missing_skills=[truth.skill], skill_text=_skill_text(truth.skill),
                    gold_verdict="incorrect", origin=origin)


def wrong_option(choices: list[str], gold: str, corrupted: str, rng: random.Random) -> str | None:
    """A non-gold option the corrupted step names, else any non-gold option (None when there is none)."""
    others = [c for c in choices if c != gold]
    named = [c for c in others if re.search(rf"\b{re.escape(c)}\b", corrupted, re.IGNORECASE)]
    return rng.choice(named or others) if others else None


def corrupt_sample(sample: Sample, seed: int) -> GoldItem | None:
    """A corrupted-rationale error for `sample` (see the module docstring), or None when none can be made."""
    rng = random.Random(f"edtune/gold/{seed}/{sample.id}")
    gold = [step.text for step in sample.rationale or []]
    candidates = [k for k, text in enumerate(gold) if any(w.lower() in _CLASS_OF for w in _WORD.findall(text))]
    if not candidates:
        return None
    k = rng.choice(candidates)
    steps = list(gold)
    steps[k] = swap_word(gold[k], rng) or gold[k]
    if sample.choices:
        answer: str | None = wrong_option(sample.choices, sample.answer, steps[k], rng)
    else:
        answer = swap_word(sample.answer, rng)
    if answer is None:
        return None
    return _item(sample, steps, answer, "corrupted")


def student_errors(samples: Sequence[Sample], outputs: Sequence[StudentOutput]) -> list[GoldItem]:
    """Gold items from a student's outputs (matched by sample id): its wrong answers whose first wrong
    step is one of its own steps."""
    by_id = {sample.id: sample for sample in samples}
    items = []
    for output in outputs:
        sample = by_id.get(output.sample_id)
        if sample is not None and (item := _item(sample, list(output.steps), output.answer, "student")) is not None:
            items.append(item)
    return items


def _bundled_outputs(samples: Sequence[Sample], image_root: Path) -> list[StudentOutput] | None:
    """The bundled tiny student's outputs, or None when its checkpoint (or torch) is not available."""
    try:
        from edtune.student.bundled import bundled_student

        student = bundled_student()
    except (UserError, ImportError):
        return None
    return student.answer(samples, image_root)


def export_gold(world_dir: str | Path, out: str | Path, *, source: ExportSource = "auto", size: int = 200,
                seed: int = 0, splits: Sequence[str] | None = None, multiple_choice_only: bool = False) -> GoldSetMeta:
    """Write a gold set from a world folder's validation splits (or `splits`) to `out`; returns its header.

    `source` auto uses the bundled student when its checkpoint exists, else corruption; student fails with
    UserError when it does not. At most `size` items are kept, in a seeded random order of the samples.
    `multiple_choice_only` keeps only multiple-choice questions (answer-switch needs them).
    """
    root = Path(world_dir)
    world = load_world(root)
    names = list(splits) if splits else [name for name in world.splits if name.endswith("_val")]
    unknown = [name for name in names if name not in world.splits]
    if unknown:
        raise UserError(f"world {root} has no split(s) {', '.join(unknown)} (has: {', '.join(world.splits)})")
    samples = [s for name in names for s in world.splits[name] if s.choices or not multiple_choice_only]
    random.Random(f"edtune/gold/{seed}/order").shuffle(samples)
    items, used = _make_items(samples, root, source, seed)
    meta = GoldSetMeta(name=f"shapes-{used}-{seed}", source=used, image_root=str(root.resolve()), seed=seed,
                       skills={name: [info.description, *info.phrases] for name, info in SKILLS.items()},
                       description=(f"shapes world {read_manifest(root).content_hash[:16]}, splits {', '.join(names)}, "
                                    f"{used} errors, seed {seed}" + (", multiple choice only" if multiple_choice_only
                                                                     else "")))
    write_gold(out, meta, items[:size])
    return meta


def _make_items(samples: list[Sample], root: Path, source: ExportSource,
                seed: int) -> tuple[list[GoldItem], Literal["student", "corrupted"]]:
    if source in ("auto", "student"):
        outputs = _bundled_outputs(samples, root)
        if outputs is not None:
            return student_errors(samples, outputs), "student"
        if source == "student":
            raise UserError("source 'student' needs the bundled tiny student checkpoint (and torch); "
                            "use source 'corrupted' to corrupt gold rationales instead")
    return [item for s in samples if (item := corrupt_sample(s, seed)) is not None], "corrupted"
