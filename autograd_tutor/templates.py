"""`autograd-tutor new`: a valid, commented lesson to start from."""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).parent / "templates"
SCHEMA = Path(__file__).parent / "lesson.schema.json"
NAMES = ("chain", "neuron", "behaviour")


def lesson_id(path: Path) -> str:
    """An id from a file name: `02-My Lesson.yaml` -> `02-my-lesson`."""
    slug = re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-")
    return slug or "new-lesson"


def write(path: Path, template: str = "chain") -> Path:
    """Write the template to `path` (a new .yaml file) with an id from its name."""
    if path.suffix not in (".yaml", ".yml"):
        path = path.with_suffix(".yaml")
    if path.exists():
        raise FileExistsError(f"{path} already exists; choose another name")
    text = (TEMPLATES / f"{template}.yaml").read_text(encoding="utf-8")
    editor = f"# yaml-language-server: $schema={SCHEMA.resolve().as_uri()}\n"  # completion in editors
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(editor + text.replace("LESSON_ID", lesson_id(path)), encoding="utf-8")
    return path
