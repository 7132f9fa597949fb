"""Multiple choice: read which option the student chose from free text, then compare with the gold one.

The chosen option is looked for in three tiers; the first tier that finds anything decides:

1. an answer statement naming a letter: "Answer: B", "the answer is (b)", or the whole text being a
   letter ("B", "(B)", "b.");
2. a letter marker anywhere: "(B)", "option B", a line starting "B." / "B)" / "B:";
3. the text of an option as whole words ("blue"), where an option whose match lies inside a longer
   matching option ("red" inside "dark red") does not count.

A tier that names two different options is ambiguous, and a text naming no option (say "7" to "even or
odd?") names nothing: either way the student's answer is incorrect, with a reason starting
"unparseable: ". Letters beyond the number of options are ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from edtune.errors import DataError
from edtune.judging.base import RuleJudge, answer_text, scored, unreadable
from edtune.normalise import normalise
from edtune.records import Judgment, Sample, StudentOutput

_WHOLE_LETTER = re.compile(r"^\s*[(\[]?\s*([A-Za-z])\s*[)\]]?\s*[.:)]?\s*$")
# The lead-in is case-insensitive; a bare letter must be upper case or end the text, so "answer is a cat"
# names no option while "answer is b." does.
_ANSWER_LETTER = re.compile(
    r"(?i:\banswer\b\s*(?:is|:|-|=)?\s*(?:option\s+|choice\s+)?)"
    r"(?:[(\[]\s*([A-Za-z])\s*[)\]]|\b([A-Z])\b(?!['’]\w)|\b([a-z])\s*[.;:,]?\s*$)")
_MARKERS = (
    re.compile(r"[(\[]\s*([A-Za-z])\s*[)\]]"),
    re.compile(r"\b(?:option|choice)\s+([A-Za-z])\b", re.IGNORECASE),
    re.compile(r"(?m)^\s*([A-Z])\s*[.):]\s"),
)


@dataclass(frozen=True)
class Choice:
    """What was read from a text: the option index, or why there is none."""

    index: int | None
    problem: str | None = None


def letter(index: int) -> str:
    """Display letter of option `index` (0 -> "A")."""
    return chr(ord("A") + index)


def _letters(matches: list[str], n_choices: int) -> set[int]:
    found = {ord(m.upper()) - ord("A") for m in matches if m}
    return {i for i in found if 0 <= i < n_choices}


def _decide(found: set[int], tier: str) -> Choice | None:
    if not found:
        return None
    if len(found) > 1:
        named = ", ".join(letter(i) for i in sorted(found))
        return Choice(None, f"ambiguous: names options {named} ({tier})")
    return Choice(found.pop())


def _option_text_matches(text: str, choices: list[str]) -> set[int]:
    tokens = normalise(text, words=True).split()
    spans: list[tuple[int, int, int]] = []  # (start, end, option index)
    for index, choice in enumerate(choices):
        option = normalise(choice, words=True).split()
        width = len(option)
        spans += [(s, s + width, index) for s in range(len(tokens) - width + 1)
                  if width and tokens[s:s + width] == option]
    inside_longer = {(s, e, i) for s, e, i in spans
                     for s2, e2, i2 in spans if i2 != i and s2 <= s and e <= e2 and (e2 - s2) > (e - s)}
    return {i for s, e, i in spans if (s, e, i) not in inside_longer}


def extract_choice(text: str, choices: list[str]) -> Choice:
    """The option `text` names (see the module docstring for the tiers and the ambiguity rule)."""
    n = len(choices)
    if (m := _WHOLE_LETTER.match(text)) is not None and _letters([m.group(1)], n):
        return Choice(ord(m.group(1).upper()) - ord("A"))
    tiers = (
        ("answer statement", _letters(["".join(groups) for groups in _ANSWER_LETTER.findall(text)], n)),
        ("letter markers", _letters([x for pattern in _MARKERS for x in pattern.findall(text)], n)),
        ("option text", _option_text_matches(text, choices)),
    )
    for tier, found in tiers:
        if (decided := _decide(found, tier)) is not None:
            return decided
    return Choice(None, "no option letter or option text found")


def gold_index(sample: Sample) -> int:
    """Index of the correct option: the option whose text matches `answer`, else `answer` as a letter."""
    if not sample.choices:
        raise DataError(f"sample '{sample.id}' has no choices; the choice judge needs them", field="choices")
    reference = normalise(sample.answer, words=True)
    for index, choice in enumerate(sample.choices):
        if normalise(choice, words=True) == reference:
            return index
    if (m := _WHOLE_LETTER.match(sample.answer)) is not None and _letters([m.group(1)], len(sample.choices)):
        return ord(m.group(1).upper()) - ord("A")
    raise DataError(f"sample '{sample.id}': answer {sample.answer!r} is neither an option's text nor its letter",
                    field="answer")


class ChoiceJudge(RuleJudge):
    """Correct when the option read from the student's answer is the gold option; incorrect when it names
    another option, several, or none. Needs `Sample.choices`."""

    name = "choice"

    def judge_one(self, sample: Sample, output: StudentOutput) -> Judgment:
        gold = gold_index(sample)
        chosen = extract_choice(answer_text(output), list(sample.choices or []))
        if chosen.index is None:
            return unreadable(sample.id, self.name, chosen.problem or "no option found")
        return scored(sample.id, self.name, chosen.index == gold,
                      f"chose {letter(chosen.index)}, gold {letter(gold)}")
