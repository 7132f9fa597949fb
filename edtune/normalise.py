"""Answer normalisation: the one function that maps surface variants of an answer (or a rationale step) to
the form two of them are compared in.

`normalise(text, words=True)` is what the rule judges use: Unicode compatibility forms, case, punctuation,
whitespace, the articles a/an/the, number words ("twenty-one" -> "21") and numeric spellings
("1,000" -> "1000", "2.50" -> "2.5") all fold away. Both the reference and the student's answer go through
the same call, so the rules only have to be consistent, not linguistically complete.

Without `words`, the text is only trimmed and lower-cased, and each keyword turns on one more rule (runs of
whitespace collapsed, spellings mapped, no space before punctuation, final full stops dropped): the quick
exact-match score of `edtune.student.evaluate` and the bundled world's step comparison
(`edtune.bench.shapes.locate`) each pass the rules they have always used.

This module imports nothing from edtune, so students, judges and benchmarks can all use it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

_ARTICLES = frozenset({"a", "an", "the"})
_UNITS = {w: i for i, w in enumerate([
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"])}
_TENS = {w: 10 * i for i, w in enumerate(
    ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"], start=2)}
_SCALES = {"thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
NUMBER_WORDS = frozenset({*_UNITS, *_TENS, *_SCALES, "hundred"})
"""Every word `words_to_numbers` turns into digits."""

# A token is a (signed, decimal) number or a run of letters; everything else is punctuation to drop.
_TOKEN = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?|[^\W\d_]+|\d+")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")


@dataclass
class _NumberRun:
    """A number being read word by word; `last` is the kind of the previous word."""

    total: int = 0
    current: int = 0
    last: str | None = None
    words: list[str] = field(default_factory=list)

    def accepts(self, word: str) -> bool:
        """Whether `word` continues this number ("twenty" then "one") rather than starting a new one."""
        if self.last is None:
            return True
        if word in _UNITS:
            small = _UNITS[word] < 10 and word != "zero"
            return self.last in ("hundred", "scale") or (self.last == "tens" and small)
        if word in _TENS:
            return self.last in ("hundred", "scale")
        if word == "hundred":
            return self.last in ("unit", "tens")
        earlier = [_SCALES[w] for w in self.words if w in _SCALES]
        return not earlier or _SCALES[word] < min(earlier)

    def add(self, word: str) -> None:
        if word in _UNITS:
            self.current, self.last = self.current + _UNITS[word], "unit"
        elif word in _TENS:
            self.current, self.last = self.current + _TENS[word], "tens"
        elif word == "hundred":
            self.current, self.last = (self.current or 1) * 100, "hundred"
        else:
            self.total, self.current, self.last = self.total + (self.current or 1) * _SCALES[word], 0, "scale"
        self.words.append(word)

    @property
    def value(self) -> int:
        return self.total + self.current


def words_to_numbers(tokens: list[str]) -> list[str]:
    """Replace runs of lower-case number words with their digits: ["two", "red"] -> ["2", "red"].

    "one hundred and five" reads as 105; "one two" as two numbers, 1 and 2.
    """
    out: list[str] = []
    run = _NumberRun()
    for i, token in enumerate(tokens):
        joins_run = token == "and" and run.last == "hundred" and i + 1 < len(tokens) and tokens[i + 1] in NUMBER_WORDS
        if joins_run:
            continue
        if token in NUMBER_WORDS and run.accepts(token):
            run.add(token)
            continue
        if run.words:
            out.append(str(run.value))
            run = _NumberRun()
        if token in NUMBER_WORDS:
            run.add(token)
        else:
            out.append(token)
    if run.words:
        out.append(str(run.value))
    return out


def canonical_number(token: str) -> str:
    """"2.50" -> "2.5", "2.0" -> "2", "007" -> "7", "-0" -> "0"; other tokens unchanged."""
    if not re.fullmatch(r"-?\d+(?:\.\d+)?", token):
        return token
    sign = "-" if token.startswith("-") else ""
    whole, _, frac = token.lstrip("-").partition(".")
    whole, frac = whole.lstrip("0") or "0", frac.rstrip("0")
    text = f"{whole}.{frac}" if frac else whole
    return "0" if text == "0" else sign + text


def tokenize(text: str) -> list[str]:
    """Lower-cased word and number tokens of `text`, punctuation dropped, number words still as words."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return _TOKEN.findall(_THOUSANDS.sub("", text))


def _answer_words(text: str) -> str:
    tokens = words_to_numbers(tokenize(text))
    return " ".join(canonical_number(t) for t in tokens if t not in _ARTICLES)


_SPACE = re.compile(r"\s+")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:!?])")
_NO_SPELLINGS: Mapping[str, str] = {}


def normalise(text: str | None, *, words: bool = False, collapse_spaces: bool = False,
              spellings: Mapping[str, str] = _NO_SPELLINGS, tight_punctuation: bool = False,
              final_stops: int | None = 0) -> str:
    """The comparison form of `text` (None reads as ""); "" when nothing is left.

    `words`: compare word tokens (see the module docstring); it cannot be combined with the rules below.
    Otherwise the text is stripped and lower-cased (`str.lower`), then, in this order:
    `collapse_spaces` turns each run of whitespace into one space; `spellings` replaces each key by its
    value wherever it occurs ("color" -> "colour" also maps "colors"); `tight_punctuation` removes
    whitespace before , . ; : ! ?; `final_stops` removes up to that many full stops at the end (None: all),
    and whitespace left at either end is stripped.
    """
    text = text or ""
    if words:
        if collapse_spaces or spellings or tight_punctuation or final_stops != 0:
            raise ValueError("normalise: words=True cannot be combined with the text rules")
        return _answer_words(text)
    text = text.strip().lower()
    if collapse_spaces:
        text = _SPACE.sub(" ", text)
    for spelling, replacement in spellings.items():
        text = text.replace(spelling, replacement)
    if tight_punctuation:
        text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    if final_stops is None:
        text = text.rstrip(".")
    else:
        for _ in range(final_stops):
            text = text.removesuffix(".")
    return text.strip()


_WORD_RUN = re.compile(
    r"\b(?:{w})(?:(?:\s+and\s+|\s*-\s*|\s+)(?:{w}))*\b".format(w="|".join(sorted(NUMBER_WORDS, key=len, reverse=True))),
    re.IGNORECASE)


def replace_number_words(text: str) -> str:
    """`text` with each run of number words written in digits, everything else (punctuation too) kept:
    "Twenty-one apples, two pears." -> "21 apples, 2 pears.". Thousands separators are removed."""
    def digits(match: re.Match[str]) -> str:
        return " ".join(words_to_numbers(re.findall(r"[a-z]+", match.group(0).lower())))

    return _WORD_RUN.sub(digits, _THOUSANDS.sub("", unicodedata.normalize("NFKC", text)))
