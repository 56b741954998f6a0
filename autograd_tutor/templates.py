"""`autograd-tutor new`: a valid, commented lesson to start from.

A lesson starts from a template (`templates/`: chain, neuron, behaviour) or from
one of the gallery's examples (`docs/examples/`, shipped in the package as
`examples/`), named by its id. Next to the new lesson, `new` writes the format's
JSON Schema once (`lesson.schema.json`), and the lesson's first line points at it
by that relative name, so that editors complete and check it in any checkout of
the course.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
EXAMPLES = HERE / "examples"
SCHEMA = HERE / "lesson.schema.json"
TEMPLATE_NAMES = ("chain", "neuron", "behaviour")
EDITOR_LINE = "# yaml-language-server: $schema="  # read by the YAML language server (VS Code, Neovim, Helix, Zed)
_ID = re.compile(r"^id: .*$", re.MULTILINE)


@dataclass(frozen=True)
class Template:
    name: str
    file: Path
    title: str
    kind: str  # template | example


def available() -> list[Template]:
    """The templates, then the gallery's examples in file order."""
    from .lesson.loader import load

    found = [Template(name, TEMPLATES / f"{name}.yaml", "", "template") for name in TEMPLATE_NAMES]
    for file in sorted(EXAMPLES.glob("*.yaml")):
        lesson = load(file)
        found.append(Template(lesson.id, file, lesson.title, "example"))
    return [t if t.title else Template(t.name, t.file, _title(t.file), t.kind) for t in found]


def _title(file: Path) -> str:
    match = re.search(r"^title: (.*)$", file.read_text(encoding="utf-8"), re.MULTILINE)
    return match[1] if match else ""


def lesson_id(path: Path) -> str:
    """An id from a file name: `02-My Lesson.yaml` -> `02-my-lesson`."""
    slug = re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-")
    return slug or "new-lesson"


def write(path: Path, name: str = "chain") -> tuple[Path, Template, Path | None]:
    """Write template or example `name` to `path` (a new .yaml file) with an id from
    its name; returns the lesson's path, what it came from, and the schema's path when
    it was written too."""
    if path.suffix not in (".yaml", ".yml"):
        path = path.with_suffix(".yaml")
    if path.exists():
        raise FileExistsError(f"{path} already exists; choose another name")
    chosen = {t.name: t for t in available()}.get(name)
    if chosen is None:
        raise LookupError(f"no template or example {name!r}; `autograd-tutor new --list` names them")
    text = chosen.file.read_text(encoding="utf-8")
    text = "".join(line for line in text.splitlines(keepends=True) if not line.startswith(EDITOR_LINE))
    text = _ID.sub(f"id: {lesson_id(path)}", text.replace("LESSON_ID", lesson_id(path)), count=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{EDITOR_LINE}{SCHEMA.name}\n" + text, encoding="utf-8")
    schema = path.parent / SCHEMA.name
    if schema.exists():
        return path, chosen, None
    schema.write_bytes(SCHEMA.read_bytes())
    return path, chosen, schema
