"""The reference teacher: a benchmark instrument that knows a bundled world's gold data.

It answers the requests of every teacher task (`edtune.teacher`) and of the LLM judge over a real local
HTTP server speaking the OpenAI chat-completions protocol, from the gold scenes' tagged rationales, with
a configurable rate of simulated errors. It is not a model: it lets the error-driven method run, and be
measured, on CPU. See docs/reference_teacher.md.

    with reference_teacher("data/shapes", error_rate=0.1, seed=0) as server:
        client = OpenAICompatibleClient(server.model, server.base_url, provider="reference")
"""

from edtune.bench.reference.engine import ReferenceTeacher, ServedStats, TaskCounts
from edtune.bench.reference.index import WorldIndex
from edtune.bench.reference.parse import SCHEMA_TASKS, ParsedRequest, TaskKind, parse_request
from edtune.bench.reference.server import RunningServer, reference_teacher
from edtune.bench.reference.settings import ReferenceSettings, UnmatchedRequest, labelled_settings
from edtune.bench.reference.tasks import Reply

__all__ = [
    "SCHEMA_TASKS",
    "ParsedRequest",
    "ReferenceSettings",
    "ReferenceTeacher",
    "Reply",
    "RunningServer",
    "ServedStats",
    "TaskCounts",
    "TaskKind",
    "UnmatchedRequest",
    "WorldIndex",
    "labelled_settings",
    "parse_request",
    "reference_teacher",
]
