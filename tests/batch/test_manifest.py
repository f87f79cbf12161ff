"""The manifest: JSONL and CSV, every line checked with the client's rules before anything is sent."""

from __future__ import annotations

from pathlib import Path

from support.batch import Serve, generations, image_sends, write_manifest

from imagewire.batch.manifest import check, items_from, load
from imagewire.cli.batch import main


def test_bad_lines_are_listed_by_number_and_nothing_is_sent(serve: Serve, tmp_path: Path, capsys: object) -> None:
    server = serve("local")
    good = generations(3)
    manifest = write_manifest(
        tmp_path / "m.jsonl",
        [
            good[0],
            "{not json",
            {"id": "big", "prompt": "x", "model": "dall-e-2", "size": "4096x4096"},
            good[1],
            {"id": "odd", "prompt": "x", "model": "dall-e-2", "colour": "blue"},
            {"id": "gone", "operation": "edit", "prompt": "x", "model": "gpt-image-1.5", "image": "missing.png"},
            {"id": good[0]["id"], "prompt": "same id again", "model": "dall-e-2"},
            {"id": "what", "operation": "paint", "prompt": "x"},
        ],
    )
    code = main([str(manifest), "--out", str(tmp_path / "out"), "--provider", "local", "--base-url", server.base_url])
    err = capsys.readouterr().err  # type: ignore[attr-defined]
    assert code == 2
    assert "line 2: not JSON" in err
    assert "line 3 (big):" in err and "4096x4096" in err
    assert "line 5 (odd): unknown field 'colour'" in err
    assert "line 6 (gone):" in err and "missing.png" in err
    assert "line 7 (shot-000): id 'shot-000' repeats line 1" in err
    assert "line 8 (what): unknown operation 'paint'" in err
    assert "nothing was sent" in err
    assert "  line 1 " not in err and "  line 4 " not in err and "6 problem(s)" in err
    assert server.requests() == []
    assert not (tmp_path / "out").exists()


def test_skip_invalid_sends_the_good_lines(serve: Serve, tmp_path: Path, capsys: object) -> None:
    server = serve("local")
    lines = [*generations(2), {"id": "big", "prompt": "x", "model": "dall-e-2", "size": "4096x4096"}]
    manifest = write_manifest(tmp_path / "m.jsonl", lines)
    out = tmp_path / "out"
    args = [str(manifest), "--out", str(out), "--provider", "local", "--base-url", server.base_url]
    assert main([*args, "--skip-invalid"]) == 0
    assert "skipped (--skip-invalid): line 3 (big)" in capsys.readouterr().err  # type: ignore[attr-defined]
    assert sorted(p.name for p in (out / "images").iterdir()) == ["shot-000.png", "shot-001.png"]
    assert len(image_sends(server)) == 2


def test_csv_with_a_prompt_column(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"")
    path = tmp_path / "m.csv"
    path.write_text("id,prompt,model,n,size\nfox,A fox,dall-e-2,2,256x256\n,A heron,dall-e-2,,\n")
    manifest = load(path)
    assert manifest.problems == []
    assert [(i.id, i.line, dict(i.fields)) for i in manifest.items] == [
        ("fox", 2, {"prompt": "A fox", "model": "dall-e-2", "n": 2, "size": "256x256"}),
        ("row-2", 3, {"prompt": "A heron", "model": "dall-e-2"}),
    ]
    passed = check(manifest, {"provider": "local"})
    assert [i.id for i in passed] == ["fox", "row-2"]
    assert passed[0].body == {"prompt": "A fox", "model": "dall-e-2", "n": 2, "size": "256x256"}

    no_prompt = tmp_path / "bad.csv"
    no_prompt.write_text("id,text\na,b\n")
    assert [str(p) for p in load(no_prompt).problems] == [
        "line 1: a CSV manifest needs a 'prompt' column (found: id, text)"
    ]


def test_files_are_relative_to_the_manifest_and_edits_are_multipart(tmp_path: Path) -> None:
    from PIL import Image

    (tmp_path / "in").mkdir()
    Image.new("RGB", (64, 64), "red").save(tmp_path / "in" / "a.png")
    manifest = write_manifest(
        tmp_path / "m.jsonl",
        [{"id": "e", "operation": "edit", "prompt": "x", "model": "gpt-image-1.5", "image": ["in/a.png"]}],
    )
    parsed = load(manifest)
    (item,) = check(parsed, {"provider": "local"})
    assert parsed.problems == []
    assert item.fields["image"] == [str(tmp_path / "in" / "a.png")]
    assert item.body is None and item.local_files  # multipart: no JSON body for the Batch API


def test_streams_and_bad_ids_are_refused() -> None:
    parsed = items_from([{"id": "a b", "prompt": "x"}, {"id": "s", "prompt": "x", "stream": True}, {"prompt": "no id"}])
    assert [str(p) for p in parsed.problems] == [
        "line 1: bad id 'a b': use letters, digits, '.', '_' or '-' (at most 128)",
        "line 2 (s): stream is not available in a batch (results are saved whole)",
    ]
    assert [i.id for i in parsed.items] == ["item-3"]
