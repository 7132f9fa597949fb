"""Feature rows from tiny transformers configs (no download) and from the weight-free defaults."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tiny_encoders import TINY_IMAGE_DIM, TINY_TEXT_DIM, SaveEncoders

from edtune.errors import DataError
from edtune.methods.progress.features import (
    HashedWordsEncoder,
    HFImageEncoder,
    HFTextEncoder,
    PoolItem,
    ThumbnailEncoder,
    build_features,
    item_text,
)

WORDS = ["how", "many", "red", "blue", "circles", "squares", "are", "there", "?"]


@pytest.fixture(scope="module")
def tiny_encoders(tmp_path_factory: pytest.TempPathFactory,
                  save_tiny_encoders: SaveEncoders) -> tuple[HFImageEncoder, HFTextEncoder]:
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    image_dir, text_dir = save_tiny_encoders(tmp_path_factory.mktemp("encoders"), [" ".join(WORDS)])
    return (HFImageEncoder.from_pretrained(str(image_dir), batch_size=2),
            HFTextEncoder.from_pretrained(str(text_dir), batch_size=2))


@pytest.fixture
def image_root(tmp_path: Path) -> Path:
    Image.new("RGB", (40, 30), (220, 20, 20)).save(tmp_path / "red.png")
    Image.new("RGB", (30, 40), (20, 20, 220)).save(tmp_path / "blue.png")
    return tmp_path


def items() -> list[PoolItem]:
    return [
        PoolItem(id="a", images=["red.png"], question="how many red circles are there ?"),
        PoolItem(id="b", images=[], question="how many blue squares ?", choices=["1", "2"]),
        PoolItem(id="c", images=["blue.png", "red.png"], question="red ?"),
        PoolItem(id="d", images=["blue.png"], question="how many red circles are there ?"),
    ]


def test_tiny_transformers_features_are_aligned_unit_rows(tiny_encoders: tuple, image_root: Path) -> None:
    image_enc, text_enc = tiny_encoders
    feats = build_features(items(), image_root, image_enc, text_enc, batch_size=3)
    assert feats.shape == (4, TINY_IMAGE_DIM + TINY_TEXT_DIM) and feats.dtype == np.float32
    assert np.allclose(np.linalg.norm(feats, axis=1), 1.0, atol=1e-5)
    # Row "b" has no image: a zero image block, its text direction in the text block.
    assert np.all(feats[1, :TINY_IMAGE_DIM] == 0)
    text_b = text_enc.encode([item_text(items()[1])])[0]
    assert np.allclose(feats[1, TINY_IMAGE_DIM:], text_b / np.linalg.norm(text_b), atol=1e-5)
    # Rows a and d share the question but not the image.
    assert not np.allclose(feats[0], feats[3])


def test_batching_and_padding_do_not_change_embeddings(tiny_encoders: tuple, image_root: Path) -> None:
    image_enc, text_enc = tiny_encoders
    one = build_features(items(), image_root, image_enc, text_enc, batch_size=1)
    many = build_features(items(), image_root, image_enc, text_enc, batch_size=4)
    assert np.allclose(one, many, atol=1e-5)
    alone = text_enc.encode(["red ?"])
    padded = text_enc.encode(["red ?", "how many red circles are there ?"])
    assert np.allclose(alone[0], padded[0], atol=1e-5)
    assert np.linalg.norm(alone[0]) == pytest.approx(1.0, abs=1e-5)


def test_half_precision_weights_give_float32_embeddings_close_to_full_precision(
        tmp_path_factory: pytest.TempPathFactory, save_tiny_encoders: SaveEncoders, image_root: Path) -> None:
    pytest.importorskip("torch")
    image_dir, text_dir = save_tiny_encoders(tmp_path_factory.mktemp("encoders"), [" ".join(WORDS)])
    rows = {}
    for dtype in ("float32", "bfloat16"):
        image_enc = HFImageEncoder.from_pretrained(str(image_dir), dtype=dtype, batch_size=2, device="cpu")
        text_enc = HFTextEncoder.from_pretrained(str(text_dir), dtype=dtype, batch_size=2, device="cpu")
        assert str(image_enc.model.dtype) == str(text_enc.model.dtype) == f"torch.{dtype}"
        rows[dtype] = build_features(items(), image_root, image_enc, text_enc)
    assert rows["bfloat16"].dtype == np.float32
    assert not np.array_equal(rows["float32"], rows["bfloat16"]), "the weights were not cast"
    cosines = (rows["float32"] * rows["bfloat16"]).sum(axis=1)
    assert cosines.min() > 0.99
    with pytest.raises(ValueError, match="unknown dtype 'int8'"):
        HFTextEncoder.from_pretrained(str(text_dir), dtype="int8")


def test_several_images_are_averaged(tiny_encoders: tuple, image_root: Path) -> None:
    image_enc, _ = tiny_encoders
    with Image.open(image_root / "red.png") as red, Image.open(image_root / "blue.png") as blue:
        both = image_enc.encode([blue.convert("RGB"), red.convert("RGB")])
    block = build_features(items()[2:3], image_root, image_enc, HashedWordsEncoder(8))[0, :TINY_IMAGE_DIM]
    mean = both.mean(axis=0)
    # The row is normalised as a whole, so the image block is the mean up to a positive scale.
    assert np.allclose(block / np.linalg.norm(block), mean / np.linalg.norm(mean), atol=1e-4)


def test_missing_image_is_a_data_error_naming_file_row_and_field(image_root: Path) -> None:
    bad = [items()[1], PoolItem(id="x", images=["nope.png"], question="red ?")]
    with pytest.raises(DataError) as err:
        build_features(bad, image_root, ThumbnailEncoder(), HashedWordsEncoder())
    assert err.value.row == 2 and err.value.field == "images" and err.value.file.endswith("nope.png")


def test_default_encoders_separate_colours_and_words(image_root: Path) -> None:
    feats = build_features(items(), image_root, ThumbnailEncoder(side=4, bins=4), HashedWordsEncoder(64))
    assert feats.shape == (4, 3 * 16 + 12 + 64)
    assert np.all(feats[1, :60] == 0)
    # Same question, different image colour: the rows differ only in the image block.
    assert np.allclose(feats[0, 60:], feats[3, 60:])
    assert not np.allclose(feats[0, :60], feats[3, :60])


def test_hashed_words_are_stable_and_empty_text_is_zero() -> None:
    enc = HashedWordsEncoder(32)
    a, b, empty = enc.encode(["Red circles", "red   CIRCLES", "?!"])
    assert np.array_equal(a, b)
    assert np.linalg.norm(a) == pytest.approx(1.0)
    assert not empty.any()
    assert np.array_equal(enc.encode(["red circles"])[0], HashedWordsEncoder(32).encode(["red circles"])[0])


def test_empty_input_gives_an_empty_matrix(image_root: Path) -> None:
    assert build_features([], image_root, ThumbnailEncoder(), HashedWordsEncoder(16)).shape == (0, 3 * 64 + 24 + 16)


def test_each_embedded_batch_is_reported(image_root: Path) -> None:
    reported: list[int] = []
    build_features(items(), image_root, ThumbnailEncoder(), HashedWordsEncoder(16), batch_size=3,
                   on_batch=reported.append)
    assert reported == [3, 1]
