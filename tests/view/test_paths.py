"""Paths from run and data files never reach outside the data's image root or the output folder."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from edtune.view import Site
from edtune.view.images import image_file, image_ref
from edtune.view.server import serve_in_thread
from edtune.view.static import write_site
from view.helpers import copy_run


def with_val_images(run: Path, world: Path, tmp_path: Path, images: list[str]) -> Path:
    """A copy of `run` whose config names a validation file (in a copy of the world) whose first sample
    has `images`."""
    copied = copy_run(run, tmp_path / "run")
    data = tmp_path / "data"
    data.mkdir()
    lines = (world / "counting_val.jsonl").read_text().splitlines()
    first = json.loads(lines[0]) | {"images": images}
    (data / "val.jsonl").write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")
    (data / "images").symlink_to(world / "images")
    config = json.loads((copied / "config.json").read_text())
    config["data"]["val"]["path"] = str(data / "val.jsonl")
    (copied / "config.json").write_text(json.dumps(config))
    return copied


@pytest.mark.parametrize("bad", ["../../etc/passwd", "/etc/passwd", "images/../../outside.png", "secret.png"])
def test_image_paths_outside_the_root_are_refused(finished_run: Path, view_world: Path, tmp_path: Path,
                                                  bad: str) -> None:
    (tmp_path / "outside.png").write_bytes(b"\x89PNG secret")
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "x.png").write_bytes(b"\x89PNG secret")
    run = with_val_images(finished_run, view_world, tmp_path, [bad])
    (tmp_path / "data" / "secret.png").symlink_to(tmp_path / "secret" / "x.png")
    site = Site([run])
    files = site.runs[0]
    assert image_file(files, "val", bad) is None and image_ref(files, "val", bad).path is None
    sample_id = next(iter(files.val))
    html = site.page(f"r0/001/e/{sample_id}.html")
    assert html is not None and b"secret" not in html[0].replace(b"secret.png", b"")
    for path in ("r0/img/val/" + bad, "r0/img/val/../../../etc/passwd", "r0/img/config/x", "r0/img/val/"):
        assert site.page(path) is None
    out = tmp_path / "site"
    write_site([run], out)
    written = {p.resolve() for p in out.rglob("*") if p.is_file()}
    assert all(p.is_relative_to(out.resolve()) for p in written)
    assert not any(p.read_bytes() == b"\x89PNG secret" for p in written)


def test_the_server_refuses_escapes_and_answers_404(finished_run: Path) -> None:
    server, thread = serve_in_thread(Site([finished_run]))
    host, port = server.server_address[:2]
    base = f"http://{host!s}:{port}/"
    try:
        assert host == "127.0.0.1"
        with urllib.request.urlopen(base + "r0/index.html") as reply:
            assert reply.status == 200 and b"error_driven" in reply.read()
        for path in ("r0/img/val/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "r0/img/val/..%2f..%2fetc%2fpasswd",
                     "r0/../../etc/passwd", "r9/index.html", "r0/001/e/nobody.html", "r0/999/errors-p1.html"):
            with pytest.raises(urllib.error.HTTPError) as caught:
                urllib.request.urlopen(base + path)
            assert caught.value.code == 404, path
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_a_viewer_bug_is_answered_not_dropped(finished_run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = Site([finished_run])

    def broken(path: str) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(site, "page", broken)
    server, thread = serve_in_thread(site)
    host, port = server.server_address[:2]
    try:
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(f"http://{host!s}:{port}/r0/index.html")
        assert caught.value.code == 500
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
