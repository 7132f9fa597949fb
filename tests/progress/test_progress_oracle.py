import json
from pathlib import Path

import pytest
from edtune.progress.oracle import AnnotationOracle, InMemoryOracle, JsonlOracle, PoolItem

from edtune.errors import DataError, UserError
from edtune.records import Sample


def samples() -> list[Sample]:
    return [Sample(id=f"s{i}", images=[f"{i}.png"], question=f"q{i}?", choices=["a", "b"], answer=f"ans{i}")
            for i in range(5)]


def test_pool_item_has_no_label_fields() -> None:
    assert set(PoolItem.model_fields) == {"id", "images", "question", "choices"}
    assert PoolItem.of(samples()[0]).question == "q0?"


@pytest.mark.parametrize("kind", ["memory", "jsonl"])
def test_oracle_counts_distinct_annotations(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    path.write_text("".join(s.model_dump_json() + "\n" for s in samples()))
    oracle: AnnotationOracle = InMemoryOracle(samples()) if kind == "memory" else JsonlOracle(path)
    assert [p.id for p in oracle.pool()] == [f"s{i}" for i in range(5)]
    assert oracle.annotations == 0
    got = oracle.annotate(["s3", "s1"])
    assert [s.answer for s in got] == ["ans3", "ans1"]
    oracle.annotate(["s1", "s4"])
    assert oracle.annotations == 3
    with pytest.raises(UserError, match="ghost"):
        oracle.annotate(["ghost"])
    assert oracle.annotations == 3


def test_jsonl_oracle_does_not_parse_labels_until_asked(tmp_path: Path) -> None:
    # The answer of s1 is invalid (blank): indexing must succeed, annotating s1 must fail with its row.
    rows = [s.model_dump(mode="json") for s in samples()[:3]]
    rows[1]["answer"] = "  "
    path = tmp_path / "data.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    oracle = JsonlOracle(path)
    assert oracle.annotate(["s0", "s2"])[1].answer == "ans2"
    with pytest.raises(DataError) as err:
        oracle.annotate(["s1"])
    assert err.value.row == 2 and err.value.field == "answer"


def test_jsonl_oracle_reports_bad_rows_and_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "a", "question": "q?", "answer": "x"}\n{not json}\n')
    with pytest.raises(DataError) as err:
        JsonlOracle(path)
    assert err.value.row == 2 and err.value.file == str(path)
    path.write_text('{"id": "a", "question": "q?", "answer": "x"}\n{"id": "a", "question": "r?", "answer": "y"}\n')
    with pytest.raises(DataError, match="duplicate"):
        JsonlOracle(path)
    path.write_text('{"id": "a", "answer": "x"}\n')
    with pytest.raises(DataError) as missing:
        JsonlOracle(path)
    assert missing.value.field == "question"


def test_in_memory_oracle_refuses_duplicate_ids() -> None:
    with pytest.raises(DataError, match="duplicate"):
        InMemoryOracle(samples() + samples()[:1])
