"""The demo: the reference provider on a free loopback port, images made through the command line and
through the Python API, and a gallery (``demo-output/index.html``) that says how each one was made.

    python scripts/demo.py [--out demo-output]

What it makes (each entry: the image, prompt, revised prompt, model, size, cost, and the command or code):

1. a URL answer: ``imagewire generate`` with OpenIntegrations' ``--descr`` form, dall-e-3 (retired at
   OpenAI, still served by providers: ``--allow-retired``), ``--format url``;
2. a b64 answer: ``client.images.generate(model="gpt-image-1.5", ...)`` and ``result.save()``;
3. an edit of two images with a mask: ``imagewire edit PROMPT a.png b.png --mask mask.png`` (inputs made with Pillow);
4. a stream with partial images: ``client.images.generate(..., stream=True, partial_images=2)``;
5. two images at a free size: ``imagewire generate -n 2 --size 1280x720`` (gpt-image-2's size rule);
6. a variation: ``imagewire vary`` (dall-e-2);
7. a batch of three prompts from a JSONL manifest: ``imagewire batch --engine openai-batch --wait`` (the
   reference provider's Files and Batch endpoints).

The output folder is rebuilt whole on every run: the gallery is made in a fresh folder beside it and
swapped in at the end, so a failed run leaves the previous gallery as it was. A folder that the demo did
not make (no ``.imagewire-demo`` marker in it) is never removed. The server is stopped on every path.
Images, prompts and the gallery are deterministic; only the server's port differs between runs, and
the gallery writes ``$BASE_URL`` in its place.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import io
import json
import os
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

__all__ = ["DEFAULT_OUT", "MARKER", "Entry", "main", "render_gallery"]

DEFAULT_OUT = Path("demo-output")
#: a file the demo leaves in its folder: the proof that the folder may be replaced on the next run
MARKER = ".imagewire-demo"
BASE_URL = "$BASE_URL"


@dataclass
class Entry:
    """One picture of the gallery and how it was made."""

    title: str
    how: str  # "command line" or "Python API"
    code: str  # the command or the code, with $BASE_URL for the server's address
    images: list[Path]
    prompt: str
    model: str
    size: str
    cost: str
    revised_prompts: list[str] = field(default_factory=list)
    inputs: list[tuple[str, Path]] = field(default_factory=list)  # (label, path)
    partials: list[Path] = field(default_factory=list)
    note: str = ""


class DemoError(Exception):
    """A step of the demo failed; the message says which and why."""


# ---------------------------------------------------------------- inputs made with Pillow


def make_inputs(folder: Path) -> dict[str, Path]:
    """Two pictures to edit, a mask (transparent where the edit goes) and a square PNG to vary."""
    from PIL import Image, ImageDraw

    folder.mkdir(parents=True, exist_ok=True)
    size = 512
    room = Image.new("RGB", (size, size), (236, 226, 208))
    draw = ImageDraw.Draw(room)
    draw.rectangle((0, 360, size, size), fill=(150, 110, 80))  # floor
    draw.rectangle((60, 80, 220, 240), fill=(120, 170, 220), outline=(90, 70, 50), width=8)  # window
    draw.ellipse((300, 250, 430, 380), fill=(230, 200, 60))  # a yellow ball
    alpaca = Image.new("RGB", (size, size), (200, 230, 200))
    draw = ImageDraw.Draw(alpaca)
    draw.ellipse((150, 220, 380, 400), fill=(245, 220, 90))  # body
    draw.rectangle((300, 90, 350, 260), fill=(245, 220, 90))  # neck
    draw.ellipse((280, 50, 380, 130), fill=(245, 220, 90))  # head
    for x in (180, 230, 300, 340):
        draw.rectangle((x, 380, x + 18, 470), fill=(200, 170, 60))  # legs
    mask = Image.new("RGBA", (size, size), (70, 70, 70, 255))
    ImageDraw.Draw(mask).rectangle((260, 230, 470, 400), fill=(0, 0, 0, 0))  # edit where the ball is
    seed = Image.new("RGBA", (256, 256), (40, 60, 120, 255))
    draw = ImageDraw.Draw(seed)
    for i in range(8):
        draw.ellipse(
            (16 * i, 16 * i, 256 - 16 * i, 256 - 16 * i), outline=(255, 200 - 20 * i, 40 + 25 * i, 255), width=6
        )
    paths = {"room": folder / "room.png", "alpaca": folder / "alpaca.png", "mask": folder / "mask.png"}
    paths["seed"] = folder / "seed.png"
    room.save(paths["room"])
    alpaca.save(paths["alpaca"])
    mask.save(paths["mask"])
    seed.save(paths["seed"])
    return paths


# ---------------------------------------------------------------- the steps


def _cli(command: str, argv: Sequence[str]) -> dict[str, Any]:
    """Run ``imagewire COMMAND ... --json`` in this process; its JSON document (a DemoError otherwise)."""
    from imagewire.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([command, *argv, "--json"])
    if code != 0:
        raise DemoError(f"imagewire {command} exited {code}: {err.getvalue().strip() or out.getvalue().strip()}")
    doc: dict[str, Any] = json.loads(out.getvalue())
    return doc


def _shown(command: str, argv: Sequence[str], base_url: str, folder: Path) -> str:
    """The command line as a user would type it: $BASE_URL for the port of this run, paths relative."""
    words = ["imagewire", command]
    for arg in argv:
        text = arg.replace(base_url, BASE_URL)
        if text.startswith(str(folder) + os.sep):
            text = os.path.relpath(text, folder)
        words.append(text)
    return " ".join(_quote(word) for word in words)


def _quote(word: str) -> str:
    """Shell quoting as a person writes it: ``$BASE_URL`` bare, ``"{'prompt':...}"`` in double quotes."""
    if word == BASE_URL or shlex.quote(word) == word:
        return word
    if "'" in word and not any(c in word for c in '"$`\\!'):
        return f'"{word}"'
    return shlex.quote(word)


def _images(doc: dict[str, Any]) -> list[Path]:
    return [Path(image["path"]) for image in doc["images"]]


def step_url(base_url: str, folder: Path) -> Entry:
    descr = "{'prompt':'Yellow alpaca','n':1,'size':'1024x1024'}"
    argv = ["--provider", "local", "--base-url", base_url, "--model", "dall-e-3", "--allow-retired"]
    argv += ["--descr", descr, "--format", "url", "--quality", "hd", "--out", str(folder / "01-url")]
    doc = _cli("generate", argv)
    return Entry(
        title="A URL answer (dall-e-3)",
        how="command line",
        code=_shown("generate", argv, base_url, folder),
        images=_images(doc),
        prompt="Yellow alpaca",
        model=doc["model"],
        size=doc["size"] or "1024x1024",
        cost=doc["cost"]["text"],
        revised_prompts=[i["revised_prompt"] for i in doc["images"] if i["revised_prompt"]],
        note="OpenIntegrations' --descr form (seed 000/001); the image was downloaded from the URL the answer gave.",
    )


def step_b64(base_url: str, folder: Path) -> Entry:
    from imagewire_client import Client

    prompt = "A yellow alpaca reading a newspaper in a sunny kitchen"
    with Client(provider="local", base_url=base_url) as client:
        result = client.images.generate(model="gpt-image-1.5", prompt=prompt, size="1536x1024", quality="medium")
        paths = result.save(folder / "02-b64")
        cost = client.images.estimate(model="gpt-image-1.5", size="1536x1024", quality="medium")
    code = (
        "from imagewire_client import Client\n\n"
        f'client = Client(provider="local", base_url="{BASE_URL}")\n'
        f'result = client.images.generate(model="gpt-image-1.5", prompt="{prompt}",\n'
        '                                 size="1536x1024", quality="medium")\n'
        'result.save("02-b64")   # b64_json decoded\n'
        'client.images.estimate(model="gpt-image-1.5", size="1536x1024", quality="medium")'
    )
    return Entry(
        title="A b64 answer (gpt-image-1.5)",
        how="Python API",
        code=code,
        images=paths,
        prompt=prompt,
        model="gpt-image-1.5",
        size=result.size or "1536x1024",
        cost=str(cost),
    )


def step_edit(base_url: str, folder: Path, inputs: dict[str, Path]) -> Entry:
    prompt = "Put the alpaca into the room, sitting where the ball is"
    argv = [prompt, str(inputs["room"]), str(inputs["alpaca"]), "--mask", str(inputs["mask"])]
    argv += ["--provider", "local", "--base-url", base_url, "--model", "gpt-image-1.5", "--size", "1024x1024"]
    argv += ["--input-fidelity", "high", "--out", str(folder / "03-edit")]
    doc = _cli("edit", argv)
    return Entry(
        title="An edit of two images with a mask (gpt-image-1.5)",
        how="command line",
        code=_shown("edit", argv, base_url, folder),
        images=_images(doc),
        prompt=prompt,
        model=doc["model"],
        size=doc["size"] or "1024x1024",
        cost=doc["cost"]["text"],
        inputs=[("image 1", inputs["room"]), ("image 2", inputs["alpaca"]), ("mask", inputs["mask"])],
        note="Sent as multipart/form-data: two image[] parts and a mask part, content types sniffed from the bytes.",
    )


def step_stream(base_url: str, folder: Path) -> Entry:
    from imagewire_client import Client, ImageGenPartialImageEvent

    prompt = "An alpaca astronaut floating above the Earth"
    target = folder / "04-stream"
    target.mkdir(parents=True, exist_ok=True)
    finals: list[Path] = []
    partials: list[Path] = []
    with Client(provider="local", base_url=base_url) as client:
        stream = client.images.generate(
            model="gpt-image-1.5", prompt=prompt, size="1024x1024", quality="low", stream=True, partial_images=2
        )
        size = "1024x1024"
        for event in stream:
            data = event.content()
            if isinstance(event, ImageGenPartialImageEvent):
                index = event.partial_image_index if event.partial_image_index is not None else len(partials)
                path = target / f"partial-{index}.png"
                partials.append(path)
            else:
                path = target / f"final-{len(finals)}.png"
                finals.append(path)
                size = event.size or size
            path.write_bytes(data)
        cost = client.images.estimate(model="gpt-image-1.5", size="1024x1024", quality="low")
    code = (
        f'client = Client(provider="local", base_url="{BASE_URL}")\n'
        f'for event in client.images.generate(model="gpt-image-1.5", prompt="{prompt}",\n'
        '                                    size="1024x1024", quality="low",\n'
        "                                    stream=True, partial_images=2):\n"
        "    print(event.type, len(event.content()))"
    )
    return Entry(
        title="A stream with partial images (gpt-image-1.5)",
        how="Python API",
        code=code,
        images=finals,
        prompt=prompt,
        model="gpt-image-1.5",
        size=size,
        cost=str(cost),
        partials=sorted(partials),
        note=f"{len(partials)} partial images arrived before the final one (server-sent events).",
    )


def step_free_size(base_url: str, folder: Path) -> Entry:
    prompt = "A wide panorama of alpacas on a mountain ridge at dawn"
    argv = [prompt, "--provider", "local", "--base-url", base_url, "--model", "gpt-image-2"]
    argv += ["--size", "1280x720", "-n", "2", "--quality", "low", "--output-format", "jpeg"]
    argv += ["--out", str(folder / "05-free-size")]
    doc = _cli("generate", argv)
    return Entry(
        title="Two images at a free size (gpt-image-2)",
        how="command line",
        code=_shown("generate", argv, base_url, folder),
        images=_images(doc),
        prompt=prompt,
        model=doc["model"],
        size=doc["size"] or "1280x720",
        cost=doc["cost"]["text"],
        note="gpt-image-2 takes any WxH with sides a multiple of 16 and an aspect between 1:3 and 3:1.",
    )


def step_vary(base_url: str, folder: Path, inputs: dict[str, Path]) -> Entry:
    argv = [str(inputs["seed"]), "--provider", "local", "--base-url", base_url, "--model", "dall-e-2"]
    argv += ["--allow-retired", "--size", "512x512", "--out", str(folder / "06-vary")]
    doc = _cli("vary", argv)
    return Entry(
        title="A variation (dall-e-2)",
        how="command line",
        code=_shown("vary", argv, base_url, folder),
        images=_images(doc),
        prompt="(none: variations take an image only)",
        model=doc["model"],
        size=doc["size"] or "512x512",
        cost=doc["cost"]["text"],
        inputs=[("image", inputs["seed"])],
    )


_BATCH_PROMPTS = ("A lighthouse at dawn", "A lighthouse at noon", "A lighthouse at dusk")


def step_batch(base_url: str, folder: Path) -> Entry:
    """Three prompts from a JSONL manifest through ``imagewire batch --engine openai-batch --wait``."""
    from imagewire.cli.batch import main as batch_main

    out_dir = folder / "07-batch"
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = out_dir / "shots.jsonl"
    lines = [
        {
            "id": f"lighthouse-{k + 1}",
            "prompt": prompt,
            "model": "gpt-image-1-mini",
            "size": "1024x1024",
            "quality": "low",
        }
        for k, prompt in enumerate(_BATCH_PROMPTS)
    ]
    manifest.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    argv = [str(manifest), "--out", str(out_dir), "--provider", "local", "--base-url", base_url]
    argv += ["--engine", "openai-batch", "--wait", "--quiet"]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = batch_main(argv)
    if code != 0:
        raise DemoError(f"imagewire batch exited {code}: {err.getvalue().strip() or out.getvalue().strip()}")
    for journal in out_dir.glob("journal.sqlite*"):  # batch ids and times: the gallery stays the same run to run
        journal.unlink()
    report = json.loads((out_dir / "report.json").read_text(encoding="utf-8"))
    images = [out_dir / name for item in report["items"] for name in item.get("files", [])]
    return Entry(
        title="A batch from a manifest, through the Batch API (imagewire batch)",
        how="command line",
        code=_shown("batch", argv, base_url, folder) + "\n\n# shots.jsonl\n" + manifest.read_text(encoding="utf-8"),
        images=images,
        prompt=" / ".join(_BATCH_PROMPTS),
        model="gpt-image-1-mini",
        size="1024x1024",
        cost=f"${report['spent_usd']:.3f} (the local provider's price; the Batch API bills half)",
        note="Uploaded as Batch API JSONL through the Files API, run by the reference provider in the background, "
        "collected from its output file into images named by id; report.json and the batch's own gallery are in "
        "07-batch/ (its journal is removed here, so the demo's folder is the same on every run).",
    )


# ---------------------------------------------------------------- the gallery


_CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; padding: 0 1rem; color: #222; }
h1 { margin-bottom: 0.2rem; } .lead { color: #555; margin-top: 0; }
.entry { border: 1px solid #ddd; border-radius: 8px; padding: 1rem; margin: 1.5rem 0; }
.entry h2 { margin-top: 0; font-size: 1.2rem; }
.images { display: flex; flex-wrap: wrap; gap: 0.75rem; align-items: flex-start; }
.images figure { margin: 0; } .images img { max-width: 22rem; max-height: 22rem; border: 1px solid #ccc; }
.small img { max-width: 8rem; max-height: 8rem; } figcaption { font-size: 0.8rem; color: #666; }
table { border-collapse: collapse; margin: 0.75rem 0; } td, th { text-align: left; padding: 0.2rem 0.8rem 0.2rem 0; }
th { color: #666; font-weight: normal; white-space: nowrap; vertical-align: top; }
pre { background: #f6f6f6; padding: 0.6rem; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
.note { color: #555; font-size: 0.9rem; }
"""


def _link(path: Path, folder: Path) -> str:
    return html.escape(Path(os.path.relpath(path, folder)).as_posix(), quote=True)


def _figures(paths: Sequence[tuple[str, Path]], folder: Path) -> str:
    return "".join(
        f'<figure><a href="{_link(p, folder)}"><img src="{_link(p, folder)}" alt="{html.escape(label)}"></a>'
        f"<figcaption>{html.escape(label)}</figcaption></figure>"
        for label, p in paths
    )


_LEAD = (
    "Images made by the generated client <code>imagewire_client</code>, through the "
    "<code>imagewire</code> command line and the Python API, against the reference provider "
    "(<code>imagewire.server</code>, persona <code>local</code>) on a free loopback port. "
    "<code>$BASE_URL</code> stands for that server's address (<code>imagewire serve</code> listens on "
    "<code>http://127.0.0.1:8765/v1</code>)."
)


def render_gallery(
    entries: Sequence[Entry], folder: Path, *, title: str = "imagewire demo", lead_html: str = _LEAD
) -> str:
    """The gallery as one self-contained HTML page; every image link is relative to ``folder``.

    ``lead_html`` is the introduction, already HTML (``imagewire batch`` writes its summary there).
    """
    parts = [
        "<!doctype html>",
        f'<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>',
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="lead">{lead_html}</p>',
    ]
    for number, entry in enumerate(entries, 1):
        rows = [
            ("prompt", entry.prompt),
            *(("revised prompt", text) for text in entry.revised_prompts),
            ("model", entry.model),
            ("size", entry.size),
            ("cost", entry.cost),
            ("made with", entry.how),
        ]
        table = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
        results = [(f"result {i + 1}" if len(entry.images) > 1 else "result", p) for i, p in enumerate(entry.images)]
        parts.append(f'<section class="entry" id="entry-{number}"><h2>{number}. {html.escape(entry.title)}</h2>')
        parts.append(f'<div class="images">{_figures(results, folder)}</div>')
        if entry.inputs:
            parts.append(f'<p class="note">inputs:</p><div class="images small">{_figures(entry.inputs, folder)}</div>')
        if entry.partials:
            labelled = [(f"partial {i}", p) for i, p in enumerate(entry.partials)]
            parts.append(
                f'<p class="note">partial images:</p><div class="images small">{_figures(labelled, folder)}</div>'
            )
        parts.append(f"<table>{table}</table>")
        parts.append(f"<pre><code>{html.escape(entry.code)}</code></pre>")
        if entry.note:
            parts.append(f'<p class="note">{html.escape(entry.note)}</p>')
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


# ---------------------------------------------------------------- running it


@contextlib.contextmanager
def _staging(target: Path) -> Iterator[Path]:
    """A fresh folder beside ``target``, swapped in on success and removed on failure."""
    if target.exists() and not (target / MARKER).exists() and (not target.is_dir() or any(target.iterdir())):
        raise DemoError(f"{target} exists and was not made by the demo (no {MARKER} in it); remove it or pass --out")
    target.parent.mkdir(parents=True, exist_ok=True)
    _sweep(target)
    stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
    umask = os.umask(0)
    os.umask(umask)
    stage.chmod(0o777 & ~umask)  # mkdtemp makes it private; the gallery is an ordinary folder
    try:
        yield stage
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    (stage / MARKER).write_text("made by imagewire.demo.gallery; replaced whole on every run\n", encoding="utf-8")
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        old.rmdir()
        target.rename(old)
    stage.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _sweep(target: Path, *, age: float = 600.0) -> None:
    """Remove staging folders a killed run left beside ``target`` (only ours, and only stale ones)."""
    now = time.time()
    for kind in ("new", "old"):
        for path in target.parent.glob(f".{target.name}.{kind}-*"):
            with contextlib.suppress(OSError):
                if path.is_dir() and now - path.stat().st_mtime > age:
                    shutil.rmtree(path, ignore_errors=True)


def _relocate(entries: Sequence[Entry], stage: Path, target: Path) -> None:
    """Paths made under the staging folder, as they are after the swap (for the printed summary)."""

    def move(path: Path) -> Path:
        return target / path.relative_to(stage) if path.is_relative_to(stage) else path

    for entry in entries:
        entry.images = [move(p) for p in entry.images]
        entry.partials = [move(p) for p in entry.partials]
        entry.inputs = [(label, move(p)) for label, p in entry.inputs]


def run(out: Path, console: Console) -> list[Entry]:
    """Start the server, make every picture, write the gallery; the server is stopped on every path."""
    from imagewire.server import start

    entries: list[Entry] = []
    with _staging(out) as stage:
        console.print("starting the reference provider (persona local) ...")
        server = start("local")
        try:
            console.print(f"  listening on {server.base_url}")
            inputs = make_inputs(stage / "inputs")
            steps: list[tuple[str, Callable[[], Entry]]] = [
                ("url answer, command line", lambda: step_url(server.base_url, stage)),
                ("b64 answer, Python API", lambda: step_b64(server.base_url, stage)),
                ("edit of two images with a mask, command line", lambda: step_edit(server.base_url, stage, inputs)),
                ("stream with partial images, Python API", lambda: step_stream(server.base_url, stage)),
                ("two images at a free size, command line", lambda: step_free_size(server.base_url, stage)),
                ("variation, command line", lambda: step_vary(server.base_url, stage, inputs)),
                ("batch through the Batch API, command line", lambda: step_batch(server.base_url, stage)),
            ]
            for number, (label, step) in enumerate(steps, 1):
                started = time.perf_counter()
                entry = step()
                entries.append(entry)
                names = ", ".join(p.name for p in entry.images)
                console.print(f"  {number}. {label}: {names} ({time.perf_counter() - started:.2f} s)")
            served = len(server.requests())
        finally:
            server.stop()
        console.print(f"  server stopped ({served} requests served)")
        (stage / "index.html").write_text(render_gallery(entries, stage), encoding="utf-8")
    _relocate(entries, stage, out)
    return entries


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo; 0 when the gallery is written, 1 when a step failed, 130 when interrupted (the previous
    gallery is kept in both cases)."""
    parser = argparse.ArgumentParser(prog="demo", description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"gallery folder (default {DEFAULT_OUT})")
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    console = Console(highlight=False, soft_wrap=True)
    started = time.perf_counter()
    out: Path = args.out
    try:
        entries = run(out, console)
    except KeyboardInterrupt:
        console.print(f"interrupted; {out} was left as it was", style="bold red")
        return 130
    except Exception as err:  # a failed step: say which, keep the previous gallery
        console.print(f"demo failed: {type(err).__name__}: {err}", style="bold red")
        console.print(f"({time.perf_counter() - started:.1f} s; {out} was left as it was)")
        return 1
    images = sum(len(e.images) + len(e.partials) for e in entries)
    console.print(f"\n{len(entries)} entries, {images} images: open {out / 'index.html'}", style="bold green")
    console.print(f"demo finished in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
