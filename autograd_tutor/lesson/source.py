"""YAML files -> plain data plus the position of every key and value.

The text is parsed by PyYAML's safe parser into nodes, and the nodes are turned
into data here, by rules that cannot raise, so that whatever a file holds, each
problem is reported at `line:col`:

- a plain scalar is null, a boolean, an integer, a number or text as YAML 1.1
  reads it, except that `1e-3` is a number (as in YAML 1.2 and in editors) and
  a date stays text (`2001-13-45` is a title, not a bad date);
- a key is the text as written (`on:` is the name "on", not a boolean);
- tags (`!!int x`, `!foo`), merge keys (`<<:`), aliases that contain their own
  anchor, integers longer than MAX_DIGITS and duplicate keys are refused.

Everything is bounded before work: only regular files are read, at most
MAX_BYTES of them; nesting is at most MAX_DEPTH deep and a file holds at most
MAX_NODES values (an alias counts as often as it is used).
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path as FilePath

import yaml

from .problems import Problem, quote

MAX_BYTES = 1_000_000
MAX_NODES = 20_000
MAX_DEPTH = 32  # a lesson nests 5 deep; libyaml's composer recurses, so deep input must stop here
MAX_DIGITS = 100  # of an integer: Python's int() refuses more than 4,300, and a lesson needs a handful

Path = tuple  # of str keys and int indices

_YAML = "tag:yaml.org,2002:"
_OWN = "autograd-tutor:"  # the tags this reader gives; any other tag was written in the file
_FLOAT_12 = re.compile(r"[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+")  # 1e-3, 2.5E4


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml's parser when PyYAML has it
    """Resolves untagged nodes to this reader's own tags."""

    def resolve(self, kind, value, implicit):
        tag = super().resolve(kind, value, implicit).removeprefix(_YAML)
        if kind is yaml.ScalarNode and implicit[0] and tag == "str" and _FLOAT_12.fullmatch(value):
            tag = "float"
        elif tag in ("timestamp", "value"):
            tag = "str"
        return _OWN + tag


@dataclass
class Source:
    file: str
    data: object
    values: dict[Path, tuple[int, int]] = field(default_factory=dict)  # path -> (line, col), 1-based
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)
    scalars: dict[Path, yaml.ScalarNode] = field(default_factory=dict)

    def at(self, path: Path, message: str, severity: str = "error", *, key: bool = False, offset: int = 0) -> Problem:
        """A problem at `path`, or at its nearest ancestor that has a position.

        `offset` is a column inside a one-line scalar (an expression's column)."""
        path = tuple(path)
        table = self.keys if key and path in self.keys else self.values
        while path and path not in table:
            path = path[:-1]
        line, col = table.get(path, (1, 1))
        if offset and path in self.scalars:
            node = self.scalars[path]
            if node.start_mark.line == node.end_mark.line:
                col += offset + (1 if node.style in ("'", '"') else 0)
        return Problem(self.file, line, col, message, severity)


class SourceError(Exception):
    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem


def read_file(path: str | FilePath) -> Source:
    """Read a YAML file: a regular file of at most MAX_BYTES, UTF-8, then `read`."""
    return read(str(path), file_text(path))


def file_text(path: str | FilePath) -> str:
    file = str(path)

    def fail(message: str, line: int = 0, col: int = 0) -> SourceError:  # no position: the file as a whole
        return SourceError(Problem(file, line, col, message))

    try:  # O_NONBLOCK: opening a FIFO must not wait for a writer
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as err:
        raise fail(f"cannot read: {err.strerror or err}") from None
    with os.fdopen(fd, "rb") as f:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise fail("a directory, not a YAML file")
        if not stat.S_ISREG(mode):
            raise fail("not a regular file (a device, a pipe or a socket): give a .yaml file")
        try:
            data = f.read(MAX_BYTES + 1)
        except OSError as err:
            raise fail(f"cannot read: {err.strerror or err}") from None
    if len(data) > MAX_BYTES:
        raise fail(f"file too large (over {MAX_BYTES:,} bytes)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        before = data[: err.start]
        line = before.count(b"\n") + 1
        col = len(before[before.rfind(b"\n") + 1 :].decode("utf-8")) + 1
        message = f"not UTF-8: the byte 0x{data[err.start]:02x} here is not a character; save the file as UTF-8"
        raise fail(message, line, col) from None


def read(file: str, text: str) -> Source:
    if len(text) > MAX_BYTES:
        raise SourceError(Problem(file, 1, 1, f"file too large (over {MAX_BYTES:,} bytes)"))
    _check_depth(file, text)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as err:
        raise SourceError(_syntax_problem(file, text, err)) from None
    except yaml.YAMLError as err:
        raise SourceError(Problem(file, 1, 1, f"YAML: {err}")) from None
    finally:
        loader.dispose()
    if node is None:
        raise SourceError(Problem(file, 1, 1, "the file is empty"))
    return _Builder(file).source(node)


def _syntax_problem(file: str, text: str, err: yaml.MarkedYAMLError) -> Problem:
    mark = err.problem_mark or err.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = err.problem or err.context or "not valid YAML"
    at = text.splitlines()[line - 1][col - 1 : col] if mark and line <= len(text.splitlines()) else ""
    if at == "\t" or "tab character" in problem:
        return Problem(file, line, col, "tab character: YAML indents with spaces")
    message = f"YAML: {problem}"
    if err.context and err.context_mark and err.problem:  # where the unfinished part began
        start = err.context_mark
        message += f" ({err.context} that starts at {start.line + 1}:{start.column + 1})"
    return Problem(file, line, col, message)


def _check_depth(file: str, text: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH, reading events only (no recursion)."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    line, col = event.start_mark.line + 1, event.start_mark.column + 1
                    raise SourceError(Problem(file, line, col, f"nested more than {MAX_DEPTH} deep"))
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        if mark is None or "maximum nesting depth" not in str(err):
            return  # a syntax error: composing reports it with its place
        # the libyaml of newer PyYAML wheels (6.0.4) refuses 1,000 levels while scanning
        # ahead, before the events reach MAX_DEPTH: the text before that holds the place
        _check_depth(file, text[: mark.index])
        raise SourceError(Problem(file, mark.line + 1, mark.column + 1, f"nested more than {MAX_DEPTH} deep")) from None


_BOOLS = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}


class _Builder:
    """Nodes -> data, each value's place noted; every refusal is a located SourceError."""

    def __init__(self, file: str):
        self.file = file
        self.budget = MAX_NODES
        self.open: set[int] = set()  # the collections being built (an alias to one is a loop)
        self.out = Source(file, None)

    def fail(self, node: yaml.Node, message: str) -> SourceError:
        return SourceError(Problem(self.file, node.start_mark.line + 1, node.start_mark.column + 1, message))

    def source(self, root: yaml.Node) -> Source:
        self.out.data = self.value(root, ())
        return self.out

    def value(self, node: yaml.Node, path: Path) -> object:
        self.budget -= 1
        if self.budget < 0:
            raise self.fail(node, f"too many values (at most {MAX_NODES:,})")
        if len(path) > MAX_DEPTH:  # deep through aliases
            raise self.fail(node, f"nested more than {MAX_DEPTH} deep")
        if not node.tag.startswith(_OWN):
            raise self.fail(node, f"tags like {quote(node.tag.replace(_YAML, '!!'))} are not part of the lesson format")
        self.out.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.ScalarNode):
            self.out.scalars[path] = node
            return self.scalar(node)
        if id(node) in self.open:
            raise self.fail(node, "this list or mapping contains an alias of itself (a loop)")
        self.open.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self.value(item, (*path, i)) for i, item in enumerate(node.value)]
            return self.mapping(node, path)
        finally:
            self.open.discard(id(node))

    def mapping(self, node: yaml.MappingNode, path: Path) -> dict:
        result: dict = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.fail(key_node, "a key must be a plain word")
            if key_node.tag == _OWN + "merge":
                raise self.fail(key_node, "merge keys (<<) are not part of the lesson format: write the fields out")
            if not key_node.tag.startswith(_OWN):
                raise self.fail(key_node, "tags are not part of the lesson format")
            key = key_node.value
            if key in result:
                raise self.fail(key_node, f"duplicate key {quote(key)}")
            self.out.keys[(*path, key)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            result[key] = self.value(value_node, (*path, key))
        return result

    def scalar(self, node: yaml.ScalarNode) -> object:
        kind, text = node.tag.removeprefix(_OWN), node.value
        if kind == "null":
            return None
        if kind == "bool":
            return _BOOLS[text.lower()]
        if kind in ("int", "float"):
            if kind == "int" and len(text) > MAX_DIGITS:
                raise self.fail(node, f"an integer of {len(text):,} characters (at most {MAX_DIGITS})")
            construct = yaml.SafeLoader.construct_yaml_int if kind == "int" else yaml.SafeLoader.construct_yaml_float
            try:
                return construct(_SCALARS, node)
            except (ValueError, OverflowError):
                raise self.fail(node, f"{quote(text)} is not a number YAML can read") from None
        if kind == "merge":
            raise self.fail(node, "merge keys (<<) are not part of the lesson format: write the fields out")
        return text


_SCALARS = yaml.SafeLoader("")  # its construct_yaml_int/float read only the node's text
