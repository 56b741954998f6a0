"""YAML text -> plain data plus the position of every key and value.

Read with PyYAML's safe loader at the node level, so that each problem found
later (by pydantic or by the lesson checks) can be reported at `line:col`.
Duplicate keys, which PyYAML would silently accept, are errors here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml

from .problems import Problem

# libyaml's parser when PyYAML has it (it keeps marks too), else the pure-Python one
SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_BYTES = 1_000_000
MAX_NODES = 20_000
MAX_DEPTH = 32  # a lesson nests 5 deep; libyaml's composer recurses, so deep input must stop here

Path = tuple  # of str keys and int indices


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


def read(file: str, text: str) -> Source:
    if len(text.encode("utf-8", "replace")) > MAX_BYTES:
        raise SourceError(Problem(file, 1, 1, f"file too large (over {MAX_BYTES} bytes)"))
    _check_depth(file, text)
    loader = SafeLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = f"YAML: {err.problem or err.context}"
        if err.context and err.context_mark and err.problem:  # where the unfinished part began
            start = err.context_mark
            message += f" ({err.context} that starts at {start.line + 1}:{start.column + 1})"
        raise SourceError(Problem(file, line, col, message)) from None
    except yaml.YAMLError as err:
        raise SourceError(Problem(file, 1, 1, f"YAML: {err}")) from None
    finally:
        loader.dispose()
    source = Source(file, None)
    if node is None:
        raise SourceError(Problem(file, 1, 1, "the file is empty"))
    budget = [MAX_NODES]
    source.data = _convert(node, (), source, loader, budget)
    return source


def _check_depth(file: str, text: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH, reading events only (no recursion)."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=SafeLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    line, col = event.start_mark.line + 1, event.start_mark.column + 1
                    raise SourceError(Problem(file, line, col, f"nested more than {MAX_DEPTH} deep"))
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        return  # a syntax error: composing reports it with its place


def _convert(node: yaml.Node, path: Path, source: Source, loader: SafeLoader, budget: list[int]) -> object:
    budget[0] -= 1
    if budget[0] < 0:
        raise SourceError(Problem(source.file, node.start_mark.line + 1, node.start_mark.column + 1, "too many values"))
    source.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.ScalarNode):
        source.scalars[path] = node
        try:
            return loader.construct_object(node)
        except yaml.constructor.ConstructorError as err:
            mark = err.problem_mark or node.start_mark
            raise SourceError(Problem(source.file, mark.line + 1, mark.column + 1, f"YAML: {err.problem}")) from None
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, (*path, i), source, loader, budget) for i, item in enumerate(node.value)]
    result: dict = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            mark = key_node.start_mark
            raise SourceError(Problem(source.file, mark.line + 1, mark.column + 1, "a key must be a plain word"))
        key = loader.construct_object(key_node)
        key = key if isinstance(key, str) else str(key)
        here = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
        if key in result:
            raise SourceError(Problem(source.file, *here, f"duplicate key {key!r}"))
        source.keys[(*path, key)] = here
        result[key] = _convert(value_node, (*path, key), source, loader, budget)
    return result
