"""The shape of the package: a domain core without UI, torch imported in one place and
only when needed, and no code evaluation anywhere."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import LESSONS

import autograd_tutor

PACKAGE = Path(autograd_tutor.__file__).parent
CORE = [
    *(p for d in ("lesson", "expr", "engine", "grade", "mastery") for p in sorted((PACKAGE / d).rglob("*.py"))),
    *(PACKAGE / f for f in ("session.py", "check.py", "validate.py")),
]
ALL = sorted(PACKAGE.rglob("*.py"))


def _imports(file: Path) -> set[str]:
    """Every module a file imports (absolute names; relative ones resolved in the package)."""
    tree = ast.parse(file.read_text(encoding="utf-8"), str(file))
    package = file.relative_to(PACKAGE.parent).with_suffix("").parts[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "__import__":
            if node.args and isinstance(node.args[0], ast.Constant):
                found.add(str(node.args[0].value))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            found.add(str(node.args[0].value))
    return found


def _top(module: str) -> str:
    return module.split(".")[0]


def test_the_core_exists():
    assert len(CORE) >= 20
    assert all(f.exists() for f in CORE)


@pytest.mark.parametrize("file", CORE, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_the_domain_core_does_not_import_textual_or_the_ui(file):
    imports = _imports(file)
    assert not {m for m in imports if _top(m) in ("textual", "rich")}
    assert not {m for m in imports if m.startswith("autograd_tutor.ui")}


def test_only_torch_import_imports_torch():
    importers = {str(f.relative_to(PACKAGE)) for f in ALL if any(_top(m) == "torch" for m in _imports(f))}
    assert importers == {"engine/torch_import.py"}


FORBIDDEN_CALLS = {"eval", "exec", "sympify", "parse_expr", "__import__"}


def _forbidden_calls(file: Path) -> list[str]:
    return _forbidden_calls_in(file.read_text(encoding="utf-8"), str(file.relative_to(PACKAGE)))


def _forbidden_calls_in(text: str, label: str) -> list[str]:
    tree = ast.parse(text, label)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
            if name in FORBIDDEN_CALLS:
                found.append(f"{label}:{node.lineno}: {name}(")
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name in ("sympify", "parse_expr"):
                    found.append(f"{label}:{node.lineno}: import {alias.name}")
    return found


def test_nothing_in_the_package_evaluates_code():
    found = [hit for f in ALL for hit in _forbidden_calls(f)]
    assert found == []


def test_the_scans_would_see_what_they_look_for():
    sample = "\n".join(
        [
            "import sympy",
            "sympy.sympify('x')",
            "from sympy.parsing.sympy_parser import parse_expr",
            "eval('1')",
            "exec('1')",
        ]
    )
    assert sorted(_forbidden_calls_in(sample, "s")) == [
        "s:2: sympify(",
        "s:3: import parse_expr",
        "s:4: eval(",
        "s:5: exec(",
    ]
    module = PACKAGE / "engine" / "graph.py"
    assert "autograd_tutor.engine.torch_import" in _imports(module)
    assert "autograd_tutor.lesson.computation" in _imports(module)


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120, check=False
    )


def test_importing_the_core_and_loading_a_lesson_imports_neither_torch_nor_textual():
    result = _run(
        f"""
        import sys
        import autograd_tutor.lesson.loader as loader
        import autograd_tutor.session
        import autograd_tutor.check
        import autograd_tutor.validate
        import autograd_tutor.cli
        lesson = loader.load({str(LESSONS / "chain.yaml")!r})
        lessons, problems = loader.library([{str(LESSONS)!r}])
        assert lesson.steps and lessons and not problems
        session = autograd_tutor.session.LessonSession(lesson)
        assert session.step.kind == "forward"
        leaked = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "textual"))
        print(",".join(leaked))
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_steps_and_schema_commands_do_not_import_torch():
    result = _run(
        f"""
        import contextlib, io, sys
        from autograd_tutor.cli import main
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(["steps", {str(LESSONS / "mean.yaml")!r}, "--json"]) == 0
            assert main(["schema"]) == 0
        print(",".join(sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "textual"))))
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_torch_comes_with_the_first_answer():
    result = _run(
        f"""
        import sys
        from autograd_tutor.lesson.loader import load
        from autograd_tutor.session import LessonSession
        session = LessonSession(load({str(LESSONS / "chain.yaml")!r}))
        before = "torch" in sys.modules
        session.check("16")
        print(before, "torch" in sys.modules, "textual" in sys.modules)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "False"]
