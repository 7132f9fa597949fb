"""BM25 retrieval of supporting samples for missing skills (issue: skill retrieval, exact and fast).

- `tokenize`: the documented tokenizer shared by documents and queries.
- `base`: `Retriever` protocol, `Hit`, `BM25Params`, the ranking rule and rank-bm25's IDF floor explained.
- `reference`: rank-bm25 BM25Okapi backend (the reference); `sparse`: the fast backend, bit-for-bit equal.
- `spec` / `corpus` / `index`: corpus specs (TOML in `retrieval/`), pool reading, saving and loading indexes.
- `select`: from missing skills to a training set (allocation with a floor, de-duplication, exclusion).
"""

from edtune.retrieval.base import BM25Params, Corpus, Hit, Retriever, TinyCorpusWarning
from edtune.retrieval.index import IndexMismatch, build_index, open_index
from edtune.retrieval.reference import ReferenceBM25
from edtune.retrieval.select import ChosenSample, Selection, SelectionConfig, SkillQuota, allocate, select_samples
from edtune.retrieval.sparse import SparseBM25
from edtune.retrieval.spec import CorpusSpec, load_spec
from edtune.retrieval.tokenize import Tokenizer, TokenizerSettings

__all__ = [
    "BM25Params", "ChosenSample", "Corpus", "CorpusSpec", "Hit", "IndexMismatch", "ReferenceBM25", "Retriever",
    "Selection", "SelectionConfig", "SkillQuota", "SparseBM25", "TinyCorpusWarning", "Tokenizer",
    "TokenizerSettings", "allocate", "build_index", "load_spec", "open_index", "select_samples",
]
