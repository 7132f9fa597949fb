"""`RunContext`: the resources one run shares between its stages, each built on first use.

Nothing heavy is loaded up front, so resuming a run whose remaining stages need no student (or no
teacher) never loads one. The context also tracks which adapter is attached to the student, so each
stage can ask for "the student as it was after iteration k" whether the run went straight through or
was resumed from disk.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from edtune.errors import DataError
from edtune.judging.base import Judge
from edtune.llm.base import LLMClient
from edtune.loop.config import BUNDLED, DataFile, RunConfig, StudentSettings
from edtune.loop.rundir import RunDir
from edtune.loop.stages_select import read_selection
from edtune.records import Sample
from edtune.student.base import Student

if TYPE_CHECKING:
    from edtune.llm.cache import LLMCache
    from edtune.loop.capabilities import TeacherCapabilities
    from edtune.retrieval.base import Retriever

Split = Literal["val", "pool", "test", "replay"]
SPLITS: tuple[Split, ...] = ("val", "test", "pool", "replay")
DEFAULT_CONCURRENCY = 8
"""Teacher calls in flight when the teacher is a client object (a spec string sets its own)."""


@dataclass
class RunContext:
    """Config, run directory and lazily built student / teacher / judge / data / index of one run."""

    config: RunConfig
    run: RunDir
    show_bars: bool = True
    budget: int = 0
    """Total samples the method may select (its plan: `config.budget`, or the pool size for `full`)."""
    iterations: int = 0
    """Iterations the method runs at most (its plan)."""
    student_obj: Student | None = None
    teacher_obj: LLMClient | None = None
    judge_obj: Judge | None = None
    _teacher: LLMClient | None = None
    _judge: Judge | None = None
    _owned: list[Any] = field(default_factory=list)
    """Clients this context built from specs: their HTTP connections are closed by `close`."""
    _adapter: int | None = None
    _cache: LLMCache | None = None
    _data: dict[str, list[Sample]] = field(default_factory=dict)
    _pool_by_id: dict[str, Sample] | None = None
    _retriever: Retriever | None = None
    _capabilities: TeacherCapabilities | None = None

    # ---- data -------------------------------------------------------------------------------------

    def data_file(self, split: Split) -> DataFile:
        """The configured file of `split`; DataError when the run has none."""
        entry: DataFile | None = getattr(self.config.data, split)
        if entry is None:
            raise DataError(f"this run has no {split} data set (data.{split} is not set)", field=f"data.{split}")
        return entry

    def samples(self, split: Split) -> list[Sample]:
        """The samples of `split`, loaded once. Images of the (large) pool and replay sets are checked when
        read for training, not here, so opening a 1M-sample pool stays fast."""
        if split not in self._data:
            entry = self.data_file(split)
            self._data[split] = self._annotated(split, entry.load(check_images=split in ("val", "test")))
        return self._data[split]

    def _annotated(self, split: Split, samples: list[Sample]) -> list[Sample]:
        """Pool samples with the required skills the run's annotation stage found filled in (as read)."""
        if split != "pool" or not self.run.annotations_path.is_file():
            return samples
        from edtune.teacher.annotate_file import fill_skills

        return fill_skills(samples, self.run.annotations_path)

    def refresh_pool(self) -> None:
        """Read the pool again on next use, with the annotations written since (`edtune.loop.stages_annotate`)."""
        self._data.pop("pool", None)
        self._pool_by_id = None
        self._retriever = None

    def validate_data(self) -> None:
        """Read and check every configured data file in full (val, test, pool, replay), before any model
        work: rows valid, ids unique, every image inside its root and decodable, and (unless the file is
        declared `text_only`) at least one image per row. An empty file is refused. DataError names the
        file, row and field. The samples read are kept, so no split is read twice."""
        for split in SPLITS:
            entry: DataFile | None = getattr(self.config.data, split)
            if entry is None:
                continue
            samples = entry.load(check_images=True, require_images=not entry.text_only)
            if not samples:
                raise DataError(f"the {split} data set holds no samples", file=str(entry.path))
            self._data[split] = self._annotated(split, samples)

    def image_root(self, split: Split) -> Path:
        return self.data_file(split).root

    def pool_sample(self, sample_id: str) -> Sample:
        """A pool sample by id; DataError when a run file names an id the pool does not hold."""
        if self._pool_by_id is None:
            self._pool_by_id = {s.id: s for s in self.samples("pool")}
        try:
            return self._pool_by_id[sample_id]
        except KeyError:
            raise DataError(f"sample id {sample_id!r} is not in the pool", file=str(self.data_file("pool").path),
                            field="id") from None

    def retriever(self) -> Retriever:
        """BM25 over the pool's required skills, built once per process (pool samples without skills, also
        after the annotation stage, are left out), or the saved index named by `retrieval.index`."""
        if self._retriever is None:
            settings = self.config.retrieval
            if settings.index is not None:
                from edtune.retrieval.index import open_index

                self._retriever = open_index(settings.index)
            else:
                from edtune.loop.bars import working

                with working("indexing the pool's required skills (BM25)", enabled=self.show_bars):
                    self._retriever = self._build_retriever()
        return self._retriever

    def _build_retriever(self) -> Retriever:
        from edtune.retrieval.base import Corpus
        from edtune.retrieval.corpus import document_text
        from edtune.retrieval.sparse import SparseBM25
        from edtune.retrieval.tokenize import Tokenizer

        settings = self.config.retrieval
        docs = [(s.id, text) for s in self.samples("pool") if (text := document_text(s, settings.fields))]
        if not docs:
            raise DataError("no pool sample has required_skills, so nothing can be retrieved",
                            file=str(self.data_file("pool").path), field="required_skills")
        corpus = Corpus(ids=[d[0] for d in docs], texts=[d[1] for d in docs])
        return SparseBM25.build(corpus, Tokenizer(settings.tokenizer), settings.bm25)

    # ---- budget ---------------------------------------------------------------------------------

    def used_before(self, iteration: int) -> list[str]:
        """Pool ids selected by iterations 1 .. iteration-1, in selection order."""
        return [c.sample_id for i in range(1, iteration) for c in read_selection(self.run, i)]

    def iteration_budget(self, iteration: int) -> int:
        """Samples iteration `iteration` may select under `config.budget_rule`, given the method's plan."""
        left = max(0, self.budget - len(self.used_before(iteration)))
        iterations_left = self.iterations - iteration + 1
        if iterations_left <= 1:
            return left
        if self.config.budget_rule == "front_loaded":
            return math.ceil(left / 2)
        return math.ceil(left / iterations_left)

    # ---- models -----------------------------------------------------------------------------------

    def cache(self) -> LLMCache:
        """The run's LLM cache and call log (llm_cache.sqlite in the run directory)."""
        if self._cache is None:
            from edtune.llm.cache import LLMCache

            self._cache = LLMCache(self.run.cache_path)
        return self._cache

    @property
    def call_log(self) -> bool:
        """Whether the run's cache holds the complete call log: teacher or judge came from a model spec."""
        from edtune.specs import RuleJudgeSpec, load_spec

        teacher_spec = self.teacher_obj is None and self.config.teacher is not None
        judge_spec = self.judge_obj is None and not isinstance(load_spec(self.config.judge), RuleJudgeSpec)
        return teacher_spec or judge_spec

    def student(self) -> Student:
        if self.student_obj is None:
            self.student_obj = _load_student(self.config, self.run.root / "adapters")
            self._adapter = 0
        return self.student_obj

    def use_adapter(self, iteration: int) -> Student:
        """The student with iteration `iteration`'s adapter attached (0: the pretrained student)."""
        student = self.student()
        if self._adapter != iteration:
            if iteration == 0:
                student.reset_adapter()
            else:
                student.load_adapter(self.run.adapter(iteration))
            self._adapter = iteration
        return student

    def adapter_attached(self, iteration: int) -> None:
        """Record that training just left iteration `iteration`'s adapter on the student."""
        self._adapter = iteration

    def teacher(self) -> LLMClient:
        """The teacher: built from the spec on the run's cache, or the given object (or an in-process mock
        spec's client) wrapped in that cache unless it brings its own, so no call is paid twice across a crash."""
        if self._teacher is None:
            client = self.teacher_obj
            if client is None:
                from edtune.specs import build_teacher_client

                assert self.config.teacher is not None  # RunConfig requires one for methods that ask the teacher
                client = build_teacher_client(self.config.teacher, cache=self.cache())
                self._owned.append(client)
            if getattr(client, "cache", None) is None:
                from edtune.loop.cached import RunCachedClient

                client = RunCachedClient(client, self.cache())
            self._teacher = client
        return self._teacher

    def capabilities(self) -> TeacherCapabilities:
        """What the teacher can do (images, logprobs), from the config or the teacher spec; checked once."""
        if self._capabilities is None:
            from edtune.loop.capabilities import teacher_capabilities

            self._capabilities = teacher_capabilities(self.config)
        return self._capabilities

    def note_capabilities(self, caps: TeacherCapabilities) -> None:
        """Replace the capabilities by what the run-start preflight saw (`edtune.loop.preflight`)."""
        self._capabilities = caps

    def teacher_concurrency(self) -> int:
        """Calls in flight for a teacher batch: the spec's setting, or the default for a client object
        (whose name is recorded in the config but is no spec)."""
        from edtune.errors import ConfigError
        from edtune.specs import load_model_spec

        try:
            return load_model_spec(self.config.teacher or "").concurrency
        except ConfigError:
            return DEFAULT_CONCURRENCY

    def judge(self) -> Judge:
        """The given judge object, or the one `config.judge` names (an LLM judge on the run's cache)."""
        if self._judge is None:
            if self.judge_obj is not None:
                self._judge = self.judge_obj
            else:
                from edtune.specs import RuleJudgeSpec, build_judge, load_spec

                # A rule judge makes no calls: opening the cache for it would only leave an empty call log.
                is_rule = isinstance(load_spec(self.config.judge), RuleJudgeSpec)
                self._judge = build_judge(self.config.judge, cache=None if is_rule else self.cache())
                self._owned.append(getattr(self._judge, "client", None))
        return self._judge

    def close(self) -> None:
        """Close the HTTP connections of clients built here, then the cache."""
        from edtune.llm.concurrency import run_sync

        for client in self._owned:
            if hasattr(client, "close"):
                run_sync(client.close())
        self._owned.clear()
        if self._cache is not None:
            self._cache.close()
            self._cache = None


def _load_student(config: RunConfig, work_dir: Path) -> Student:
    """The run's student. A run names its Ray cluster once, `pool_engine.ray.address`: training launched on
    several machines joins that one unless `student.generation.ray_address` names another."""
    settings, address = config.student, config.pool_engine.ray.address
    if settings.generation.ray_address is None and address is not None:
        generation = settings.generation.model_copy(update={"ray_address": address})
        settings = settings.model_copy(update={"generation": generation})
    return load_student(settings, work_dir=work_dir)


def load_student(settings: StudentSettings, *, work_dir: Path | None = None) -> Student:
    """The student `settings` name: the bundled tiny one, or any HF image-text-to-text checkpoint folder. Training
    launched on several processes keeps its job folders in `work_dir` (the run's adapters folder, whose
    scratch folders a resumed run sweeps away). With `engine = "vllm"` a vLLM server answers (adapters
    written to `work_dir`/served unless `server.adapter_dir` says where)."""
    from edtune.student.hf import HFStudent

    if settings.path == BUNDLED:
        from edtune.student.bundled import bundled_student

        student = bundled_student(settings.generation, work_dir=work_dir)
    else:
        student = HFStudent.from_pretrained(settings.path, settings.generation, work_dir=work_dir)
    if settings.engine == "hf" or settings.server is None:
        return student
    from edtune.student.served import ServedStudent

    return ServedStudent(student, settings.server, adapter_dir=None if work_dir is None else work_dir / "served")
