"""One answer normaliser (`edtune.normalise.normalise`) for three callers: the rule judges (`words=True`),
the student's quick exact match and the bundled world's step comparison. Each caller must get exactly what
its own copy returned before they were merged: the two short copies are frozen here and compared on tricky
and seeded random strings; the judges' form is pinned by a table the old `normalize_answer` produced."""

from __future__ import annotations

import random
import re

import pytest

from edtune.bench.shapes import normalise as shapes_normalise
from edtune.judging.normalize import normalize_answer
from edtune.normalise import normalise
from edtune.student.evaluate import exact_form

_SPACE = re.compile(r"\s+")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:!?])")


def old_student(answer: str | None) -> str:
    """edtune.student.evaluate.normalise before the merge."""
    return (answer or "").strip().lower().removesuffix(".").strip()


def old_shapes(text: str) -> str:
    """edtune.bench.shapes.locate.normalise before the merge."""
    text = _SPACE.sub(" ", text.strip().lower()).replace("color", "colour")
    return _SPACE_BEFORE_PUNCT.sub(r"\1", text).rstrip(". ")


# (text, what the judges' normalize_answer returned for it before the merge)
WORDS = [
    ('', ''),
    (' ', ''),
    ('...', ''),
    ('.', ''),
    (' . ', ''),
    ('a..', ''),
    ('x .', 'x'),
    ('x. .', 'x'),
    ('5.', '5'),
    ('5..', '5'),
    ('2.', '2'),
    ('2.50', '2.5'),
    ('2.0', '2'),
    ('007', '7'),
    ('-0', '0'),
    ('-3 degrees', '-3 degrees'),
    ('1,000', '1000'),
    ('1,000,000 apples', '1000000 apples'),
    ('12,34', '12 34'),
    ('3.14.', '3.14'),
    ('  The Red-Circle! ', 'red circle'),
    ('An apple.', 'apple'),
    ('the', ''),
    ('A', ''),
    ('an a the', ''),
    ('Two', '2'),
    ('twenty-one apples', '21 apples'),
    ('one hundred and five', '105'),
    ('two million three hundred thousand', '2300000'),
    ('one two', '1 2'),
    ('hundred', '100'),
    ('zero', '0'),
    ('and', 'and'),
    ('one and two', '1 and 2'),
    ('ＡＢＣ', 'abc'),
    ('ﬁve', '5'),
    ('Ⅻ', 'xii'),
    ('½', '1 2'),
    ('Straße', 'strasse'),
    ('STRASSE', 'strasse'),
    ('İstanbul', 'i stanbul'),
    ('ΣΊΣΥΦΟΣ', 'σίσυφοσ'),
    ('red\xa0circle', 'red circle'),
    ('red\u2003\u2003circle.', 'red circle'),
    ('red\tcircle\n', 'red circle'),
    ('What  COLOR is it ?', 'what color is it'),
    ('what colour is it?', 'what colour is it'),
    ('Colors: red , blue ;green', 'colors red blue green'),
    ('discolored .', 'discolored'),
    ('Step 1: count the circles .', 'step 1 count circles'),
    ('Answer: The Red circle.', 'answer red circle'),
    ('(B)', 'b'),
    ('B.', 'b'),
    ('b', 'b'),
    ('Option C: blue', 'option c blue'),
    ('new-york!', 'new york'),
    ('New York', 'new york'),
    ('3/4', '3 4'),
    ('50%', '50'),
    ('1e5', '1 e 5'),
    ('x,y', 'x y'),
    ('hello ,world', 'hello world'),
    ('a !', ''),
    ('¿qué?', 'qué'),
    ('naïve café', 'naïve café'),
    ('é', 'é'),
    ("don't", 'don t'),
    ("it's 4 o'clock.", 'it s 4 o clock'),
    ('  many   spaces   here  .  ', 'many spaces here'),
    ('trailing dot inside. text.', 'trailing dot inside text'),
    ('..leading', 'leading'),
    ('2 . 5', '2 5'),
    ('forty two', '42'),
    ('forty-two.', '42'),
    ('ninety nine thousand', '99000'),
    ('one hundred and', '100 and'),
    ('a hundred', '100'),
    ('the 2 cats', '2 cats'),
]
TRICKY = [text for text, _ in WORDS]
ALPHABET = [" ", "  ", "\t", "\n", "\u00a0", "\u2003", ".", "..", ",", ";", ":", "!", "?", "-", "'", "(", ")",
            "a", "A", "the", "The", "an", "color", "COLOR", "Colour", "two", "Twenty", "one", "hundred", "and",
            "thousand", "1", "0", "007", "2.50", "1,000", "-3", "ß", "İ", "Σ", "ﬁ", "ＡＢ", "e\u0301", "x"]


def random_strings(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 8))) for _ in range(n)]


@pytest.mark.parametrize(("text", "expected"), WORDS)
def test_words_form_is_what_the_judges_had(text: str, expected: str) -> None:
    assert normalise(text, words=True) == expected
    assert normalize_answer(text) == expected


@pytest.mark.parametrize("text", [*TRICKY, None])
def test_student_exact_form_is_unchanged(text: str | None) -> None:
    assert exact_form(text) == old_student(text)


@pytest.mark.parametrize("text", TRICKY)
def test_shapes_step_form_is_unchanged(text: str) -> None:
    assert shapes_normalise(text) == old_shapes(text)


def test_unchanged_on_random_strings() -> None:
    texts = random_strings(5000)
    assert [exact_form(t) for t in texts] == [old_student(t) for t in texts]
    assert [shapes_normalise(t) for t in texts] == [old_shapes(t) for t in texts]


def test_rules_apply_in_order() -> None:
    assert normalise("  Dark  COLOR . .", collapse_spaces=True, spellings={"color": "colour"},
                     tight_punctuation=True, final_stops=None) == "dark colour"
    assert normalise("Red..", final_stops=1) == "red."
    assert normalise(None) == ""


def test_words_refuses_text_rules() -> None:
    with pytest.raises(ValueError, match="words=True"):
        normalise("x", words=True, final_stops=1)
