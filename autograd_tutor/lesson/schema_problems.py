"""Schema errors (pydantic's) -> located problems in the lesson format's own words.

Each message says what the field needs (`needs at least 2 items`, `expected true
or false`), never pydantic's wording; a misspelt field gets the closest known
one (`did you mean 'nodes'?`), and a field indented under another is named as
such. Text from the file is quoted short and escaped (`quote`).
"""

from __future__ import annotations

import difflib
import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from .model import LessonSpec
from .problems import Problem, quote
from .source import Source
from .values import reads_as_number

_TYPES = {
    "string_type": "expected text",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "finite_number": "expected a finite number",
    "list_type": "expected a list: [a, b], or lines that start with '- '",
    "dict_type": "expected a mapping: lines of 'name: value'",
    "model_type": "expected a mapping of fields: lines of 'field: value'",
    "model_attributes_type": "expected a mapping of fields: lines of 'field: value'",
    "string_too_short": "must not be empty",
}
_NUMBERS = ("int_type", "int_parsing", "float_type", "float_parsing", "value_error")
_UNION_TAGS = ("float", "int", "str", "bool", "list", "dict")


def schema_problems(err: ValidationError, source: Source) -> list[Problem]:
    """One problem per place, in the order pydantic found them."""
    errors = [(_data_path(e["loc"], source.data), e) for e in err.errors()]
    unknown = [path for path, e in errors if e["type"] == "extra_forbidden"]
    misplaced = _misplaced([path for path, _ in errors], source)
    messages: dict[tuple, list[str]] = {}  # (path, at the key, plain|named|described) -> what is wrong there

    def add(place: tuple, text: str) -> None:
        texts = messages.setdefault(place, [])
        if text not in texts:
            texts.append(text)

    for nested, home in misplaced.items():
        above = repr(nested[len(home)])
        add((nested, True, "plain"), f"{nested[-1]!r} is indented under {above}: move it left, in line with {above}")
    homes = {(*home, nested[-1]) for nested, home in misplaced.items()}
    for path, e in errors:
        kind = e["type"]
        if path in homes or any(path[: len(n)] == n for n in misplaced):
            continue  # said above: a field indented too far
        if kind == "missing":
            if not _misspelt(path, unknown):  # else the misspelling says it
                add((path, False, "plain"), f"missing required field {quote(path[-1])}{_described(path)}")
        elif kind == "extra_forbidden":
            add((path, True, "plain"), _unknown_field(path))
        else:  # named by its path; pydantic's kinds also get the field's description, the model's own messages not
            style = "named" if kind in ("value_error", "assertion_error") else "described"
            add((path, False, style), _wording(e, path, source))
    problems = []
    for (path, key, style), texts in messages.items():
        text = _either(texts)
        if style != "plain" and path:
            text = ".".join(str(p) for p in path) + ": " + text + (_described(path) if style == "described" else "")
        problems.append(source.at(path, text, key=key))
    return problems


def _misplaced(paths: list[tuple], source: Source) -> dict[tuple, tuple]:
    """Keys on the way to an error that are fields of a mapping further out, where they
    are absent: `nodes:` indented under `inputs:`. Their key path -> that mapping's path."""
    found: dict[tuple, tuple] = {}
    for path in paths:
        for end in range(2, len(path) + 1):
            key_path, key = path[:end], path[end - 1]
            if key_path not in source.keys or not isinstance(key, str):
                continue
            for depth in range(end - 1):
                home = key_path[:depth]
                data = _data_at(source.data, home)
                if isinstance(data, dict) and key not in data and key in _fields_at(home):
                    found.setdefault(key_path, home)
                    break
    return found


def _data_at(data: object, path: tuple) -> object:
    for part in path:
        data = data[part]
    return data


def _either(texts: list[str]) -> str:
    """What a union's members say at one place: `expected true or false, or 'outcome'`."""
    first, *others = texts
    if not first.startswith(("expected ", "must be ")):
        return first
    alternatives = (t.removeprefix("expected ").removeprefix("must be ") for t in others)
    return ", or ".join([first, *alternatives])


def _wording(e: dict, path: tuple, source: Source) -> str:
    """What the value at `path` needs, for one pydantic error there."""
    kind, ctx, value = e["type"], e.get("ctx") or {}, e.get("input")
    scalar = source.scalars.get(path)
    if kind == "string_type" and scalar is not None and not scalar.style and value is not None:
        read_as = "true or false" if isinstance(value, bool) else "a number"
        return f"expected text; YAML reads {quote(scalar.value)} as {read_as}: put it in quotes"
    if kind in _NUMBERS and isinstance(value, str) and reads_as_number(value):
        return f"expected a number, got the text {quote(value)}: write the number without quotes"
    if kind in _TYPES:
        return _TYPES[kind]
    if kind in ("value_error", "assertion_error"):
        return str(ctx.get("error", e["msg"]))
    if kind == "literal_error":
        expected = ctx["expected"]
        return f"expected {expected}" if " or " in expected else f"must be {expected}"
    if kind in ("too_short", "too_long"):
        bound = ctx["min_length"] if kind == "too_short" else ctx["max_length"]
        noun = "entr" if ctx.get("field_type") == "Dictionary" else "item"
        noun += ("ies" if bound != 1 else "y") if noun == "entr" else "s" * (bound != 1)
        need = "needs at least" if kind == "too_short" else "takes at most"
        return f"{need} {bound} {noun}"
    bounds = {"greater_than_equal": "at least", "less_than_equal": "at most", "greater_than": "more than"}
    for name, words in {**bounds, "less_than": "less than"}.items():
        if kind == name:
            (limit,) = ctx.values()
            return f"must be {words} {limit}"
    if kind == "string_pattern_mismatch":
        if path == ("id",):
            return "an id uses lowercase letters, digits and '-' (like chain-rule-sin)"
        return "a name uses letters, digits and _, and does not start with a digit"
    return "not a valid value here"


def _unknown_field(path: tuple) -> str:
    key = str(path[-1])
    fields = _fields_at(path[:-1])
    close = difflib.get_close_matches(key, fields, n=1, cutoff=0.6)
    if close:
        return f"unknown field {quote(key)}: did you mean {close[0]!r}?"
    if fields:
        return f"unknown field {quote(key)} (fields here: {', '.join(fields)})"
    return f"unknown field {quote(key)}"


def _misspelt(path: tuple, unknown: list[tuple]) -> bool:
    """Whether a missing field is a misspelling of an unknown key next to it."""
    parent, field = path[:-1], path[-1]
    return any(u[:-1] == parent and difflib.get_close_matches(str(u[-1]), [field], n=1, cutoff=0.6) for u in unknown)


def _data_path(loc: tuple, data: object) -> tuple:
    """The part of a pydantic location that indexes into the data (drops union tags)."""
    path: list = []
    for part in loc:
        if (
            isinstance(data, dict)
            and part in data
            or isinstance(data, list)
            and isinstance(part, int)
            and part < len(data)
        ):
            data = data[part]
        elif isinstance(data, dict) and isinstance(part, str) and part not in _UNION_TAGS and "[" not in part:
            path.append(part)  # a missing or extra key
            break
        else:
            continue
        path.append(part)
    return tuple(path)


# --- the models, walked along a data path -------------------------------------------------------


def _members(annotation: Any) -> list[Any]:
    """The types an annotation admits: Annotated and unions unwrapped."""
    if get_origin(annotation) is Annotated:
        return _members(get_args(annotation)[0])
    if get_origin(annotation) in (Union, types.UnionType):
        return [m for arg in get_args(annotation) for m in _members(arg)]
    return [annotation]


def _field(path: tuple) -> FieldInfo | None:
    """The model field that holds the value at `path`, if one does."""
    annotation: Any = LessonSpec
    info = None
    for part in path:
        info, following = None, None
        for member in _members(annotation):
            origin = get_origin(member)
            if isinstance(member, type) and issubclass(member, BaseModel) and part in member.model_fields:
                info = member.model_fields[part]
                following = info.annotation
            elif origin is list and isinstance(part, int) or origin is dict and isinstance(part, str):
                following = get_args(member)[-1]
            if following is not None:
                break
        if following is None:
            return None
        annotation = following
    return info


def _fields_at(path: tuple) -> list[str]:
    """The field names of the model at `path` (empty where there is none)."""
    annotation: Any = LessonSpec if not path else getattr(_field(path), "annotation", None)
    if path and annotation is None:  # inside a list or a mapping of models
        parent = _field(path[:-1])
        annotation = parent.annotation if parent else None
        annotation = next((get_args(m)[-1] for m in _members(annotation) if get_origin(m) in (list, dict)), None)
    for member in _members(annotation):
        if isinstance(member, type) and issubclass(member, BaseModel):
            return list(member.model_fields)
    return []


def _described(path: tuple) -> str:
    info = _field(path)
    return f" ({info.description})" if info is not None and info.description else ""
