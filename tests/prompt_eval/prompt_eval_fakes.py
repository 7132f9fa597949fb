"""Test data for prompt evaluation: a hand-made gold set and a scripted oracle teacher."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from edtune.llm.base import ChatRequest
from edtune.prompt_eval.gold import GoldItem
from edtune.records import Sample

REPO = Path(__file__).resolve().parents[2]


def _item(item_id: str, question: str, answer: str, steps: list[str], student_answer: str, wrong: int,
          skill: str, choices: list[str] | None = None) -> GoldItem:
    return GoldItem(id=item_id, sample=Sample(id=item_id, question=question, answer=answer, choices=choices),
                    student_steps=steps, student_answer=student_answer, first_wrong_step=wrong,
                    missing_skills=[skill], skill_text=[f"{skill.replace('_', ' ')} of objects"],
                    gold_verdict="incorrect")


GOLD_ITEMS = [
    _item("i1", "Is the red-circle small or large?", "small", ["I see red-circle.", "The red-circle is large."],
          "large", 2, "size_recognition", ["small", "large"]),
    _item("i2", "How many red objects are there?", "1",
          ["I see red-circle, blue-square.", "The red objects are red-circle, blue-square.", "That makes 2."],
          "2", 2, "attribute_filtering"),
    _item("i3", "Is the red-circle left or right of the blue-square?", "left",
          ["I see red-circle, blue-square.", "The red-circle is in the left column and the blue-square is in the "
           "right column.", "So the red-circle is right of the blue-square."], "right", 3, "spatial_relation",
          ["left", "right"]),
    _item("i4", "What colour is the circle?", "red", ["I see blue-circle.", "The circle is blue."], "blue", 1,
          "object_recognition"),
]
CATALOGUE = {"size_recognition": ["telling whether an object is small or large"],
             "attribute_filtering": ["filtering items by an attribute", "selecting objects of a colour"],
             "spatial_relation": ["comparing the positions of two shapes"],
             "object_recognition": ["recognising the objects in an image"],
             "counting": ["counting objects"]}
TRUTH = {item.sample.question: item.first_wrong_step or 0 for item in GOLD_ITEMS}


def last_user_text(request: ChatRequest) -> str:
    return str([m for m in request.messages if m.role == "user"][-1].content)


def question_of(request: ChatRequest) -> str:
    """The gold question the request is about (re-asks included: the whole conversation is searched)."""
    text = "\n".join(str(m.content) for m in request.messages)
    return next(q for q in TRUTH if q in text)


def oracle(offset: Callable[[str], int] = lambda question: 0) -> Callable[[ChatRequest], str]:
    """A scripted teacher that knows the truth: direct replies give the true step plus `offset(question)`,
    step checks call a step wrong from the true step on, skill analysis names the gold skill in words,
    the judge says incorrect."""

    def reply(request: ChatRequest) -> str:
        text, question = last_user_text(request), question_of(request)
        truth = TRUTH[question]
        if "Step to judge" in text:
            judged = int(re.findall(r"Step (\d+):", text)[-1])
            return json.dumps({"correct": judged < truth, "reason": "checked"})
        if '"skills"' in text:
            item = next(i for i in GOLD_ITEMS if i.sample.question == question)
            return json.dumps({"skills": [item.missing_skills[0].replace("_", " ")]})
        if '"verdict"' in text or "Student answer:" in text:
            return json.dumps({"reason": "differs", "verdict": "incorrect"})
        step = min(max(truth + offset(question), 1), text.count("Step "))
        return json.dumps({"step": step, "reason": f"step {step} is wrong"})

    return reply
