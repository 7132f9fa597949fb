"""Writing a shapes world to disk and reading it back.

Layout under the output folder (the image root: sample image paths are relative to it):

    world.json               manifest: config, counts per split and family, skills, content hash
    pool.jsonl               supporting pool (with required_skills)
    base.jsonl               base-skill samples
    <task>_val.jsonl         validation set of each target task
    <task>_test.jsonl        test set of each target task
    images/<split>/<id>.png  one 48 x 48 PNG per sample

Every file is a pure function of the config, so equal configs give byte-identical folders; the manifest's
`content_hash` (SHA-256 over every JSONL and PNG, in path order) shows it at a glance.
"""

from __future__ import annotations

import hashlib
import shutil
from collections import Counter
from pathlib import Path

from pydantic import Field, ValidationError

from edtune.bench.shapes.families import FAMILIES, TASKS
from edtune.bench.shapes.render import png_bytes, render_sample
from edtune.bench.shapes.skills import SKILLS, SkillInfo
from edtune.bench.shapes.world import ShapesConfig, ShapesWorld, generate_world
from edtune.data.loaders import load_samples
from edtune.errors import ConfigError, DataError, UserError
from edtune.records import Record, Sample

MANIFEST = "world.json"
FORMAT_VERSION = 1


class SplitInfo(Record):
    """What one split file holds."""

    file: str
    """JSONL file name relative to the world folder."""
    count: int
    """Number of samples."""
    families: dict[str, int]
    """Question family -> number of samples."""


class WorldManifest(Record):
    """world.json: enough to know what a world folder holds without reading the samples."""

    world: str = "shapes"
    """Which bundled world this is."""
    format_version: int = FORMAT_VERSION
    """Layout version; a reader refuses versions it does not know."""
    config: ShapesConfig
    """The config the world was generated from (regenerating with it gives the same bytes)."""
    splits: dict[str, SplitInfo]
    """Split name -> file and counts."""
    tasks: dict[str, list[str]]
    """Target task -> its question families."""
    family_groups: dict[str, str] = Field(default_factory=dict)
    """Question family -> "base", "distractor" or the target task it belongs to."""
    skills: list[SkillInfo]
    """The skill catalogue (canonical names, kinds, paraphrases)."""
    pool_group_shares: dict[str, float]
    """Family group ("base", "distractor", or a target task) -> fraction of the pool: a target task's
    share is the fraction a perfect selector would find relevant to it."""
    pool_skill_shares: dict[str, float]
    """Skill -> fraction of pool samples whose gold rationale uses it (object_recognition: all)."""
    content_hash: str
    """SHA-256 over the relative path and bytes of every JSONL and PNG file, in sorted path order."""


def _split_info(name: str, samples: list[Sample]) -> SplitInfo:
    families = Counter(str(s.metadata["skill"]) for s in samples)
    return SplitInfo(file=f"{name}.jsonl", count=len(samples), families=dict(sorted(families.items())))


def _shares(values: list[str], total: int) -> dict[str, float]:
    return {name: round(count / total, 4) for name, count in sorted(Counter(values).items())} if total else {}


def _pool_shares(pool: list[Sample]) -> tuple[dict[str, float], dict[str, float]]:
    groups = _shares([str(s.metadata["task"]) for s in pool], len(pool))
    skills = _shares([str(k) for s in pool for k in s.metadata["skills"]], len(pool))
    return groups, skills


def _prepare(out_dir: Path, overwrite: bool) -> None:
    if out_dir.exists() and any(out_dir.iterdir()):
        if not overwrite:
            raise UserError(f"{out_dir} is not empty; pass overwrite=True (--overwrite) to replace a world there")
        if not (out_dir / MANIFEST).is_file():
            raise UserError(f"{out_dir} is not empty and holds no {MANIFEST}; refusing to overwrite it")
        shutil.rmtree(out_dir / "images", ignore_errors=True)
        for old in out_dir.glob("*.jsonl"):
            old.unlink()
    out_dir.mkdir(parents=True, exist_ok=True)


def write_world(world: ShapesWorld, out_dir: str | Path, *, overwrite: bool = False) -> Path:
    """Write JSONL files, PNG images and the manifest into `out_dir`; returns the manifest's path.

    Refuses a non-empty folder unless `overwrite` is set and the folder already holds a world.
    """
    root = Path(out_dir)
    _prepare(root, overwrite)
    files: dict[str, bytes] = {}
    for name, samples in world.splits.items():
        (root / "images" / name).mkdir(parents=True, exist_ok=True)
        for sample in samples:
            files[sample.images[0]] = png_bytes(render_sample(sample, world.config.cell_px))
        files[f"{name}.jsonl"] = "".join(s.model_dump_json() + "\n" for s in samples).encode()
    digest = hashlib.sha256()
    for rel in sorted(files):
        (root / rel).write_bytes(files[rel])
        digest.update(rel.encode() + b"\0" + files[rel])
    group_shares, skill_shares = _pool_shares(world.pool)
    manifest = WorldManifest(
        config=world.config, splits={n: _split_info(n, s) for n, s in world.splits.items()},
        tasks={t: list(TASKS[t]) for t in world.config.tasks},
        family_groups={name: f.group for name, f in FAMILIES.items()},
        skills=list(SKILLS.values()), pool_group_shares=group_shares, pool_skill_shares=skill_shares,
        content_hash=digest.hexdigest(),
    )
    path = root / MANIFEST
    path.write_text(manifest.model_dump_json(indent=2) + "\n")
    return path


def ensure_world(config: ShapesConfig, out_dir: str | Path) -> Path:
    """`out_dir` holding the world of `config`: written there, or reused when a world made with the same
    config is already there; ConfigError when the folder holds a world made with other settings."""
    root = Path(out_dir)
    if (root / MANIFEST).is_file():
        if read_manifest(root).config == config:
            return root
        raise ConfigError(f"{root} holds a different shapes world; choose another --out folder")
    write_world(generate_world(config), root)
    return root


def read_manifest(out_dir: str | Path) -> WorldManifest:
    """The manifest of a world folder; DataError naming the file when missing or invalid."""
    path = Path(out_dir) / MANIFEST
    if not path.is_file():
        raise DataError("no shapes world here (manifest missing)", file=str(path))
    try:
        manifest = WorldManifest.model_validate_json(path.read_text())
    except ValidationError as exc:
        raise DataError(f"invalid manifest: {exc}", file=str(path)) from exc
    if manifest.format_version != FORMAT_VERSION:
        raise DataError(f"unknown format_version {manifest.format_version} (this edtune reads "
                        f"{FORMAT_VERSION})", file=str(path), field="format_version")
    return manifest


def load_world(out_dir: str | Path, *, verify: bool = False) -> ShapesWorld:
    """Read a world folder written by `write_world`. `verify` recomputes the content hash (slower)."""
    root = Path(out_dir)
    manifest = read_manifest(root)
    splits: dict[str, list[Sample]] = {}
    for name, info in manifest.splits.items():
        path = root / info.file
        if not path.is_file():
            raise DataError(f"split '{name}' listed in the manifest is missing", file=str(path))
        splits[name] = load_samples(path, fmt="jsonl", image_root=root, check_images=False)
        if len(splits[name]) != info.count:
            raise DataError(f"{len(splits[name])} samples, manifest says {info.count}", file=str(path))
    if verify and (actual := content_hash(root, splits)) != manifest.content_hash:
        raise DataError(f"content hash {actual} differs from the manifest's {manifest.content_hash}",
                        file=str(root / MANIFEST), field="content_hash")
    return ShapesWorld(config=manifest.config, splits=splits)


def content_hash(root: Path, splits: dict[str, list[Sample]]) -> str:
    """SHA-256 over the world's files as `write_world` computes it; DataError for a missing image."""
    rels = [f"{name}.jsonl" for name in splits] + [s.images[0] for ss in splits.values() for s in ss]
    digest = hashlib.sha256()
    for rel in sorted(rels):
        path = root / rel
        if not path.is_file():
            raise DataError("file of the world is missing", file=str(path))
        digest.update(rel.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()
