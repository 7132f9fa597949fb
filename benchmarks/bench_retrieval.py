"""Benchmark: edtune's sparse BM25 backend against rank-bm25 on synthetic skill corpora.

    .venv/bin/python benchmarks/bench_retrieval.py                  # 10K, 100K and 1M documents
    .venv/bin/python benchmarks/bench_retrieval.py --sizes 10000    # quick run

Documents are short required-skills texts (1-3 skill phrases such as "count the colour of the kalo;
spatial relation left of between mitri and zenpal") from a seeded generator with a Zipf-distributed
vocabulary of 4,000 made-up object names; the 1,000 queries are single skill phrases from the same
generator. Per size and backend the table shows: index build time; the memory the built index keeps
(tracemalloc, from a second, untimed build); wall and CPU time of 1,000 top-100 queries (CPU time is
less disturbed by other processes on a shared machine); and the speed-up in both. rank-bm25 answers all
1,000 queries at 10K; at 100K and 1M it answers the first 50 / 5 and its times are scaled linearly to
1,000 (the "(queries)" column says so). "same top-k" compares both backends' hits on those queries.
"""

from __future__ import annotations

import argparse
import bisect
import gc
import os
import random
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from edtune.retrieval.base import Corpus
from edtune.retrieval.reference import ReferenceBM25
from edtune.retrieval.sparse import SparseBM25

T = TypeVar("T")

VERBS = ["count", "compare", "identify", "locate", "recognize", "estimate", "describe", "measure", "distinguish",
         "match", "track", "order", "classify", "read", "infer", "detect", "name", "find", "judge", "rank"]
ATTRIBUTES = ["colour", "size", "shape", "texture", "material", "position", "orientation", "number", "height",
              "width", "length", "brightness", "pattern", "distance", "angle", "speed", "age", "emotion", "text",
              "style", "weight", "depth", "direction", "state", "type"]
RELATIONS = ["left of", "right of", "above", "below", "behind", "in front of", "next to", "inside", "on top of",
             "between", "near", "far from", "under", "over", "around"]
SYLLABLES = ["ka", "lo", "mi", "ran", "tes", "bor", "qui", "zen", "pal", "dor", "fi", "gun", "hex", "jal", "ver",
             "nos", "tri", "cap", "wel", "yon"]


def _nouns(rng: random.Random, count: int) -> list[str]:
    words: set[str] = set()
    while len(words) < count:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))))
    return sorted(words)


class SkillTexts:
    """Seeded generator of skill phrases; objects follow a Zipf law, like real visual-QA vocabularies."""

    def __init__(self, seed: int, n_nouns: int = 4000) -> None:
        self.rng = random.Random(seed)
        self.nouns = _nouns(self.rng, n_nouns)
        weights = 1.0 / np.arange(1, n_nouns + 1) ** 1.1
        self.cum = np.cumsum(weights / weights.sum()).tolist()

    def _noun(self) -> str:
        return self.nouns[min(bisect.bisect(self.cum, self.rng.random()), len(self.nouns) - 1)]

    def phrase(self) -> str:
        r = self.rng
        kind = r.randrange(5)
        if kind == 0:
            return f"{r.choice(VERBS)} the {r.choice(ATTRIBUTES)} of the {self._noun()}"
        if kind == 1:
            return f"count {r.choice(ATTRIBUTES)} {self._noun()}s"
        if kind == 2:
            return f"spatial relation {r.choice(RELATIONS)} between {self._noun()} and {self._noun()}"
        if kind == 3:
            return f"{r.choice(VERBS)} {self._noun()} by {r.choice(ATTRIBUTES)}"
        return f"{r.choice(VERBS)} {r.choice(ATTRIBUTES)} and {r.choice(ATTRIBUTES)} of {self._noun()}"

    def document(self) -> str:
        return "; ".join(self.phrase() for _ in range(self.rng.randint(1, 3)))


@dataclass
class Measure:
    """Wall and CPU seconds of one call, and (when traced) the MiB it left allocated."""

    wall: float
    cpu: float
    retained_mib: float = float("nan")


def measure(fn: Callable[[], T], trace: bool = False) -> tuple[T, Measure]:
    """Run `fn` once; with `trace`, under tracemalloc (slower, so not used for the timings we report)."""
    gc.collect()
    if trace:
        tracemalloc.start()
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    m = Measure(time.perf_counter() - wall, time.process_time() - cpu)
    if trace:
        m.retained_mib = tracemalloc.get_traced_memory()[0] / 2**20
        tracemalloc.stop()
    return out, m


def build_both(corpus: Corpus) -> tuple[SparseBM25, ReferenceBM25, Measure, Measure]:
    """Each index built twice: once timed, once under tracemalloc for the memory it keeps."""
    _, fast_mem = measure(lambda: SparseBM25.build(corpus), trace=True)
    fast, fast_build = measure(lambda: SparseBM25.build(corpus))
    fast_build.retained_mib = fast_mem.retained_mib
    _, ref_mem = measure(lambda: ReferenceBM25(corpus), trace=True)
    ref, ref_build = measure(lambda: ReferenceBM25(corpus))
    ref_build.retained_mib = ref_mem.retained_mib
    return fast, ref, fast_build, ref_build


def run_size(n_docs: int, queries: list[str], k: int, ref_queries: int, seed: int) -> str:
    """One table row for a corpus of `n_docs` documents."""
    gen = SkillTexts(seed)
    corpus = Corpus([f"s{i}" for i in range(n_docs)], [gen.document() for _ in range(n_docs)])
    fast, ref, fast_build, ref_build = build_both(corpus)
    fast.search(queries[:20], k)  # warm-up: first touch of the accumulator's pages
    _, fast_q = measure(lambda: fast.search(queries, k))
    subset = queries[:ref_queries]
    ref_hits, ref_q = measure(lambda: ref.search(subset, k))
    same = "yes" if ref_hits == fast.search(subset, k) else "NO"
    scale = len(queries) / len(subset)
    note = "measured" if scale == 1 else f"x{scale:.0f} from {len(subset)} q"
    return (f"{n_docs:>9} | {fast_build.wall:>7.2f} {fast_build.retained_mib:>7.0f} {fast_q.wall:>7.2f} "
            f"{fast_q.cpu:>7.2f} | {ref_build.wall:>7.2f} {ref_build.retained_mib:>7.0f} {ref_q.wall * scale:>8.1f} "
            f"{ref_q.cpu * scale:>8.1f} {note:<16} | {same:>4} {ref_q.wall * scale / fast_q.wall:>6.0f}x "
            f"{ref_q.cpu * scale / fast_q.cpu:>6.0f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("-k", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    qgen = SkillTexts(args.seed + 1)
    queries = [qgen.phrase() for _ in range(args.queries)]
    print(f"{args.queries} queries, top-{args.k}, {os.cpu_count()} CPUs, load average at start "
          f"{os.getloadavg()[0]:.2f}")
    print(f"{'':>9} | {'edtune SparseBM25':<31} | {'rank-bm25 BM25Okapi':<50} | same  speed-up")
    print(f"{'docs':>9} | {'build s':>7} {'MiB':>7} {'q wall':>7} {'q CPU':>7} | {'build s':>7} {'MiB':>7} "
          f"{'q wall':>8} {'q CPU':>8} {'(queries)':<16} | top-k  wall    CPU")
    for n_docs in args.sizes:
        ref_queries = len(queries) if n_docs <= 10_000 else (50 if n_docs <= 100_000 else 5)
        print(run_size(n_docs, queries, args.k, min(ref_queries, len(queries)), args.seed), flush=True)
    print(f"load average at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
