"""Input images that cannot be used and output folders that cannot be written: exit 2, nothing sent, nothing left."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.cli import LOCAL, Wire, files_under, mock_provider, png, run

from imagewire.cli import files as _cli_files
from imagewire.cli import images as consumer
from imagewire_client.catalog import MODELS


@pytest.fixture
def wire(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Wire:
    return mock_provider(monkeypatch, tmp_path)


EDIT = (*LOCAL, "-m", "gpt-image-1.5")


def test_a_missing_input_image(wire: Wire, capsys: pytest.CaptureFixture[str]) -> None:
    ran = run(capsys, "edit", "x", "nowhere.png", *EDIT)
    assert ran.code == 2
    assert "image: no such file 'nowhere.png'" in ran.err
    assert "rule: file" in ran.err
    assert wire.requests == []


def test_a_missing_mask(wire: Wire, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.png").write_bytes(png())
    ran = run(capsys, "edit", "x", "a.png", "--mask", "nomask.png", *EDIT)
    assert ran.code == 2
    assert "mask: no such file 'nomask.png'" in ran.err
    assert wire.requests == []


def test_a_folder_as_input_image(wire: Wire, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "folder.png").mkdir()
    ran = run(capsys, "edit", "x", "folder.png", *EDIT)
    assert ran.code == 2
    assert "is a directory" in ran.err
    assert wire.requests == []


def test_an_input_that_is_not_an_image(wire: Wire, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "notes.png").write_text("these are notes, not pixels", encoding="utf-8")
    ran = run(capsys, "edit", "x", "notes.png", *EDIT)
    assert ran.code == 2
    assert "'notes.png' is not an image (png, jpeg, webp, gif or svg expected)" in ran.err
    assert "allowed: png, jpeg, webp, gif" in ran.err
    assert wire.requests == []


def test_an_input_larger_than_any_model_takes_is_refused_unread(
    wire: Wire, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    limit = _cli_files.input_limit("edits", "image")
    assert limit == max(
        m.operations["edits"].images.max_bytes
        for m in MODELS.values()
        if "edits" in m.operations and m.operations["edits"].images and m.operations["edits"].images.max_bytes
    )
    huge = tmp_path / "huge.png"
    with huge.open("wb") as handle:  # sparse: the size is there, the bytes are not
        handle.write(png())
        handle.truncate(limit + 1)

    def no_read(self: Path) -> bytes:
        raise AssertionError("a file over the limit was read")

    monkeypatch.setattr(Path, "read_bytes", no_read)
    ran = run(capsys, "edit", "x", "huge.png", *EDIT)
    assert ran.code == 2
    assert "no model takes more than" in ran.err
    assert wire.requests == []


def test_an_input_larger_than_the_model_takes(wire: Wire, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """dall-e-2 variations take a PNG under 4 MiB (the only model of the operation, so the local check fires)."""
    (tmp_path / "big.png").write_bytes(png(64, 64) + b"\0" * (4 * 1024 * 1024))
    ran = run(capsys, "vary", "big.png", *LOCAL, "-m", "dall-e-2", "--allow-retired")
    assert ran.code == 2
    assert "'big.png' is 4,194,513 bytes" in ran.err
    assert "no model takes more than 4,194,304 bytes" in ran.err
    assert "rule: file" in ran.err
    assert wire.requests == []


def test_an_oversized_mask_breaks_the_model_rule(
    wire: Wire, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With --no-validate the local limit is lifted too; the client's model rule is then skipped as well."""
    (tmp_path / "a.png").write_bytes(png(64, 64))
    (tmp_path / "m.png").write_bytes(png(64, 64, (0, 0, 0, 0)) + b"\0" * (4 * 1024 * 1024))
    ran = run(capsys, "edit", "x", "a.png", "--mask", "m.png", *EDIT)
    assert ran.code == 2
    assert "mask" in ran.err and "4,194,304 bytes" in ran.err
    assert wire.requests == []
    ran = run(capsys, "edit", "x", "a.png", "--mask", "m.png", *EDIT, "--no-validate")
    assert ran.code == 0, ran.err
    assert len(wire.api_calls) == 1


def test_a_jpeg_for_a_png_only_model(wire: Wire, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from support.cli import jpeg

    (tmp_path / "cat.jpg").write_bytes(jpeg())
    ran = run(capsys, "vary", "cat.jpg", *LOCAL, "-m", "dall-e-2", "--allow-retired")
    assert ran.code == 2
    assert "rule: images" in ran.err
    assert "allowed: png" in ran.err
    assert wire.requests == []


# ---------------------------------------------------------------- output folder


def test_an_output_folder_under_a_file_is_refused_before_sending(
    wire: Wire, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    before = files_under(tmp_path)
    ran = run(capsys, "generate", "x", *LOCAL, "-m", "gpt-image-1.5", "--out", "a-file/deeper/out")
    assert ran.code == 2
    assert "output folder 'a-file/deeper/out' cannot be created: 'a-file' is not a folder" in ran.err
    assert "rule: output" in ran.err
    assert wire.requests == []
    assert files_under(tmp_path) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_a_read_only_output_folder_is_refused_before_sending(
    wire: Wire, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:  # pragma: no cover - runs for non-root users only
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        ran = run(capsys, "generate", "x", *LOCAL, "-m", "gpt-image-1.5", "--out", "locked/out")
        assert ran.code == 2
        assert "not writable" in ran.err
        assert wire.requests == []
    finally:
        locked.chmod(0o700)


@pytest.mark.parametrize("out", ["locked/out", "locked", "new/deeper/out"])
def test_an_unwritable_output_folder_is_refused_before_sending(
    wire: Wire, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], out: str
) -> None:
    """What a read-only folder does to a non-root user, simulated: creating the probe file is denied (as root,
    the real-permissions test above is skipped, so this is the test of that path that always runs)."""
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "mine.txt").write_text("kept", encoding="utf-8")
    before = files_under(tmp_path)
    real = _cli_files.tempfile.mkstemp
    probes: list[str] = []

    def denied(*args: Any, **kwargs: Any) -> tuple[int, str]:
        if str(kwargs.get("prefix", "")).startswith(".imagewire-probe-"):
            probes.append(str(kwargs.get("dir")))
            raise PermissionError(13, "Permission denied")
        return real(*args, **kwargs)

    monkeypatch.setattr(_cli_files.tempfile, "mkstemp", denied)
    ran = run(capsys, "generate", "x", *LOCAL, "-m", "gpt-image-1.5", "--out", out)
    assert ran.code == 2, ran.err
    assert f"output folder {out!r} is not writable: Permission denied" in ran.err
    assert "rule: output" in ran.err
    assert len(probes) == 1
    assert wire.requests == []
    assert files_under(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["locked"]


def test_the_probe_leaves_nothing_behind(wire: Wire, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wire.handler = lambda request: httpx.Response(401, json={"error": {"message": "no"}})
    ran = run(capsys, "generate", "x", *LOCAL, "-m", "gpt-image-1.5", "--out", "new/deeper")
    assert ran.code == 3
    assert not (tmp_path / "new").exists()
    assert files_under(tmp_path) == []


def test_a_failure_while_saving_removes_every_file_and_folder_made(
    wire: Wire, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The folder passes the probe, then the disk fills up on the third image."""
    from imagewire_client import _mixins

    real = _mixins.write_new
    calls: list[Path] = []

    def failing(path: Path, data: bytes, *, overwrite: bool = False) -> bool:
        calls.append(path)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real(path, data, overwrite=overwrite)

    monkeypatch.setattr(_mixins, "write_new", failing)
    ran = run(capsys, "generate", "x", *LOCAL, "-m", "gpt-image-1.5", "-n", "4", "--out", "fresh/out")
    assert ran.code == 2
    assert "No space left on device" in ran.err
    assert "nothing was kept" in ran.err
    assert len(calls) == 3
    assert not (tmp_path / "fresh").exists()
    assert files_under(tmp_path) == []


def test_a_failure_saving_partial_images_removes_the_final_ones_too(
    wire: Wire, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine", encoding="utf-8")
    from imagewire_client import _mixins

    real = _mixins.write_new

    def failing(path: Path, data: bytes, *, overwrite: bool = False) -> bool:
        if path.name.startswith("partial-"):
            raise PermissionError(13, "Permission denied")
        return real(path, data, overwrite=overwrite)

    monkeypatch.setattr(_mixins, "write_new", failing)
    ran = run(capsys, "generate", "x", *LOCAL, "-m", "gpt-image-1.5", "--partial-images", "1", "--out", "out")
    assert ran.code == 2
    assert files_under(tmp_path / "out") == [tmp_path / "out" / "keep.txt"]


def test_saving_twice_is_idempotent(wire: Wire, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = run(capsys, "generate", "x", *LOCAL, "-m", "gpt-image-1.5", "--json")
    second = run(capsys, "generate", "x", *LOCAL, "-m", "gpt-image-1.5", "--json")
    assert first.code == second.code == 0
    assert first.json()["images"] == second.json()["images"]
    assert len(files_under(tmp_path / consumer.DEFAULT_OUT)) == 1
