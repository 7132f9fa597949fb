"""The variables every teacher template may use, built from a sample and the student's output.

Tasks pass one common set (templates use what they need; `PromptTemplate.render` ignores the rest):

- `question`: the question text; `options`: list of {letter, text} or None for an open question;
- `answer`: the gold answer text; `gold_letter`: its option letter (None for open questions);
- `gold_steps`: the gold rationale's step texts, or None;
- `steps`: the student's steps (list of str, shown as "Step 1: ..." by templates); `n_steps`;
- `student_answer`: the student's final answer (None when it gave none);
- `scene_text`: `Sample.metadata["scene_text"]` when the data set provides a textual scene description
  (a string), else None. No template depends on any particular data set's metadata beyond this key.

Option letters are A, B, C ... in `Sample.choices` order.
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

from edtune.errors import DataError
from edtune.records import Sample, StudentOutput

LETTERS = string.ascii_uppercase
SCENE_TEXT_KEY = "scene_text"


def option_letters(sample: Sample) -> list[str]:
    """Letters for the sample's choices (empty for an open question); more than 26 choices is an error."""
    choices = sample.choices or []
    if len(choices) > len(LETTERS):
        raise DataError(f"sample '{sample.id}' has {len(choices)} choices; at most {len(LETTERS)} are supported",
                        field="choices")
    return list(LETTERS[: len(choices)])


def option_letter(sample: Sample, answer: str | None) -> str | None:
    """The letter of the option `answer` names: a bare or bracketed letter ("B", "(B)", "B.") or the
    option's text (case and surrounding whitespace ignored). None when it names no option."""
    if answer is None or not sample.choices:
        return None
    letters = option_letters(sample)
    cleaned = answer.strip().strip("().:").strip()
    if cleaned in letters:
        return cleaned
    wanted = " ".join(answer.split()).casefold()
    for letter, text in zip(letters, sample.choices, strict=True):
        if " ".join(text.split()).casefold() == wanted:
            return letter
    return None


def sample_variables(sample: Sample, student: StudentOutput | None = None) -> dict[str, Any]:
    """The common template variables (see the module docstring)."""
    letters = option_letters(sample)
    options = ([{"letter": letter, "text": text} for letter, text in zip(letters, sample.choices or [], strict=True)]
               if sample.choices else None)
    scene = sample.metadata.get(SCENE_TEXT_KEY)
    steps = list(student.steps) if student is not None else []
    return {
        "question": sample.question,
        "options": options,
        "answer": sample.answer,
        "gold_letter": option_letter(sample, sample.answer),
        "gold_steps": [s.text for s in sample.rationale] if sample.rationale else None,
        "steps": steps,
        "n_steps": len(steps),
        "student_answer": student.answer if student is not None else None,
        "scene_text": scene if isinstance(scene, str) and scene.strip() else None,
    }


def sample_images(sample: Sample, image_root: Path | None) -> list[Path]:
    """Paths of the sample's images, resolved against `image_root` (the working directory when None);
    a missing file is a DataError naming the sample and the path."""
    root = image_root or Path.cwd()
    paths = [root / name for name in sample.images]
    for path in paths:
        if not path.is_file():
            raise DataError(f"sample '{sample.id}': image {path} does not exist", file=str(path), field="images")
    return paths
