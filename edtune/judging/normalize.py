"""Former home of answer normalisation, kept so existing imports work: the code lives in `edtune.normalise`.

`normalize_answer(text)` is `normalise(text, words=True)`.
"""

from __future__ import annotations

from edtune.normalise import (
    NUMBER_WORDS,
    canonical_number,
    normalise,
    replace_number_words,
    tokenize,
    words_to_numbers,
)


def normalize_answer(text: str) -> str:
    """`edtune.normalise.normalise(text, words=True)`: the form the rule judges compare answers in."""
    return normalise(text, words=True)


__all__ = ["NUMBER_WORDS", "canonical_number", "normalize_answer", "replace_number_words", "tokenize",
           "words_to_numbers"]
