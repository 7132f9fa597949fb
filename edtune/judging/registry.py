"""The rule judges by name. Model judges are built from a spec string or file (`edtune.specs.build_judge`)."""

from __future__ import annotations

from edtune.judging.base import Judge
from edtune.judging.choice import ChoiceJudge
from edtune.judging.exact import ExactJudge
from edtune.judging.numeric import NumericJudge
from edtune.registry import Registry

judges: Registry[Judge] = Registry("judge")
"""`exact`, `choice` and `numeric` (which takes `abs_tol` and `rel_tol`)."""
judges.register("exact")(ExactJudge)
judges.register("choice")(ChoiceJudge)
judges.register("numeric")(NumericJudge)
