"""What PROGRESS's features and selection may see of a sample before it is annotated."""

from edtune.methods.progress.features import PoolItem
from edtune.records import Sample


def test_pool_item_has_no_label_fields() -> None:
    sample = Sample(id="s0", images=["0.png"], question="q0?", choices=["a", "b"], answer="ans0")
    assert set(PoolItem.model_fields) == {"id", "images", "question", "choices"}
    item = PoolItem.of(sample)
    assert (item.id, item.images, item.question, item.choices) == ("s0", ["0.png"], "q0?", ["a", "b"])
