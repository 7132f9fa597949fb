"""Benchmark: edtune's sparse BM25 backend against rank-bm25 on synthetic skill corpora.

    .venv/bin/python benchmarks/bench_retrieval.py                  # 10K, 100K and 1M documents
    .venv/bin/python benchmarks/bench_retrieval.py --sizes 10000    # quick run

Documents are short required-skills texts (1-3 skill phrases such as "count the red cylinders; spatial
relation left of between mug and lamp") from a seeded generator with a Zipf-distributed object vocabulary
of a few thousand words; the 1,000 queries are single skill phrases from the same generator. For each size
it reports index build time and memory (RSS growth; for edtune also the index arrays' exact bytes), the
wall time (and, for edtune, CPU time, which other processes on a shared machine disturb less) of 1,000
top-100 queries, and the speed-up in wall time. rank-bm25 answers every query at 10K; at larger sizes it
answers a subset and its 1,000-query time is extrapolated linearly (the table says so). Before timing,
both backends' top-100 for the subset are compared and any difference is reported.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from edtune.retrieval.base import Corpus
from edtune.retrieval.reference import ReferenceBM25
from edtune.retrieval.sparse import SparseBM25

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
        import bisect

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


def rss_mib() -> float:
    """Resident set size of this process, MiB (Linux /proc)."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def timed(fn, *args):  # type: ignore[no-untyped-def]
    gc.collect()
    before = rss_mib()
    start = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - start, rss_mib() - before


def run_size(n_docs: int, queries: list[str], k: int, ref_queries: int, seed: int) -> dict[str, float | str]:
    gen = SkillTexts(seed)
    corpus = Corpus([f"s{i}" for i in range(n_docs)], [gen.document() for _ in range(n_docs)])
    fast, fast_build, fast_mem = timed(SparseBM25.build, corpus)
    p = fast.postings
    index_mib = sum(a.nbytes for a in (p.indptr, p.docs, p.weights, p.doc_len, p.idf)) / 2**20
    fast.search(queries[:20], k)  # warm-up (page faults of the accumulator)
    cpu = time.process_time()
    _, fast_s, _ = timed(fast.search, queries, k)
    fast_cpu = time.process_time() - cpu
    ref, ref_build, ref_mem = timed(ReferenceBM25, corpus)
    subset = queries[: min(ref_queries, len(queries))]
    ref_hits, ref_sub_s, _ = timed(ref.search, subset, k)
    same = ref_hits == fast.search(subset, k)
    ref_s = ref_sub_s * len(queries) / len(subset)
    del ref
    return {"docs": n_docs, "fast_build": fast_build, "fast_mem": fast_mem, "index_mib": index_mib,
            "fast_s": fast_s, "fast_cpu": fast_cpu, "ref_build": ref_build, "ref_mem": ref_mem, "ref_s": ref_s,
            "ref_note": "measured" if len(subset) == len(queries) else f"extrapolated from {len(subset)}",
            "same": "yes" if same else "NO", "ratio": ref_s / fast_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("-k", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    warnings.simplefilter("default")
    qgen = SkillTexts(args.seed + 1)
    queries = [qgen.phrase() for _ in range(args.queries)]
    print(f"{args.queries} queries, top-{args.k}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    header = (f"{'docs':>9} | {'build s':>7} {'RSS MiB':>7} {'index MiB':>9} {'1k q s':>7} {'(CPU s)':>7} | "
              f"{'build s':>7} "
              f"{'RSS MiB':>7} {'1k q s':>8} {'(rank-bm25 1k q)':<26} | {'same top-k':>10} {'speed-up':>8}")
    print(f"{'':>9} | {'edtune sparse':<42} | {'rank-bm25 BM25Okapi':<53} |")
    print(header)
    for n_docs in args.sizes:
        ref_queries = args.queries if n_docs <= 10_000 else (50 if n_docs <= 100_000 else 5)
        r = run_size(n_docs, queries, args.k, ref_queries, args.seed)
        print(f"{r['docs']:>9} | {r['fast_build']:>7.2f} {r['fast_mem']:>7.0f} {r['index_mib']:>9.1f} "
              f"{r['fast_s']:>7.3f} {r['fast_cpu']:>7.3f} | {r['ref_build']:>7.2f} {r['ref_mem']:>7.0f} "
              f"{r['ref_s']:>8.1f} "
              f"{r['ref_note']:<26} | {r['same']:>10} {r['ratio']:>7.0f}x", flush=True)


if __name__ == "__main__":
    main()
