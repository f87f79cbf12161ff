"""Regeneration: spec in, ``generated_client/`` out, atomically; and the drift check.

``regen`` renders into a scratch folder beside the target and swaps it in only when everything
(engine, our templates, formatting, provenance) succeeded. Unchanged inputs are detected from the
provenance file without loading the spec, which keeps a no-op run fast.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import write

if TYPE_CHECKING:
    from .changes import Report

__all__ = ["DEFAULTS", "Paths", "Result", "build", "check", "default_paths", "inputs", "regen"]

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Paths:
    """Where the spec is, where the output goes, and what the output is made with."""

    spec: Path
    out: Path
    templates: Path = HERE / "templates"
    #: the client's hand-written modules, copied verbatim into the package
    runtime: Path = HERE / "runtime"
    config: Path = HERE / "config.yaml"
    #: a README whose marked blocks (``<!-- imagewire:NAME:start ... -->``) are kept in step with the spec
    readme: Path | None = None

    @property
    def spec_name(self) -> str:
        """The spec's path as the generated files name it (relative to the folder above ``spec/``)."""
        try:
            return self.spec.resolve().relative_to(self.spec.resolve().parent.parent).as_posix()
        except ValueError:  # pragma: no cover
            return self.spec.name


def default_paths(cwd: Path | None = None) -> Paths:
    """``./spec`` into ``./generated_client`` (keeping ``./README.md``'s blocks) where the command runs;
    without a ``./spec``, the packaged spec into ``./generated_client``."""
    from .locate import spec_document

    here = cwd or Path.cwd()
    spec = spec_document(cwd=here)
    readme = here / "README.md" if spec.parent == here / "spec" and (here / "README.md").is_file() else None
    return Paths(spec=spec, out=here / "generated_client", readme=readme)


DEFAULTS = default_paths()


@dataclass
class Result:
    status: str  # "unchanged" | "written" | "clean" | "drift"
    seconds: float
    files: int = 0
    differences: list[str] = field(default_factory=list)
    #: what changed against the previous tree, and the version it gives (None: nothing was built)
    report: Report | None = None


def _files(folder: Path, suffixes: tuple[str, ...] | None = None) -> list[Path]:
    return [
        p
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and (suffixes is None or p.suffix in suffixes)
    ]


def inputs(paths: Paths) -> dict[str, dict[str, str]]:
    """What the output depends on, hashed; cheap (no YAML, no engine import)."""
    from .engine import engine_version

    spec_dir = paths.spec.parent
    return {
        "inputs": {
            "spec": paths.spec_name,
            "spec-sha256": write.hash_files(_files(spec_dir, (".yaml", ".yml", ".json")), spec_dir),
            "templates-sha256": write.hash_files(_files(paths.templates), paths.templates),
            "runtime-sha256": write.hash_files(_files(paths.runtime, (".py",)), paths.runtime),
            "generator-sha256": write.hash_files([*HERE.glob("*.py"), *HERE.glob("schemas/*.json")], HERE.parent),
            "config-sha256": write.hash_files([paths.config], paths.config.parent),
        },
        "tools": {
            "openapi-python-client": engine_version(),
            "ruff": write.ruff_version(),
        },
    }


def build(
    paths: Paths, dest: Path, provenance: dict[str, dict[str, str]] | None = None, *, into: list[Report] | None = None
) -> int:
    """Generate the whole tree into ``dest`` (must not exist or be empty). Returns the file count.

    The version and the changelog are carried over from the tree at ``paths.out`` and raised by what
    changed against it (see :mod:`.changes`); the report is appended to ``into`` when given.

    Raises :class:`imagewire.generator.problems.SpecError` for a broken spec and
    :class:`imagewire.generator.engine.EngineError` when the engine drops or refuses something.
    """
    import yaml

    from . import engine
    from .catalog import resolve_models
    from .context import context, filters
    from .spec import read

    spec = read(paths.spec)
    config: dict[str, Any] = yaml.safe_load(paths.config.read_text(encoding="utf-8"))
    package = config["package_name_override"]
    previous = _Previous.read(paths.out, dest, str(config["package_version"]), package)
    ctx = context(spec, paths.spec_name, config)
    ctx["package_version"] = previous.version
    rendered = engine.render(
        engine.prepare(spec.data),
        package_dir=dest / package,
        package_name=package,
        templates=paths.templates,
        config=config,
        globals={"imagewire": ctx},
        filters=filters(),
    )
    own = paths.templates / "client"
    for template in sorted(own.rglob("*.jinja")):
        rel = template.relative_to(own).with_suffix("")
        parts = [package if part == "package" else part for part in rel.parts]
        target = dest.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        text = rendered.env.get_template(template.relative_to(paths.templates).as_posix()).render()
        target.write_text(text, encoding="utf-8")
    write.format_tree(dest)
    copied = _copy_runtime(paths.runtime, dest / package)
    blocks = _blocks(paths, rendered.env, dest)
    models = resolve_models(spec.catalogs["models"].data) if "models" in spec.catalogs else {}
    from .changes import SURFACE_NAME, surface

    new_surface = surface(spec.data, models)
    text = write.header(paths.spec_name)
    body = json.dumps(new_surface, indent=1, sort_keys=True)  # JSON holds no comment: the line is its first key
    (dest / SURFACE_NAME).write_text(f'{{"generated": {json.dumps(text)},\n{body[2:]}\n', encoding="utf-8")
    (dest / CHANGELOG_NAME).write_text(_TITLE + previous.changelog, encoding="utf-8")
    write.mark(dest, text, {f"{package}/{name}": write.copy_header(f"generator/runtime/{name}") for name in copied})
    report = _release(previous, dest, package, new_surface, ctx, text)
    if into is not None:
        into.append(report)
    entries = dict(provenance or inputs(paths))
    if blocks:  # what the README's generated blocks must hold, so a no-op run can tell a stale one
        entries["readme"] = {name: write.hash_text(body) for name, body in blocks.items()}
    write.write_lock(dest, text, entries)
    return sum(1 for _ in write.tree_files(dest))


@dataclass(frozen=True)
class _Previous:
    """What a build carries over from the tree it replaces: the version, the changelog, the spec surface."""

    root: Path | None  # None: there is no previous tree (a first build)
    version: str
    changelog: str  # without the generated-code line
    surface: dict[str, Any] | None
    #: the hash its lock records for it: a tree edited by hand since is compared as it was generated
    tree_hash: str | None = None

    @classmethod
    def read(cls, out: Path, dest: Path, initial: str, package: str) -> _Previous:
        from .changes import SURFACE_NAME

        if not (out / write.LOCK_NAME).is_file() or out.resolve() == dest.resolve():
            return cls(None, initial, "", None)
        version = _version_of(out, package) or initial
        try:
            changelog = _read(out / CHANGELOG_NAME)
        except OSError:
            changelog = ""
        if changelog.startswith("<!--"):
            changelog = changelog.partition("-->")[2].lstrip("\n")
        changelog = changelog.removeprefix(_TITLE)
        try:
            old_surface = json.loads(_read(out / SURFACE_NAME))
        except (OSError, ValueError):
            old_surface = None
        tree_hash = ((write.read_lock(out) or {}).get("output") or {}).get("tree")
        return cls(out, version, changelog, old_surface if isinstance(old_surface, dict) else None, tree_hash)


def _version_of(out: Path, package: str) -> str | None:
    """The version a tree was released as: its ``_version.py``, or the static version of an older pyproject."""
    try:
        found = re.search(r'^__version__ = "([^"]+)"$', _read(out / package / "_version.py"), re.MULTILINE)
        if found:
            return found.group(1)
    except OSError:
        pass
    try:
        return str(tomllib.loads(_read(out / "pyproject.toml"))["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return None


#: what a build reads of the previous tree (changelog, surface, pyproject) is refused beyond this size
MAX_CARRIED_BYTES = 16 * 1024 * 1024


def _read(path: Path) -> str:
    with path.open("rb") as handle:
        data = handle.read(MAX_CARRIED_BYTES + 1)
    if len(data) > MAX_CARRIED_BYTES:
        raise RuntimeError(f"{path}: larger than {MAX_CARRIED_BYTES:,} bytes; not read as the previous tree's")
    return data.decode("utf-8", errors="replace")


CHANGELOG_NAME = "CHANGELOG.md"
_TITLE = "# Changelog\n\nNewest first; written by `imagewire regen` (see spec/README.md).\n\n"
#: where the rendered version stands, so a bump rewrites it (each must occur exactly once)
_VERSIONED = {"{package}/_version.py": '__version__ = "{version}"'}


def _release(previous: _Previous, dest: Path, package: str, new_surface: dict[str, Any], ctx: Any, text: str) -> Report:
    """Compare the built tree with the previous one; bump the version and prepend to the changelog."""
    from .changes import Report, api_changes, bump, level_of, spec_changes

    api_version = str(ctx["api_version"])
    if previous.root is None:
        report = Report(previous.version, previous.version, "first")
        body = report.markdown(api_version)
    else:
        same = previous.tree_hash == write.hash_files([dest / rel for rel in write.tree_files(dest)], dest)
        if same or not [line for line in write.compare(dest, previous.root) if not line.endswith(write.LOCK_NAME)]:
            return Report(previous.version, previous.version, "none")
        note = None
        if previous.surface is None:
            note = "the previous tree recorded no spec surface; spec changes are not listed"
            changes = []
        else:
            changes = spec_changes(previous.surface, new_surface)
        changes += api_changes(previous.root / package, dest / package)
        level = level_of(changes, tree_changed=True)
        try:
            version = bump(previous.version, level)
        except ValueError as err:
            raise RuntimeError(f"{previous.root / package / '_version.py'}: {err}") from None
        report = Report(previous.version, version, level, changes, note)
        body = report.markdown(api_version) + ("\n" + previous.changelog if previous.changelog else "")
        _stamp(dest, package, str(ctx["project_name"]), previous.version, report.version)
    (dest / CHANGELOG_NAME).write_text(f"<!-- {text} -->\n\n{_TITLE}{body}", encoding="utf-8")
    return report


def _stamp(dest: Path, package: str, project: str, old: str, new: str) -> None:
    for rel, pattern in _VERSIONED.items():
        path = dest / rel.format(package=package)
        content = path.read_text(encoding="utf-8")
        was = pattern.format(project=project, version=old)
        if content.count(was) != 1:
            raise RuntimeError(f"{path.name}: expected the version once as {was!r}; the bump cannot rewrite it")
        path.write_text(content.replace(was, pattern.format(project=project, version=new)), encoding="utf-8")


def _copy_runtime(runtime: Path, package_dir: Path) -> list[str]:
    """Copy the hand-written modules into the package byte for byte (after formatting, which they need not);
    a module that a template renders too is an error. Returns the names copied."""
    names = sorted(p.name for p in runtime.glob("*.py"))
    for name in names:
        target = package_dir / name
        if target.exists():
            raise RuntimeError(f"generator/runtime/{name} and a template both write {package_dir.name}/{name}")
        shutil.copyfile(runtime / name, target)
    return names


#: README blocks: name -> template (rendered with the same data as the client)
BLOCKS = {"providers": "readme/providers.md.jinja"}
_BLOCKS_DIR = ".readme-blocks"


def _blocks(paths: Paths, env: Any, dest: Path) -> dict[str, str]:
    """Render the README blocks beside the tree (outside it, so they are not marked and hashed with it)."""
    if paths.readme is None:
        return {}
    folder = dest.parent / f"{dest.name}{_BLOCKS_DIR}"
    folder.mkdir(exist_ok=True)
    rendered = {}
    for name, template in BLOCKS.items():
        rendered[name] = env.get_template(template).render().strip("\n")
        (folder / f"{name}.md").write_text(rendered[name], encoding="utf-8")
    return rendered


def _blocks_current(paths: Paths, lock: dict[str, dict[str, str]]) -> bool:
    """Whether the README's blocks hold what the lock says they were generated with."""
    want = lock.get("readme") or {}
    if paths.readme is None or not want or not paths.readme.is_file():
        return True
    text = paths.readme.read_text(encoding="utf-8")
    return all(write.hash_text(write.read_block(text, name) or "") == digest for name, digest in want.items())


def _readme(paths: Paths, dest: Path, *, apply: bool) -> list[str]:
    """Bring the README's blocks in step (apply) or list the ones that are stale."""
    folder = dest.parent / f"{dest.name}{_BLOCKS_DIR}"
    if paths.readme is None or not paths.readme.is_file() or not folder.is_dir():
        return []
    text = paths.readme.read_text(encoding="utf-8")
    stale = []
    for block in sorted(folder.glob("*.md")):
        updated = write.replace_block(text, block.stem, block.read_text(encoding="utf-8"))
        if updated is not None and updated != text:
            stale.append(f"changed  {paths.readme.name} (block {block.stem})")
            text = updated
    if apply and stale:
        write.write_file(paths.readme, text)
    shutil.rmtree(folder, ignore_errors=True)
    return stale


def regen(paths: Paths = DEFAULTS, *, force: bool = False) -> Result:
    """Bring ``paths.out`` up to date with the spec; a no-op when nothing it depends on changed."""
    start = time.perf_counter()
    write.recover(paths.out)
    provenance = inputs(paths)
    lock = write.read_lock(paths.out)
    if (
        not force
        and lock is not None
        and all(lock.get(k) == v for k, v in provenance.items())
        and write.tree_intact(paths.out, lock)
        and _blocks_current(paths, lock)
    ):
        return Result("unchanged", time.perf_counter() - start)
    scratch = write.scratch(paths.out)
    reports: list[Report] = []
    try:
        count = build(paths, scratch, provenance, into=reports)
        write.swap(scratch, paths.out)
        _readme(paths, scratch, apply=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(scratch.parent / f"{scratch.name}{_BLOCKS_DIR}", ignore_errors=True)
    return Result("written", time.perf_counter() - start, count, report=reports[0])


def check(paths: Paths = DEFAULTS) -> Result:
    """Regenerate into a temporary folder and compare with ``paths.out``; the working tree is not touched."""
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="imagewire-check-") as tmp:
        dest = Path(tmp) / paths.out.name
        reports: list[Report] = []
        count = build(paths, dest, into=reports)
        differences = write.compare(dest, paths.out) + _readme(paths, dest, apply=False)
    status = "drift" if differences else "clean"
    return Result(status, time.perf_counter() - start, count, differences, reports[0])
