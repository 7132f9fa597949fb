"""Write the digits task: drawn digit images, a LLaVA-format pool, a parity task and a digit-naming set.

    python examples/digits/make_data.py --out data/digits

This stands in for a user's own data; nothing in it comes from edtune. It writes, under --out:

    images/*.png         one 48 px image per sample: a digit 0-9 drawn in bold in a seeded random dark colour,
                         size and place on a random light background (48 px is the tiny student's input side)
    pool.json            the supporting pool, LLaVA conversation JSON, step-by-step answers, no skill labels;
                         four question families (key "family"): naming, parity, greater_than_five, successor
    parity_val.jsonl     the target task "Is the digit even or odd?" in edtune's Sample JSONL (answer only)
    parity_test.jsonl    the same task, held out
    naming.jsonl         digit naming with its one-step rationale: what the tiny student is pretrained on,
                         and the replay set that keeps that skill while it is tuned

Same --seed, same files (PNG bytes included, for one Pillow version).
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

SIDE = 48
"""Image side in pixels: the tiny student's `TinyStudentConfig.image_size`."""
FONT_SIZES = (34, 44)
"""Smallest and largest font size drawn (the glyph is about 0.7 of it tall)."""
STROKE = 3
"""Extra stroke width in pixels. With Pillow's thin default strokes, the tiny student trained from scratch
was still at chance (10%) on digit naming after 3,000 steps; bold strokes made the digit learnable."""
MAX_SHIFT = 6
"""Largest offset of the glyph from the image's centre, per axis, in pixels (kept inside the image)."""

PARITY_QUESTION = "Is the digit even or odd?"
"""The target task's question (the pool's parity family also asks it another way)."""

Turn = Callable[[int], tuple[list[str], str]]
"""A family's gold reasoning: digit -> (steps, answer)."""


def _naming(d: int) -> tuple[list[str], str]:
    return [f"The digit is {d}."], str(d)


def _parity(d: int) -> tuple[list[str], str]:
    word = "even" if d % 2 == 0 else "odd"
    return [f"The digit is {d}.", f"{d} is {word}."], word


def _greater_than_five(d: int) -> tuple[list[str], str]:
    relation = "greater than 5" if d > 5 else "not greater than 5"
    return [f"The digit is {d}.", f"{d} is {relation}."], "yes" if d > 5 else "no"


def _successor(d: int) -> tuple[list[str], str]:
    return [f"The digit is {d}.", f"{d} plus 1 is {d + 1}."], str(d + 1)


FAMILIES: dict[str, tuple[tuple[str, ...], Turn]] = {
    "naming": (("What digit is shown?", "Which digit is in the picture?"), _naming),
    "parity": ((PARITY_QUESTION, "Is the number in the image odd or even?"), _parity),
    "greater_than_five": (("Is the digit greater than 5?", "Is the number shown bigger than five?"),
                          _greater_than_five),
    "successor": (("What number comes after the digit shown?", "Which number follows the digit in the image?"),
                  _successor),
}
"""Question family -> (its phrasings, its gold reasoning)."""

POOL_MIX = {"naming": 0.3, "parity": 0.15, "greater_than_five": 0.25, "successor": 0.3}
"""Share of each family in the pool: the target's family is 15% of it."""


def draw_digit(digit: int, rng: random.Random) -> Image.Image:
    """A bold digit in a random dark colour and size, near the centre, on a random light background."""
    background = tuple(rng.randint(190, 255) for _ in range(3))
    ink = tuple(rng.randint(0, 70) for _ in range(3))
    image = Image.new("RGB", (SIDE, SIDE), background)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=rng.randint(*FONT_SIZES))
    left, top, right, bottom = draw.textbbox((0, 0), str(digit), font=font, stroke_width=STROKE)
    x = _place(rng, int(left), int(right))
    y = _place(rng, int(top), int(bottom))
    draw.text((x, y), str(digit), fill=ink, font=font, stroke_width=STROKE, stroke_fill=ink)
    return image


def _place(rng: random.Random, low: int, high: int) -> int:
    """Where to draw a glyph spanning [low, high) at 0 on one axis: centred, shifted by up to MAX_SHIFT
    pixels, and inside the image."""
    centre = (SIDE - (high - low)) // 2 - low
    lowest, highest = max(-low, centre - MAX_SHIFT), min(SIDE - high, centre + MAX_SHIFT)
    return rng.randint(lowest, highest) if lowest <= highest else centre


def _image(out: Path, name: str, digit: int, rng: random.Random) -> str:
    relative = f"images/{name}.png"
    draw_digit(digit, rng).save(out / relative, format="PNG")
    return relative


def _families(n: int, rng: random.Random) -> list[str]:
    """`n` family names in the pool's mix (rounded, then shuffled)."""
    names = [name for name, share in POOL_MIX.items() for _ in range(round(n * share))]
    names = (names + list(POOL_MIX) * n)[:n]
    rng.shuffle(names)
    return names


def pool_rows(out: Path, n: int, seed: int) -> list[dict[str, object]]:
    """LLaVA conversation rows: one human question, one step-by-step assistant turn, no skills."""
    rng = random.Random(f"{seed}-pool")
    rows: list[dict[str, object]] = []
    for i, family in enumerate(_families(n, rng)):
        phrasings, turn = FAMILIES[family]
        digit = rng.randint(0, 9)
        steps, answer = turn(digit)
        reply = "\n".join([*(f"Step {k}: {text}" for k, text in enumerate(steps, 1)), f"Answer: {answer}"])
        rows.append({"id": f"pool-{i:05d}", "image": _image(out, f"pool-{i:05d}", digit, rng), "family": family,
                     "conversations": [{"from": "human", "value": f"<image>\n{rng.choice(phrasings)}"},
                                       {"from": "gpt", "value": reply}]})
    return rows


def task_rows(out: Path, split: str, n: int, seed: int) -> list[dict[str, object]]:
    """Parity questions in Sample JSONL, answers only (no rationale), digits balanced over 0-9."""
    rng = random.Random(f"{seed}-{split}")
    digits = [i % 10 for i in range(n)]
    rng.shuffle(digits)
    return [{"id": f"{split}-{i:04d}", "images": [_image(out, f"{split}-{i:04d}", d, rng)],
             "question": PARITY_QUESTION, "answer": _parity(d)[1], "metadata": {"family": "parity"}}
            for i, d in enumerate(digits)]


def naming_rows(out: Path, n: int, seed: int) -> list[dict[str, object]]:
    """Digit naming in Sample JSONL with its one-step gold rationale (pretraining and replay)."""
    rng = random.Random(f"{seed}-naming")
    phrasings, turn = FAMILIES["naming"]
    rows: list[dict[str, object]] = []
    for i in range(n):
        digit = rng.randint(0, 9)
        steps, answer = turn(digit)
        rows.append({"id": f"naming-{i:05d}", "images": [_image(out, f"naming-{i:05d}", digit, rng)],
                     "question": rng.choice(phrasings), "answer": answer,
                     "rationale": [{"text": text} for text in steps], "metadata": {"family": "naming"}})
    return rows


def _write_jsonl(path: Path, rows: list[dict[str, object]]) -> None:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")


def write_task(out: Path, *, pool: int = 2000, val: int = 80, test: int = 200, naming: int = 3000,
               seed: int = 0) -> None:
    """Write every file of the task under `out` (see the module docstring)."""
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "pool.json").write_text(json.dumps(pool_rows(out, pool, seed), indent=1) + "\n", encoding="utf-8")
    _write_jsonl(out / "parity_val.jsonl", task_rows(out, "val", val, seed))
    _write_jsonl(out / "parity_test.jsonl", task_rows(out, "test", test, seed))
    _write_jsonl(out / "naming.jsonl", naming_rows(out, naming, seed))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="folder to write")
    parser.add_argument("--pool", type=int, default=2000, help="pool samples (LLaVA JSON)")
    parser.add_argument("--val", type=int, default=80, help="parity validation samples")
    parser.add_argument("--test", type=int, default=200, help="parity test samples")
    parser.add_argument("--naming", type=int, default=3000, help="digit-naming samples (pretraining, replay)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    write_task(args.out, pool=args.pool, val=args.val, test=args.test, naming=args.naming, seed=args.seed)
    print(f"wrote {args.out}: pool {args.pool}, val {args.val}, test {args.test}, naming {args.naming}")


if __name__ == "__main__":
    main()
