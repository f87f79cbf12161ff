"""Read YAML and JSON spec files into plain data, keeping where each value stands.

A syntax error becomes a :class:`Problem` naming the file, the JSON pointer of the last key that was
read before the error, and the line. Duplicate keys (which YAML loaders silently collapse) are problems too.
So is a file over :data:`MAX_BYTES`, or a YAML document that holds more than :data:`MAX_BYTES` once its
aliases are expanded (an alias "bomb": a few hundred bytes that stand for billions of values).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .problems import Problem, pointer

__all__ = ["MAX_BYTES", "Document", "expanded_size", "load"]

#: the largest spec file read, and the most a YAML document may hold with its aliases expanded (bytes)
MAX_BYTES = 16 * 1024 * 1024

try:  # the C loader is several times faster; fall back where libyaml is missing
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment,unused-ignore]
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader


@dataclass
class Document:
    """A loaded file: its data and the line (1-based) of each JSON pointer in it."""

    path: Path
    name: str  # how problems name the file (relative to the spec's parent folder)
    data: Any
    lines: dict[str, int] = field(default_factory=dict)

    def problem(self, ptr: str, message: str, rule: str) -> Problem:
        return Problem(self.name, ptr, message, rule, self._line(ptr))

    def _line(self, ptr: str) -> int | None:
        while True:
            if ptr in self.lines:
                return self.lines[ptr]
            if not ptr:
                return None
            ptr = ptr.rsplit("/", 1)[0]


def load(path: Path, name: str, *, max_bytes: int = MAX_BYTES) -> Document | Problem:
    """Load ``path``; a problem (never an exception) when it cannot be read or parsed, or exceeds a limit."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            return Problem(name, "", f"the file has {size:,} bytes; the limit is {max_bytes:,}", "limit")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Problem(name, "", "file not found", "load")
    except (OSError, UnicodeDecodeError) as err:
        return Problem(name, "", f"cannot read the file: {err}", "load")
    if path.suffix == ".json":
        duplicates: list[str] = []

        def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
            seen: dict[str, Any] = {}
            for key, value in items:
                if key in seen:
                    duplicates.append(key)
                seen[key] = value
            return seen

        try:
            data = json.loads(text, object_pairs_hook=pairs)
        except json.JSONDecodeError as err:
            return Problem(name, "", f"JSON syntax error: {err.msg}", "json", err.lineno)
        if duplicates:  # JSON is YAML: its reader names where the duplicate stands
            found = _load_yaml(path, name, text, max_bytes)
            where, line = (found.pointer, found.line) if isinstance(found, Problem) else ("", None)
            message = f"duplicate key {duplicates[0]!r} (JSON readers keep only the last one)"
            return Problem(name, where, message, "json", line)
        return Document(path, name, data)
    return _load_yaml(path, name, text, max_bytes)


def expanded_size(node: yaml.Node, limit: int) -> int:
    """Roughly how many bytes ``node`` stands for with every alias expanded (each scalar's length plus one
    per node), counted without expanding anything: an aliased node is one shared object, so its size is
    remembered. Counting stops past ``limit``; a recursive alias counts as ``limit + 1``."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(item: yaml.Node) -> int:
        key = id(item)
        if key in sizes:
            return sizes[key]
        if key in active:  # a recursive alias: infinite once expanded
            return limit + 1
        active.add(key)
        total = 1 + (len(item.value) if isinstance(item, yaml.ScalarNode) else 0)
        if isinstance(item, yaml.MappingNode):
            for key_node, value_node in item.value:
                total += size(key_node) + size(value_node)
                if total > limit:
                    break
        elif isinstance(item, yaml.SequenceNode):
            for child in item.value:
                total += size(child)
                if total > limit:
                    break
        active.discard(key)
        sizes[key] = min(total, limit + 1)
        return sizes[key]

    return size(node)


def _load_yaml(path: Path, name: str, text: str, max_bytes: int = MAX_BYTES) -> Document | Problem:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is not None and expanded_size(node, max_bytes) > max_bytes:
            message = f"with its aliases expanded the document holds over {max_bytes:,} bytes (an alias bomb?)"
            return Problem(name, "", message, "limit")
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else None
        what = err.problem or "invalid YAML"
        return Problem(name, _pointer_before_error(text), f"YAML syntax error: {what}", "yaml", line)
    except yaml.YAMLError as err:  # pragma: no cover - defensive
        return Problem(name, "", f"YAML error: {err}", "yaml")
    except RecursionError:
        return Problem(name, "", "the document is nested too deeply to read", "limit")
    finally:
        loader.dispose()
    doc = Document(path, name, data)
    if node is not None:
        try:
            duplicate = _walk(node, "", doc.lines)
        except RecursionError:
            return Problem(name, "", "the document is nested too deeply to read", "limit")
        if duplicate is not None:
            ptr, line = duplicate
            return Problem(name, ptr, "duplicate key (YAML keeps only the last one)", "yaml", line)
    return doc


def _walk(node: yaml.Node, ptr: str, lines: dict[str, int]) -> tuple[str, int] | None:
    """Record the line of every pointer; return the first duplicate key found, if any."""
    lines[ptr] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = ptr + pointer(key)
            if key in seen:
                return child, key_node.start_mark.line + 1
            seen.add(key)
            found = _walk(value_node, child, lines)
            if found:
                return found
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            found = _walk(item, ptr + pointer(index), lines)
            if found:
                return found
    return None


def _pointer_before_error(text: str) -> str:
    """Replay the event stream up to the syntax error, tracking the path, to name where it broke."""
    # Each frame: [kind, current key or index, expecting_key]
    stack: list[list[Any]] = []
    last = ""
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent, yaml.ScalarEvent, yaml.AliasEvent)):
                parent = stack[-1] if stack else None
                if parent is not None and parent[0] == "map" and parent[2]:
                    if isinstance(event, yaml.ScalarEvent):
                        parent[1] = event.value
                    parent[2] = False
                    last = _path(stack)
                    continue
                if parent is not None and parent[0] == "seq":
                    parent[1] += 1
                    last = _path(stack)
                if parent is not None and parent[0] == "map":
                    parent[2] = True
                if isinstance(event, yaml.MappingStartEvent):
                    stack.append(["map", None, True])
                elif isinstance(event, yaml.SequenceStartEvent):
                    stack.append(["seq", -1, False])
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                stack.pop()
                if stack and stack[-1][0] == "map":
                    stack[-1][2] = True
    except yaml.YAMLError:
        return last
    return last


def _path(stack: list[list[Any]]) -> str:
    tokens = [frame[1] for frame in stack if frame[1] is not None and frame[1] != -1]
    return pointer(*tokens)
