"""The one tokenizer that turns both indexed documents and skill queries into BM25 terms.

Documents and queries must go through the same function with the same settings, or their terms would not
meet; an index therefore records `TokenizerSettings` plus `TOKENIZER_VERSION` and refuses queries made with
anything else (see `edtune.retrieval.index`).

The steps, in order:

1. Unicode NFKC normalisation, then lower-casing (so "Ｃｏｕｎｔ" and "Count" are the same term).
2. Apostrophes (' and ’) are removed, so "object's" becomes "objects" and "don't" becomes "dont".
3. The text is split into runs of letters and digits; everything else (punctuation, "_", spaces) separates
   terms. "left-of" gives "left", "of"; "3d" stays "3d".
4. Optional stop-words: the terms in `ENGLISH_STOPWORDS` (function words only, no skill words) are dropped.
5. Optional light stemming (`light_stem`): strips the plural and verb endings only, so "counting",
   "counts", "counted" and "count" meet, as do "shapes"/"shape" and "comparing"/"compare". It is
   deliberately weaker than Porter: no "-er", "-ness" or "-ation" rules, so "number" never becomes "numb".
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from edtune.records import Record

TOKENIZER_VERSION = 1
"""Bumped whenever the steps above change in a way that changes terms; indexes built before refuse to load."""

ENGLISH_STOPWORDS: frozenset[str] = frozenset([
    "a", "about", "again", "all", "an", "and", "any", "are", "as", "at", "be", "because", "been", "being", "both",
    "but", "by", "can", "could", "did", "do", "does", "doing", "during", "each", "for", "from", "had", "has", "have",
    "having", "he", "her", "here", "hers", "him", "his", "how", "i", "if", "in", "is", "it", "its", "itself", "just",
    "me", "my", "no", "nor", "not", "of", "on", "once", "only", "or", "our", "ours", "own", "she", "should", "so",
    "some", "such", "than", "that", "the", "their", "theirs", "them", "then", "there", "these", "they", "this",
    "those", "to", "too", "until", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who",
    "whom", "why", "will", "with", "would", "you", "your", "yours"
])
"""Function words dropped when `TokenizerSettings.stopwords` is on. Words that can name a skill are kept
out of the list: spatial ones ("above", "below", "between", "under", "over", "behind") and comparative ones
("more", "most", "few", "same", "other")."""

_APOSTROPHES = re.compile(r"['’]")
_TERM = re.compile(r"[^\W_]+")
_VOWEL = re.compile(r"[aeiouy]")
_UNDOUBLE_KEEP = frozenset("lsz")


class TokenizerSettings(Record):
    """How text becomes BM25 terms; stored in every index and compared on load."""

    stopwords: bool = True
    """Drop the English function words in `ENGLISH_STOPWORDS`."""
    stem: bool = True
    """Apply `light_stem` to every term (plural and verb endings only)."""


def _strip_verb_ending(word: str, ending: str) -> str | None:
    """`word` without "-ing"/"-ed" when what is left is a plausible stem (>= 3 letters with a vowel)."""
    stem = word[: -len(ending)]
    if len(stem) < 3 or not _VOWEL.search(stem):
        return None
    if len(stem) >= 2 and stem[-1] == stem[-2] and stem[-1] not in _UNDOUBLE_KEEP and stem[-1] not in "aeiou":
        stem = stem[:-1]  # "running" -> "run", but "falling" keeps "fall"
    return stem


def _strip_plural(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("sses"):
        return word[:-2]
    if word.endswith(("ches", "shes", "xes", "zes")) and len(word) > 4:
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]
    return word


@lru_cache(maxsize=200_000)
def light_stem(word: str) -> str:
    """Strip plural and verb endings, then a final "e", so inflected forms of one word share a term.

    Rules, applied once each in this order, to purely alphabetic words longer than 3 characters:
    "-ies" -> "-y"; "-sses" -> "-ss"; "-ches/-shes/-xes/-zes" lose "es"; a final "s" (not "ss", "us",
    "is") is dropped; then "-ing" or "-ed" is dropped when >= 3 letters with a vowel remain (a doubled
    final consonant other than l, s, z is undoubled); finally a trailing "e" is dropped from a result of
    >= 4 letters. Examples: shapes, shape -> shap; sizes, sizing -> siz; counting, counts -> count;
    bodies -> body; boxes -> box.
    """
    if len(word) <= 3 or not word.isalpha():
        return word
    out = _strip_plural(word)
    for ending in ("ing", "ed"):
        if out.endswith(ending):
            out = _strip_verb_ending(out, ending) or out
            break
    if out.endswith("e") and len(out) >= 4:
        out = out[:-1]
    return out


class Tokenizer:
    """Callable text -> terms following the module's documented steps for one `TokenizerSettings`."""

    def __init__(self, settings: TokenizerSettings | None = None) -> None:
        self.settings = settings or TokenizerSettings()

    def __call__(self, text: str) -> list[str]:
        """The terms of `text`, in order, duplicates kept (BM25 counts them)."""
        normal = _APOSTROPHES.sub("", unicodedata.normalize("NFKC", text).lower())
        terms = _TERM.findall(normal)
        if self.settings.stopwords:
            terms = [t for t in terms if t not in ENGLISH_STOPWORDS]
        if self.settings.stem:
            terms = [light_stem(t) for t in terms]
        return terms
