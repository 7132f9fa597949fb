"""Rule judges on tricky free text, normalisation, unreadable answers counted wrong, and accuracy over
every question."""

from __future__ import annotations

import asyncio

import pytest

from edtune.errors import ConfigError, DataError
from edtune.judging import RuleJudge, accuracy, judge_sync, judges, summarize
from edtune.judging.choice import ChoiceJudge, extract_choice
from edtune.judging.exact import ExactJudge
from edtune.judging.numeric import NumericJudge, extract_number
from edtune.normalise import normalise
from edtune.rationale import to_student_output
from edtune.records import Judgment, Sample, StudentOutput

COLOURS = ["red", "dark red", "blue", "green"]


def sample(answer: str, choices: list[str] | None = None, sid: str = "s1") -> Sample:
    return Sample(id=sid, question="Which one?", choices=choices, answer=answer)


def said(text: str, sid: str = "s1") -> StudentOutput:
    return to_student_output(sid, text)


def one(judge: ExactJudge | ChoiceJudge | NumericJudge, s: Sample, text: str) -> Judgment:
    return judge.judge_one(s, said(text))


@pytest.mark.parametrize(("text", "expected"), [
    ("  The Red-Circle! ", "red circle"),
    ("Two", "2"),
    ("twenty-one apples", "21 apples"),
    ("one hundred and five", "105"),
    ("two million three hundred thousand", "2300000"),
    ("one two", "1 2"),
    ("1,000", "1000"),
    ("2.50", "2.5"),
    ("007", "7"),
    ("-3 degrees", "-3 degrees"),
    ("An apple.", "apple"),
    ("ＡＢＣ", "abc"),
    ("...", ""),
])
def test_normalise_words(text: str, expected: str) -> None:
    assert normalise(text, words=True) == expected


@pytest.mark.parametrize(("reference", "text", "outcome"), [
    ("red circle", "Answer: The Red circle.", "correct"),
    ("2", "Step 1: I count.\nAnswer: two", "correct"),
    ("a triangle", "TRIANGLE", "correct"),
    ("New York", "new-york!", "correct"),
    ("2", "Answer: 3", "incorrect"),
    ("red circle", "Answer: red square", "incorrect"),
    ("2", "the answer is 2", "incorrect"),
    ("2", "Answer: ?!", "incorrect"),
])
def test_exact_judge(reference: str, text: str, outcome: str) -> None:
    judgment = one(ExactJudge(), sample(reference), text)
    assert judgment.outcome == outcome
    assert judgment.judge == "exact"


@pytest.mark.parametrize(("text", "index"), [
    ("B", 1), ("(b)", 1), ("b.", 1), ("[C]", 2),
    ("Answer: C", 2), ("The answer is (c).", 2), ("the answer is d", 3), ("ANSWER: option B", 1),
    ("I'd pick option D here", 3), ("C) blue", 2),
    ("It is blue.", 2), ("dark red", 1), ("Dark-Red!", 1), ("answer: the blue one", 2),
    ("Answer: B. Option A looked close but is wrong", 1),
])
def test_choice_extraction_reads_the_chosen_option(text: str, index: int) -> None:
    chosen = extract_choice(text, COLOURS)
    assert (chosen.index, chosen.problem) == (index, None)


@pytest.mark.parametrize(("text", "problem"), [
    ("It is red or blue", "ambiguous: names options A, C"),
    ("(A) is wrong; (C) is right", "ambiguous: names options A, C"),
    ("Answer: C\nanswer: D", "ambiguous: names options C, D"),
    ("nothing I recognise", "no option"),
    ("the answer is a purple thing", "no option"),
    ("F", "no option"),
])
def test_choice_extraction_refuses_ambiguous_or_missing(text: str, problem: str) -> None:
    chosen = extract_choice(text, COLOURS)
    assert chosen.index is None
    assert chosen.problem is not None and chosen.problem.startswith(problem)


def test_choice_judge_outcomes_and_reasons() -> None:
    judge = ChoiceJudge()
    gold_blue = sample("blue", COLOURS)
    assert one(judge, gold_blue, "Answer: (C)").outcome == "correct"
    assert one(judge, gold_blue, "Step 1: it is bright.\nAnswer: blue").outcome == "correct"
    wrong = one(judge, gold_blue, "Answer: dark red")
    assert (wrong.outcome, wrong.reason) == ("incorrect", "chose B, gold C")
    ambiguous = one(judge, gold_blue, "red or blue")
    assert ambiguous.outcome == "incorrect" and ambiguous.reason is not None
    assert ambiguous.reason.startswith("unparseable: ambiguous")
    missing = one(judge, gold_blue, "no idea")
    assert missing.outcome == "incorrect" and missing.reason is not None
    assert missing.reason.startswith("unparseable: no option")
    assert one(judge, sample("c", COLOURS), "blue").outcome == "correct"  # gold given as a letter


def test_choice_judge_rejects_unusable_samples() -> None:
    with pytest.raises(DataError, match="no choices") as info:
        one(ChoiceJudge(), sample("blue"), "blue")
    assert info.value.field == "choices"
    with pytest.raises(DataError, match="neither an option") as info:
        one(ChoiceJudge(), sample("purple", COLOURS), "blue")
    assert info.value.field == "answer"


@pytest.mark.parametrize(("text", "value"), [
    ("two", 2.0), ("Answer: twenty-one", 21.0), ("3/4", 0.75), ("50%", 50.0), ("1,234.5 cm", 1234.5),
    ("-2.5e3", -2500.0), ("There are 3 red and 2 blue, so the answer is 5.", 5.0), ("4 or four", 4.0),
])
def test_number_extraction(text: str, value: float) -> None:
    assert extract_number(text) == (value, None)


@pytest.mark.parametrize(("text", "problem"), [
    ("no idea", "no number found"), ("answer: none", "no number found"),
    ("3 or 4", "ambiguous: several numbers (3, 4)"),
])
def test_number_extraction_failures(text: str, problem: str) -> None:
    assert extract_number(text) == (None, problem)


def test_numeric_judge_tolerance() -> None:
    strict, loose = NumericJudge(), NumericJudge(abs_tol=0.5, rel_tol=0.0)
    ref = sample("3.0")
    assert one(strict, ref, "Answer: three").outcome == "correct"
    assert one(strict, ref, "Answer: 3.4").outcome == "incorrect"
    assert one(loose, ref, "Answer: 3.4").outcome == "correct"
    assert one(loose, ref, "Answer: 3.6").outcome == "incorrect"
    relative = NumericJudge(abs_tol=0.0, rel_tol=0.01)
    assert one(relative, sample("1000"), "1,009").outcome == "correct"
    assert one(relative, sample("1000"), "1,011").outcome == "incorrect"
    nothing = one(strict, ref, "Answer: I cannot tell")
    assert (nothing.outcome, nothing.reason) == ("incorrect", "unparseable: no number found")


def test_numeric_judge_rejects_bad_reference_and_tolerance() -> None:
    with pytest.raises(DataError, match="not one number") as info:
        one(NumericJudge(), sample("many"), "3")
    assert info.value.field == "answer"
    with pytest.raises(ConfigError, match="tolerances"):
        NumericJudge(abs_tol=-1)


def _judgment(outcome: str, reason: str | None = None) -> Judgment:
    return Judgment.model_validate({"sample_id": "x", "outcome": outcome, "reason": reason, "judge": "t"})


def test_accuracy_counts_every_question_and_reports_unscored_apart() -> None:
    batch = [_judgment("correct"), _judgment("incorrect"), _judgment("correct"),
             _judgment("incorrect", "unparseable: no option letter or option text found"),
             _judgment("unscored", "error: HTTP 500"), _judgment("unscored", "refused: sorry"),
             _judgment("unscored", "error: timeout"), _judgment("incorrect", "chose A, gold B")]
    summary = summarize(batch)
    assert (summary.correct, summary.incorrect, summary.unscored, summary.scored) == (2, 3, 3, 5)
    assert (summary.total, summary.unparseable) == (8, 1)
    assert summary.unscored_reasons == {"error": 2, "refused": 1}
    assert summary.accuracy == pytest.approx(2 / 8) and accuracy(batch) == pytest.approx(2 / 8)
    assert summary.unscored_share == pytest.approx(3 / 8)
    assert accuracy([_judgment("unscored", "error: x")]) == 0.0
    assert accuracy([]) is None and summarize([]).unscored_share is None


@pytest.mark.parametrize("judge", [ExactJudge(), ChoiceJudge(), NumericJudge()], ids=lambda j: j.name)
def test_a_student_that_stops_writing_readable_answers_loses_accuracy(judge: RuleJudge) -> None:
    samples = [sample("2", ["1", "2", "3"], sid=f"s{i}") for i in range(4)]
    readable = [to_student_output(s.id, "Step 1: I count.\nAnswer: 2") for s in samples]
    unreadable = [*readable[:2], *(to_student_output(s.id, "Step 1: I look.\nAnswer: ...") for s in samples[2:])]
    assert accuracy(judge_sync(judge, samples, readable)) == 1.0
    judged = judge_sync(judge, samples, unreadable)
    assert [j.outcome for j in judged] == ["correct", "correct", "incorrect", "incorrect"]
    assert accuracy(judged) == 0.5 and summarize(judged).unparseable == 2


def test_choice_judge_counts_an_answer_naming_no_option_as_wrong() -> None:
    parity = sample("even", ["even", "odd"])
    judged = one(ChoiceJudge(), parity, "Step 1: The digit is seven.\nAnswer: 7")
    assert judged.outcome == "incorrect" and judged.reason is not None
    assert judged.reason.startswith("unparseable: no option")
    assert summarize([judged]).accuracy == 0.0 and summarize([judged]).unscored == 0


def test_batch_judging_checks_pairs_and_keeps_order() -> None:
    samples = [sample("2", sid="a"), sample("3", sid="b")]
    outputs = [said("Answer: 2", "a"), said("Answer: two", "b")]
    judgments = judge_sync(judges.create("numeric"), samples, outputs)
    assert [(j.sample_id, j.outcome) for j in judgments] == [("a", "correct"), ("b", "incorrect")]
    with pytest.raises(DataError, match="paired with sample 'a'") as info:
        asyncio.run(ExactJudge().judge(samples, list(reversed(outputs))))
    assert info.value.row == 1
    with pytest.raises(DataError, match="2 samples but 1 student outputs"):
        judge_sync(ExactJudge(), samples, outputs[:1])


def test_registry_names_the_rule_judges() -> None:
    assert judges.names() == ["choice", "exact", "numeric"]
    assert judges.create("numeric", abs_tol=0.25).abs_tol == 0.25  # type: ignore[attr-defined]
