"""Authoring tools: `new` templates, the JSON Schema for editors, validate's formats."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from autograd_tutor.cli import main
from autograd_tutor.lesson.loader import lesson_files
from autograd_tutor.lesson.model import json_schema
from autograd_tutor.templates import NAMES, SCHEMA
from autograd_tutor.validate import validate

ROOT = Path(__file__).parent.parent
COURSE = lesson_files([ROOT / "lessons"])  # the lessons, not the skills file


@pytest.mark.parametrize("template", NAMES)
def test_every_template_validates_as_written(tmp_path, capsys, template):
    path = tmp_path / "course" / f"01 My {template}.yaml"
    assert main(["new", str(path), "--template", template]) == 0
    written = tmp_path / "course" / f"01 My {template}.yaml"
    assert "wrote" in capsys.readouterr().out
    assert validate([written]) == []
    data = yaml.safe_load(written.read_text())
    assert data["id"] == f"01-my-{template}"
    jsonschema.validate(data, json_schema())
    first = written.read_text().splitlines()[0]
    assert first == f"# yaml-language-server: $schema={SCHEMA.resolve().as_uri()}"


def test_new_never_overwrites(tmp_path, capsys):
    path = tmp_path / "lesson.yaml"
    path.write_text("mine")
    assert main(["new", str(path)]) == 1
    assert "already exists" in capsys.readouterr().err
    assert path.read_text() == "mine"


def test_the_shipped_schema_is_the_models_schema():
    assert json.loads(SCHEMA.read_text()) == json_schema()


@pytest.mark.parametrize("lesson", COURSE, ids=[p.name for p in COURSE])
def test_every_bundled_lesson_validates_against_the_json_schema(lesson):
    first = lesson.read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=../autograd_tutor/lesson.schema.json"
    assert (lesson.parent / "../autograd_tutor/lesson.schema.json").resolve() == SCHEMA.resolve()
    jsonschema.validate(yaml.safe_load(lesson.read_text()), json.loads(SCHEMA.read_text()))


def test_the_schema_rejects_what_the_loader_rejects():
    schema = json_schema()
    good = {"format": 1, "id": "a", "title": "A", "inputs": {"x": 1.0}, "nodes": {"y": "x**2"}}
    jsonschema.validate(good, schema)
    for bad in (
        {**good, "format": 2},
        {**good, "id": "Not An Id"},
        {**good, "colour": "red"},
        {**good, "steps": [{"forward": "y", "hnit": "typo"}]},
        {**good, "steps": [{"run": ["jump"]}]},
        {**good, "dtype": "int8"},
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)


BROKEN = "format: 1\nid: broken\ntitle: Broken\ninputs: {x: 1.0}\nnodes: {y: q}\n"


def test_validate_formats(tmp_path, capsys):
    (tmp_path / "01-broken.yaml").write_text(BROKEN)
    (tmp_path / "02-good.yaml").write_text(BROKEN.replace("id: broken", "id: good").replace("y: q", "y: x"))
    assert main(["validate", str(tmp_path), "--format", "github"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [f"::error file={tmp_path / '01-broken.yaml'},line=5,col=12::unknown name 'q' (names here: x)"]
    assert main(["validate", str(tmp_path), "--format", "json"]) == 1
    (problem,) = json.loads(capsys.readouterr().out)
    assert problem == {
        "file": str(tmp_path / "01-broken.yaml"), "line": 5, "col": 12, "severity": "error",
        "message": "unknown name 'q' (names here: x)",
    }
    assert main(["validate", str(tmp_path / "02-good.yaml"), "--format", "github"]) == 0
    assert capsys.readouterr().out == ""
