"""The shared tokenizer: normalisation, splitting, stop-words and light stemming."""

from __future__ import annotations

import pytest

from edtune.retrieval.tokenize import Tokenizer, TokenizerSettings, light_stem


def test_lowercases_splits_on_punctuation_and_drops_apostrophes() -> None:
    plain = Tokenizer(TokenizerSettings(stopwords=False, stem=False))
    assert plain("Left-of the CUBE's 3D edge_case!") == ["left", "of", "the", "cubes", "3d", "edge", "case"]
    assert plain("Ｃｏｕｎｔ") == ["count"]  # NFKC folds full-width letters
    assert plain("  ,;: ") == []


def test_stopwords_keep_skill_words() -> None:
    tok = Tokenizer(TokenizerSettings(stopwords=True, stem=False))
    assert tok("which of the objects is above the other one") == ["objects", "above", "other", "one"]


@pytest.mark.parametrize(("forms", "stem"), [
    (["count", "counts", "counting", "counted"], "count"),
    (["shape", "shapes", "shaping"], "shap"),
    (["size", "sizes", "sizing"], "siz"),
    (["box", "boxes"], "box"),
    (["body", "bodies"], "body"),
    (["run", "running"], "run"),
])
def test_light_stem_joins_inflected_forms(forms: list[str], stem: str) -> None:
    assert {light_stem(f) for f in forms} == {stem}


def test_light_stem_leaves_short_and_non_alphabetic_words() -> None:
    assert [light_stem(w) for w in ("red", "is", "3ds", "class", "number")] == ["red", "is", "3ds", "class", "number"]
