"""Authoring tools: `new` templates and the gallery of examples, the JSON Schema for
editors, validate's formats, and the help texts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from autograd_tutor.check import play
from autograd_tutor.cli import EXAMPLES as HELP_EXAMPLES
from autograd_tutor.cli import main
from autograd_tutor.expr.functions import PUBLIC
from autograd_tutor.lesson.files import lesson_files
from autograd_tutor.lesson.kinds import KINDS
from autograd_tutor.lesson.loader import load
from autograd_tutor.lesson.model import PROPERTIES, json_schema
from autograd_tutor.lesson.ops import OPERATIONS
from autograd_tutor.lesson.source import read_file
from autograd_tutor.session import LessonSession
from autograd_tutor.templates import EXAMPLES, SCHEMA, TEMPLATE_NAMES, available
from autograd_tutor.validate import validate

ROOT = Path(__file__).parent.parent
COURSE = lesson_files([ROOT / "lessons"])  # the lessons, not the skills file
GALLERY = sorted((ROOT / "docs" / "examples").glob("*.yaml"))


def yaml_data(path: Path) -> object:
    """A YAML file's data as the tutor reads it (`1e-5` is a number, as editors read it too)."""
    return read_file(path).data


# --- new ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [t.name for t in available()])
def test_every_template_and_example_validates_as_written(tmp_path, capsys, name):
    written = tmp_path / "course" / f"01 My {name}.yaml"
    assert main(["new", str(written), "--template", name]) == 0
    assert f"wrote {written} (" in capsys.readouterr().out
    assert validate([written]) == []
    data = yaml_data(written)
    assert data["id"] == f"01-my-{name}"
    jsonschema.validate(data, json_schema())
    assert written.read_text().splitlines()[0] == "# yaml-language-server: $schema=lesson.schema.json"


def test_new_writes_the_schema_next_to_the_lesson_once_for_a_shared_repository(tmp_path, capsys):
    first, second = tmp_path / "course" / "01-a.yaml", tmp_path / "course" / "02-b.yaml"
    assert main(["new", str(first)]) == 0
    schema = tmp_path / "course" / "lesson.schema.json"
    assert capsys.readouterr().out == (
        f"wrote {first} (template chain) and {schema} (for editors); next: autograd-tutor preview {first}\n"
    )
    assert json.loads(schema.read_text()) == json_schema()
    schema.write_text("{}")  # the author's own copy is never overwritten
    assert main(["new", str(second), "--template", "vector-mean"]) == 0
    assert capsys.readouterr().out == f"wrote {second} (example vector-mean); next: autograd-tutor preview {second}\n"
    assert schema.read_text() == "{}"
    assert "file:" not in first.read_text() and str(tmp_path) not in first.read_text()


def test_new_never_overwrites(tmp_path, capsys):
    path = tmp_path / "lesson.yaml"
    path.write_text("mine")
    assert main(["new", str(path)]) == 1
    assert "already exists" in capsys.readouterr().err
    assert path.read_text() == "mine"


def test_new_refuses_an_unknown_template(tmp_path, capsys):
    assert main(["new", str(tmp_path / "a.yaml"), "--template", "nope"]) == 1
    assert capsys.readouterr().err == (
        "autograd-tutor new: no template or example 'nope'; `autograd-tutor new --list` names them\n"
    )
    assert not (tmp_path / "a.yaml").exists()


def test_new_list_names_the_templates_and_every_example_of_the_gallery(capsys):
    assert main(["new", "--list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "templates:" and out[4] == "examples (docs/examples/):"
    assert [line.split()[0] for line in out[1:4]] == list(TEMPLATE_NAMES)
    examples = [load(file) for file in GALLERY]
    width = max(len(name) for name in (*TEMPLATE_NAMES, *(lesson.id for lesson in examples)))
    assert out[5:] == [f"  {lesson.id:<{width}}  {lesson.title}" for lesson in examples]


def test_the_package_ships_the_gallery():
    assert sorted(p.name for p in EXAMPLES.glob("*.yaml")) == [p.name for p in GALLERY]


# --- the gallery --------------------------------------------------------------------------------------


def model_answers(lesson) -> list[str | None]:
    """Each step's model answer; torch's own value where a step has none (the automatic sequence)."""
    session = LessonSession(lesson)
    answers = []
    for step in lesson.steps:
        if not step.takes_answer:
            answers.append(None)
        elif step.answer is not None:
            answers.append(step.answer)
        else:
            answers.append(json.dumps(session.expected(step.index)))
    return answers


@pytest.mark.parametrize("file", GALLERY, ids=[p.stem for p in GALLERY])
def test_every_example_validates_without_a_word_and_plays_right(file):
    assert validate([file]) == []
    lesson = load(file)
    report = play(lesson, model_answers(lesson))
    assert report["total"] > 0 and report["correct"] == report["total"], report["steps"]
    jsonschema.validate(yaml_data(file), json.loads(SCHEMA.read_text()))
    assert file.read_text().splitlines()[0] == "# yaml-language-server: $schema=../../autograd_tutor/lesson.schema.json"


def test_the_gallery_covers_every_step_kind_run_operation_and_function():
    kinds, operations, properties, functions, dtypes, asks = set(), set(), set(), set(), set(), set()
    for file in GALLERY:
        lesson = load(file)
        dtypes.add(lesson.spec.dtype)
        kinds |= {step.kind for step in lesson.steps}
        asks |= {(step.kind, step.ask) for step in lesson.steps if not step.ask or step.kind == "run"}
        for step in lesson.steps:
            if step.kind == "run":
                for op in step.target:
                    variant = getattr(op, op.key)
                    operations.add(f"{op.key}: {variant}" if variant in ("no_grad", "retain_graph") else op.key)
            if step.kind == "predict":
                properties.add(step.target.partition(".")[2] or "value")
        text = " ".join(lesson.spec.nodes.values())
        functions |= {f for f in [*PUBLIC, "pi"] if re.search(rf"\b{f}\(" if f != "pi" else r"\bpi\b", text)}
    assert kinds == set(KINDS)
    assert operations == {*OPERATIONS, "forward: no_grad", "backward: retain_graph"}
    assert properties == {*PROPERTIES, "value"}
    assert functions == {*PUBLIC, "pi"}
    assert dtypes == {"float16", "float32", "float64"}
    assert {("forward", False), ("run", True), ("run", False)} <= asks
    assert any(lesson.spec.steps is None for lesson in map(load, GALLERY))  # the automatic sequence


def test_the_gallery_covers_the_fields_of_version_1_1():
    specs = [load(file).spec for file in GALLERY]
    inputs = [i for spec in specs for i in spec.inputs.values()]
    steps = [step for spec in specs for step in spec.steps or ()]
    assert any(isinstance(i.value, list) and isinstance(i.value[0], list) for i in inputs)  # a matrix
    assert {type(i.sample).__name__ for i in inputs if i.sample is not None} == {"str", "list", "Range"}
    assert any(i.sample is not None and getattr(i.sample, "step", None) for i in inputs)
    assert any(spec.variants for spec in specs) and any(spec.tests for spec in specs)
    assert any(spec.grad_output is not None for spec in specs) and any(spec.skills for spec in specs)
    assert any(step.id for step in steps) and any(step.form != "any" for step in steps)
    assert any(step.skills for step in steps)
    assert {t.expect for spec in specs for t in spec.tests} == {"correct", "wrong", "invalid"}


def test_the_gallery_readme_describes_every_example():
    readme = (ROOT / "docs" / "examples" / "README.md").read_text()
    for file in GALLERY:
        assert f"[{file.name}]({file.name})" in readme


# --- the JSON Schema -------------------------------------------------------------------------------------


def test_the_shipped_schema_is_the_models_schema():
    assert json.loads(SCHEMA.read_text()) == json_schema()


@pytest.mark.parametrize("lesson", COURSE, ids=[p.name for p in COURSE])
def test_every_bundled_lesson_validates_against_the_json_schema(lesson):
    first = lesson.read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=../autograd_tutor/lesson.schema.json"
    assert (lesson.parent / "../autograd_tutor/lesson.schema.json").resolve() == SCHEMA.resolve()
    jsonschema.validate(yaml_data(lesson), json.loads(SCHEMA.read_text()))


GOOD = {"format": 1, "id": "a", "title": "A", "inputs": {"x": 1.0}, "nodes": {"y": "x**2"}}


@pytest.mark.parametrize(
    "bad",
    [
        {**GOOD, "format": 2},
        {**GOOD, "id": "Not An Id"},
        {**GOOD, "colour": "red"},
        {**GOOD, "steps": [{"forward": "y", "hnit": "typo"}]},
        {**GOOD, "steps": [{"run": ["jump"]}]},
        {**GOOD, "dtype": "int8"},
        {**GOOD, "inputs": {"α": 1.0}},
        {**GOOD, "nodes": {"α": "x"}},
        {**GOOD, "inputs": {"x": {"value": []}}},
        {**GOOD, "inputs": {"x": []}},
        {**GOOD, "steps": [{"run": [{"set": {"x": []}}]}]},
    ],
    ids=lambda bad: json.dumps({k: v for k, v in bad.items() if GOOD.get(k) != v}, ensure_ascii=False),
)
def test_the_schema_rejects_what_the_loader_rejects(bad):
    jsonschema.validate(GOOD, json_schema())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, json_schema())
    problems = validate_text(yaml.safe_dump(bad, allow_unicode=True))
    assert any(p.severity == "error" for p in problems)


def validate_text(text: str):
    from autograd_tutor.lesson.loader import loads
    from autograd_tutor.lesson.problems import LessonInvalid

    try:
        loads(text)
    except LessonInvalid as err:
        return err.problems
    return []


# --- help texts -------------------------------------------------------------------------------------------


def test_the_help_texts_name_files_that_exist():
    named = {m for text in HELP_EXAMPLES.values() for m in re.findall(r"lessons/[\w.-]+\.yaml", text)}
    assert named
    for path in named:
        assert (ROOT / path).is_file(), path


# --- validate's formats -------------------------------------------------------------------------------------

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
        "file": str(tmp_path / "01-broken.yaml"),
        "line": 5,
        "col": 12,
        "severity": "error",
        "message": "unknown name 'q' (names here: x)",
    }
    assert main(["validate", str(tmp_path / "02-good.yaml"), "--format", "github"]) == 0
    assert capsys.readouterr().out == ""


def test_validate_formats_a_problem_of_a_whole_path(tmp_path, capsys):
    assert main(["validate", str(tmp_path), "--format", "github"]) == 1
    assert capsys.readouterr().out == f"::error file={tmp_path}::no lesson files (*.yaml) in this directory\n"
    assert main(["validate", str(tmp_path), "--format", "json"]) == 1
    assert json.loads(capsys.readouterr().out) == [
        {
            "file": str(tmp_path),
            "line": 0,
            "col": 0,
            "severity": "error",
            "message": "no lesson files (*.yaml) in this directory",
        }
    ]


# --- the messages docs/authoring.md shows are what the commands print ------------------------------------

AUTHORING = ROOT / "docs" / "authoring.md"
SHOWN = [
    "autograd-tutor new --list",
    "autograd-tutor validate my-course/02-typos.yaml",
    "autograd-tutor validate my-course/03-answers.yaml",
    "autograd-tutor validate my-course/04-too-large.yaml",
    "autograd-tutor validate empty/",
]


def test_the_authoring_guide_shows_every_message_session_it_has():
    text = AUTHORING.read_text()
    assert sorted(
        re.findall(r"^\$ (autograd-tutor (?:validate my-course/0[2-9]\S*|validate empty/|new --list))$", text, re.M)
    ) == sorted(SHOWN)


@pytest.mark.parametrize("command", SHOWN)
def test_the_authoring_guide_shows_real_output(command, tmp_path, monkeypatch, capsys):
    from test_docs import shown_session

    text = AUTHORING.read_text()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    for name, body in re.findall(r"```yaml\n# (my-course/[\w.-]+\.yaml)\n(.*?)```", text, re.S):
        Path(name).parent.mkdir(exist_ok=True)
        Path(name).write_text(body)
    main(command.split()[1:])
    out = [line.rstrip() for line in capsys.readouterr().out.splitlines()]
    assert out == shown_session("docs/authoring.md", command)


def test_the_bundled_course_lives_next_to_the_lesson_loader():
    import autograd_tutor
    from autograd_tutor import tutor
    from autograd_tutor.lesson import files

    assert Path(autograd_tutor.__file__).parent / "lessons" == files.BUNDLED
    assert tutor.BUNDLED is files.BUNDLED  # imported there, not defined again
    for module in (ROOT / "autograd_tutor").rglob("*.py"):
        assert "tutor import BUNDLED" not in module.read_text(), module
