"""The `autograd-tutor` command."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import __version__

EXAMPLES = {
    "check": """examples:
  autograd-tutor check lessons/03-chain-rule.yaml --answers answers.yaml
  autograd-tutor check lessons/03-chain-rule.yaml --answers answers.yaml --json

answers.yaml is a YAML list, one entry per step (null for a step that takes no answer):
  - "16"
  - null
  - 2*x*cos(x**2)
exit status: 0 all correct, 1 some not, 2 the lesson (or answers file) is invalid""",
    "validate": """examples:
  autograd-tutor validate lessons/
  autograd-tutor validate my-lesson.yaml --format json
problems are printed as FILE:LINE:COL: error|warning: message
exit status: 0 no errors (warnings allowed), 1 at least one error""",
    "try": """examples:
  autograd-tutor try lessons/03-chain-rule.yaml 4 "2*x*cos(x**2)" "cos(x**2)" "2*x"
  autograd-tutor try lesson.yaml 2 "x+4" --variant 3 --json
STEP is the step's index as `steps` lists it (from 0); each answer is judged as
the app would judge it there, and printed with its verdict, diagnosis and feedback""",
    "steps": """examples:
  autograd-tutor steps lessons/03-chain-rule.yaml
  autograd-tutor steps lessons/03-chain-rule.yaml --json""",
    "schema": """examples:
  autograd-tutor schema > lesson.schema.json""",
    "new": """examples:
  autograd-tutor new my-course/01-exp-chain.yaml
  autograd-tutor new my-course/02-neuron.yaml --template neuron
  autograd-tutor new my-course/03-grad.yaml --template behaviour
  autograd-tutor new my-course/04-mean.yaml --template vector-mean    (an example of the gallery)
  autograd-tutor new --list
the id comes from the file name; the lesson validates as it is, ready to edit.
The first lesson of a directory also gets lesson.schema.json, for editors.""",
    "preview": """examples:
  autograd-tutor preview my-course/01-exp-chain.yaml
  autograd-tutor preview lesson.yaml --poll      on a network file system
the app reloads the lesson on every save and stays on the same step""",
}


COMMANDS = (
    *("check", "validate", "steps", "try", "schema", "new", "preview"),
    *("serve", "lab", "report", "web", "dashboard"),
)

APP_EPILOG = """commands (each has --help):
  check      play a lesson headlessly with answers from a file
  validate   check lesson files and report every problem at FILE:LINE:COL
  steps      list a lesson's steps
  try        judge answers to one step, as the app would
  schema     print the JSON Schema of the lesson format
  new        write a new lesson from a template
  preview    open a lesson in the app, reloaded on every save
  serve      run an SSH server: every student gets their own tutor
  lab        the tutor as OpenSSH's ForceCommand (the student is $USER)
  report     the lab's progress, per student and per lesson, and skills
  web        serve the tutor to browsers: one link per student
  dashboard  the instructor's live view: who is stuck, what to re-teach
  practice   about ten steps of finished lessons, weakest skills first

examples:
  autograd-tutor                      the bundled course
  autograd-tutor my-lessons/          a directory of lessons
  autograd-tutor lesson.yaml --plain  one lesson, line by line

keys in the app: Enter submits, ctrl+t hint, ctrl+r reveal, ctrl+b back,
ctrl+n next, ctrl+l plot, ctrl+o intro, ctrl+g restart, Esc lessons,
ctrl+p command palette, ctrl+q quit; on the summary: s saves a .py, j a notebook;
in the catalogue: ctrl+t practise (weakest skills first), ctrl+o the skills view"""


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "practice":
        return _tutor(argv[1:], practice=True)
    if argv and argv[0] in COMMANDS:
        return _command(argv)
    return _tutor(argv)


PRACTICE_HELP = """About ten steps of the lessons you have finished, on new numbers, the
weakest skills first (see docs/mastery.md)."""
PRACTICE_EPILOG = """examples:
  autograd-tutor practice
  autograd-tutor practice my-lessons/ --data-dir ~/tutor-data
keys: Enter submits (and, on an answered item, brings the next), ctrl+t hint,
ctrl+r reveal, ctrl+n next item, Esc ends the practice and shows which skills moved"""


def _tutor(argv: list[str], practice: bool = False) -> int:
    parser = argparse.ArgumentParser(
        prog="autograd-tutor practice" if practice else "autograd-tutor",
        description=PRACTICE_HELP if practice else "A terminal tutor for PyTorch autograd and the chain rule.",
        epilog=PRACTICE_EPILOG if practice else APP_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help="lesson files or directories (default: the course)")
    parser.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="where progress is kept (default: $AUTOGRAD_TUTOR_DATA_DIR or the platform's user data directory)",
    )
    parser.add_argument("--student", metavar="NAME", help="whose progress (default: your user name)")
    if not practice:
        parser.add_argument("--plain", action="store_true", help="line by line, for screen readers and dumb terminals")
    parser.add_argument("--ansi", action="store_true", help="use the terminal's own 16-colour palette")
    parser.add_argument(
        "--authored",
        action="store_true",
        help="play every lesson as its author wrote it: its numbers and its options' order (else you get your own)",
    )
    parser.add_argument("--version", action="version", version=f"autograd-tutor {__version__}")
    args = parser.parse_args(argv)
    from .tutor import run

    return run(
        args.paths,
        data_dir=args.data_dir,
        student=args.student,
        plain=getattr(args, "plain", False),
        ansi=args.ansi,
        authored=args.authored,
        practice=practice,
    )


def _command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="autograd-tutor")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name,
            help=help,
            description=help,
            epilog=EXAMPLES[name],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    p = command("check", "play a lesson headlessly with answers from a file")
    p.add_argument("lesson", help="a lesson file")
    p.add_argument("--answers", required=True, metavar="FILE", help="a YAML list with one answer per step")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--variant", type=int, default=0, metavar="K", help="play variant K (default 0: as authored)")
    p = command("try", "judge answers to one step of a lesson, as the app would")
    p.add_argument("lesson", help="a lesson file")
    p.add_argument("step", type=int, help="the step's index, from 0, as `steps` lists it")
    p.add_argument("answers", nargs="+", metavar="ANSWER", help="answers to judge")
    p.add_argument("--variant", type=int, default=0, metavar="K", help="variant K (default 0: the authored values)")
    p.add_argument("--json", action="store_true", help="print a JSON list")
    p = command("validate", "check lesson files and report every problem at FILE:LINE:COL")
    p.add_argument("paths", nargs="+", metavar="PATH", help="lesson files or directories")
    p.add_argument(
        "--format",
        choices=("text", "json", "github"),
        default="text",
        help="text (FILE:LINE:COL: ...), json, or github (GitHub Actions annotations)",
    )
    p = command("steps", "list a lesson's steps (written or automatic)")
    p.add_argument("lesson", help="a lesson file")
    p.add_argument("--json", action="store_true", help="print a JSON list")
    command("schema", "print the JSON Schema of the lesson format")
    p = command("new", "write a new lesson from a template (valid as it is)")
    p.add_argument("path", type=Path, nargs="?", help="the new lesson file")
    p.add_argument("--template", default="chain", metavar="NAME", help="a template or an example (default: chain)")
    p.add_argument("--list", action="store_true", help="name the templates and the gallery's examples")
    p = command("preview", "open a lesson in the app and reload it on every save")
    p.add_argument("lesson", type=Path, help="a lesson file")
    p.add_argument("--poll", action="store_true", help="poll for changes (network file systems)")
    p.add_argument("--ansi", action="store_true", help="use the terminal's own 16-colour palette")
    from .lab.cli import add_commands

    add_commands(sub)  # serve, lab, report, web, dashboard (each sets its own handler)

    args = parser.parse_args(_answers_as_text(argv))
    try:
        handlers = {
            "check": _check,
            "validate": _validate,
            "steps": _steps,
            "try": _try,
            "schema": _schema,
            "new": _new,
            "preview": _preview,
        }
        return (getattr(args, "handler", None) or handlers[args.command])(args)
    except BrokenPipeError:
        return 0


def _answers_as_text(argv: list[str]) -> list[str]:
    """`try`'s answers may start with a minus (`-t/p`, `-7.7`): argparse would read them
    as options, so they get a leading space, which the answer parser ignores."""
    if argv[:1] != ["try"]:
        return argv
    options = {"--json", "--variant", "-h", "--help"}
    out, after_variant = [], False
    for arg in argv:
        protect = arg.startswith("-") and arg not in options and not after_variant and arg != "--"
        out.append(" " + arg if protect else arg)
        after_variant = arg == "--variant"
    return out


def _load_or_report(path: str):
    from .lesson.loader import load
    from .lesson.problems import LessonInvalid

    try:
        return load(path)
    except LessonInvalid as err:
        for problem in err.problems:
            print(problem, file=sys.stderr)
        return None


def _validate(args: argparse.Namespace) -> int:
    from .validate import validate

    problems = validate(args.paths)
    if args.format == "json":
        print(json.dumps([p.as_dict() for p in problems], indent=2))
    elif args.format == "github":
        for p in problems:
            message = p.message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
            where = f"file={p.file},line={p.line},col={p.col}" if p.line else f"file={p.file}"
            print(f"::{p.severity} {where}::{message}")
    else:
        for problem in problems:
            print(problem)
    return 1 if any(p.severity == "error" for p in problems) else 0


def _steps(args: argparse.Namespace) -> int:
    lesson = _load_or_report(args.lesson)
    if lesson is None:
        return 2
    rows = [{"index": s.index, "kind": s.kind, "target": s.target_json(), "prompt": s.prompt} for s in lesson.steps]
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        for row in rows:
            target = json.dumps(row["target"], ensure_ascii=False) if row["target"] is not None else ""
            print(f"{row['index']:>3}  {row['kind']:<9} {target}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from .check import play, read_answers
    from .lesson.source import SourceError
    from .validate import check_lesson

    lesson = _load_or_report(args.lesson)
    if lesson is None:
        return 2
    errors = [p for p in check_lesson(lesson) if p.severity == "error"]
    if errors:  # the lesson is invalid, as validate would say
        for problem in errors:
            print(problem, file=sys.stderr)
        return 2
    try:
        answers = read_answers(args.answers, len(lesson.steps))
    except SourceError as err:
        print(err.problem, file=sys.stderr)
        return 2
    if args.variant < 0:
        print(f"autograd-tutor check: --variant must be 0 or more, not {args.variant}", file=sys.stderr)
        return 2
    report = play(lesson, answers, args.variant)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, allow_nan=False))
    else:
        for step in report["steps"]:
            line = f"{step['index']:>3}  {step['kind']:<9} {step['verdict']:<8}"
            if step["answer"] is not None:
                line += f" {step['answer']}"
            print(line)
            if step["feedback"]:
                print(f"       {step['feedback']}")
        print(f"{report['correct']}/{report['total']} correct")
    return 0 if report["correct"] == report["total"] else 1


def _try(args: argparse.Namespace) -> int:
    from .session import LessonSession

    lesson = _load_or_report(args.lesson)
    if lesson is None:
        return 2
    if not 0 <= args.step < len(lesson.steps) or not lesson.steps[args.step].takes_answer:
        asked = [str(s.index) for s in lesson.steps if s.takes_answer]
        message = f"autograd-tutor try: step {args.step} takes no answer (steps that do: {', '.join(asked)})"
        print(message, file=sys.stderr)
        return 2
    session = LessonSession(lesson, variant=max(args.variant, 0))
    while session.index < args.step:
        session.advance()
    rows = []
    for answer in (a.strip() for a in args.answers):
        verdict = session.check(answer)
        rows.append(
            {
                "answer": answer,
                "verdict": verdict.status,
                "diagnosis": verdict.diagnosis,
                "feedback": verdict.feedback,
                "read_as": verdict.read_as,
            }
        )
    step = lesson.steps[args.step]
    if args.json:
        report = {"step": args.step, "variant": session.variant, "expected": session.expected(), "answers": rows}
        print(json.dumps(report, ensure_ascii=False))
    else:
        target = json.dumps(step.target_json(), ensure_ascii=False)
        says = "the right option is" if step.kind == "choose" else "torch says"
        print(f"step {args.step} ({step.kind} {target}), variant {session.variant}: {says} {session.truth().text}")
        for row in rows:
            tag = f" [{row['diagnosis']}]" if row["diagnosis"] else ""
            print(f"  {row['verdict']:<8}{tag} {row['answer']}")
            if row["feedback"]:
                print(f"           {row['feedback']}")
    return 0


def _schema(args: argparse.Namespace) -> int:
    from .lesson.model import json_schema

    print(json.dumps(json_schema(), indent=2, ensure_ascii=False))
    return 0


def _new(args: argparse.Namespace) -> int:
    from .templates import available, write

    if args.list:
        found = available()
        width = max(len(t.name) for t in found)
        for kind, heading in (("template", "templates"), ("example", "examples (docs/examples/)")):
            print(f"{heading}:")
            for t in found:
                if t.kind == kind:
                    print(f"  {t.name:<{width}}  {t.title}")
        return 0
    if args.path is None:
        print("autograd-tutor new: give the new lesson's file (or --list)", file=sys.stderr)
        return 2
    try:
        path, source, schema = write(args.path, args.template)
    except (FileExistsError, LookupError, OSError) as err:
        print(f"autograd-tutor new: {err}", file=sys.stderr)
        return 1
    also = f" and {schema} (for editors)" if schema else ""
    print(f"wrote {path} ({source.kind} {source.name}){also}; next: autograd-tutor preview {path}")
    return 0


def _preview(args: argparse.Namespace) -> int:
    import tempfile

    from .progress import ProgressStore
    from .ui.preview import PreviewApp

    if not args.lesson.is_file():
        print(f"autograd-tutor preview: {args.lesson}: no such file", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="autograd-tutor-preview-") as scratch:
        store = ProgressStore(Path(scratch), "author")  # a preview keeps no progress
        try:
            PreviewApp(args.lesson, store, poll=args.poll, ansi=args.ansi).run()
        finally:
            store.close()
    return 0
