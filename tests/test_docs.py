"""The outputs shown in README.md and docs/authoring.md are what the commands print."""

from __future__ import annotations

import re
from pathlib import Path

from autograd_tutor.cli import main

ROOT = Path(__file__).parent.parent


def shown_session(doc: str, command: str) -> list[str]:
    """The lines a doc shows after `$ COMMAND`, up to the next prompt or the block's end."""
    text = (ROOT / doc).read_text()
    start = text.index(f"$ {command}\n") + len(command) + 3
    block = text[start : text.index("```", start)]
    return [line.rstrip() for line in re.split(r"\n\$ ", block)[0].splitlines()]


def run(capsys, *args: str) -> list[str]:
    main(list(args))
    return [line.rstrip() for line in capsys.readouterr().out.splitlines()]


def test_readme_check_session(capsys, tmp_path):
    shown = shown_session("README.md", "autograd-tutor check lessons/03-chain-rule.yaml --answers answers.yaml")
    answers = []
    for line in shown:
        m = re.match(r"\s+\d+\s+\w+\s+(\w+)\s*(.*)$", line)
        if m:
            answers.append(m[2] or None if m[1] != "shown" else None)
    (tmp_path / "answers.yaml").write_text("".join(f"- {a!r}\n" if a else "- null\n" for a in answers))
    out = run(capsys, "check", str(ROOT / "lessons/03-chain-rule.yaml"), "--answers", str(tmp_path / "answers.yaml"))
    assert out == shown


def test_authoring_tutorial(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    new = "autograd-tutor new my-course/01-exp-chain.yaml"
    assert run(capsys, *new.split()[1:]) == shown_session("docs/authoring.md", new)
    assert run(capsys, "validate", "my-course/") == []
    answers = (ROOT / "docs/authoring.md").read_text().split("# answers/01-exp-chain.yaml\n")[1].split("```")[0]
    Path("answers").mkdir()
    Path("answers/01-exp-chain.yaml").write_text(answers)
    check = "autograd-tutor check my-course/01-exp-chain.yaml --answers answers/01-exp-chain.yaml"
    assert run(capsys, *check.split()[1:]) == shown_session("docs/authoring.md", check)[:6]

    lesson = Path("my-course/01-exp-chain.yaml")
    lesson.write_text(lesson.read_text().replace("  z: exp(y)", "  z: exp(q)"))
    assert run(capsys, "validate", "my-course/") == [
        "my-course/01-exp-chain.yaml:18:10: error: unknown name 'q' (names here: x, y)"
    ]
    assert (
        "my-course/01-exp-chain.yaml:18:10: error: unknown name 'q' (names here: x, y)"
        in (ROOT / "docs/authoring.md").read_text()
    )
