"""The world the reference teacher knows: every sample of a written shapes world, findable from a request.

Matching a request to samples:

1. Question: every line of the last user message (and its text after a "Label:") is looked up among
   the world's questions (compared after `edtune.bench.shapes.normalise`). No hit is an error.
2. With images: the sha256 of each image's bytes is looked up among the world's image files; the
   samples of those images that ask one of the questions found are the match. Samples sharing an image
   are told apart by the question; two samples with the same image and question (a base sample may
   repeat a pool question) have the same gold rationale, so either serves.
3. Text only (a teacher configured with `images = false`, and the judge, which never sees the image):
   the samples asking that question whose choices equal the options shown ("(A) ..." lines; none shown
   matches open questions). Many scenes share a question, so a task then needs all candidates to agree
   on what it reads (`agreed`), else the request is refused as ambiguous; send the image to avoid that.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from edtune.bench.reference.parse import ParsedRequest
from edtune.bench.reference.settings import UnmatchedRequest
from edtune.bench.shapes import SkillInfo, load_world, normalise, read_manifest
from edtune.errors import DataError
from edtune.records import Sample

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class WorldIndex:
    """Samples of one world by image hash and by question, with the world's skill catalogue."""

    root: Path
    by_image: dict[str, list[Sample]]
    by_question: dict[str, list[Sample]]
    skills: dict[str, SkillInfo]

    @classmethod
    def load(cls, world_dir: str | Path) -> WorldIndex:
        """Read every split of a world written by `edtune.bench.shapes.write_world` and hash its images.
        DataError (naming the file) for a missing image or a world without its manifest."""
        root = Path(world_dir)
        manifest = read_manifest(root)
        world = load_world(root)
        by_image: dict[str, list[Sample]] = defaultdict(list)
        by_question: dict[str, list[Sample]] = defaultdict(list)
        digests: dict[str, str] = {}
        for samples in world.splits.values():
            for sample in samples:
                by_question[normalise(sample.question)].append(sample)
                for rel in sample.images:
                    if rel not in digests:
                        digests[rel] = _file_hash(root / rel)
                    by_image[digests[rel]].append(sample)
        return cls(root=root, by_image=dict(by_image), by_question=dict(by_question),
                   skills={info.name: info for info in manifest.skills})

    @property
    def size(self) -> int:
        """Number of samples indexed."""
        return sum(len(samples) for samples in self.by_question.values())

    def match(self, request: ParsedRequest) -> list[Sample]:
        """The samples the request is about (never empty); UnmatchedRequest naming why there are none."""
        asked = self._asked(request)
        if request.image_hashes:
            return self._by_images(request, asked)
        options = request.options()
        shown_options = [normalise(text) for text in options] if options is not None else None
        fitting = [s for s in asked if ([normalise(c) for c in s.choices] if s.choices else None) == shown_options]
        if not fitting:
            shown = "no options" if options is None else f"options {options}"
            raise UnmatchedRequest(f"no sample of the world asks {asked[0].question!r} with {shown}",
                                   "unmatched_sample")
        return fitting

    def _asked(self, request: ParsedRequest) -> list[Sample]:
        found: dict[str, Sample] = {}
        for line in request.question_lines():
            for sample in self.by_question.get(normalise(line), []):
                found.setdefault(sample.id, sample)
        if not found:
            raise UnmatchedRequest("no line of the last user message is a question of the world "
                                   f"(world at {self.root}; the question must stand on its own line)",
                                   "unmatched_question")
        return list(found.values())

    def _by_images(self, request: ParsedRequest, asked: list[Sample]) -> list[Sample]:
        pictured = {s.id for digest in request.image_hashes for s in self.by_image.get(digest, [])}
        if not pictured:
            raise UnmatchedRequest(f"image sha256 {request.image_hashes[0][:16]}... is no image of the world "
                                   f"at {self.root} (images are matched byte for byte)", "unmatched_image")
        matched = [s for s in asked if s.id in pictured]
        if not matched:
            raise UnmatchedRequest(f"the image belongs to sample(s) {sorted(pictured)[:5]}, none of which asks "
                                   f"a question shown in the prompt", "unmatched_sample")
        return matched


def agreed(samples: Sequence[Sample], key: Callable[[Sample], K], what: str) -> K:
    """`key` of the matched samples when they all agree on it; UnmatchedRequest (ambiguous) otherwise."""
    values = {key(s) for s in samples}
    if len(values) != 1:
        ids = ", ".join(s.id for s in samples[:5])
        raise UnmatchedRequest(f"ambiguous: {len(samples)} samples ({ids} ...) match this text-only request and "
                               f"differ in {what}; send the image so the sample can be identified", "ambiguous")
    return key(samples[0])


def _file_hash(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise DataError(f"cannot read image of the world: {exc.strerror}", file=str(path)) from exc
