"""`autograd-tutor lab`: the tutor as OpenSSH's ForceCommand, one system account per student.

sshd runs this instead of a shell for every session of a `Match Group` of students
(docs/lab.md has the sshd_config block). The student is the account (the user name of
the real uid, i.e. $USER), and progress goes to DATA_DIR/students/NAME, a directory the
student owns with mode 0700: other students cannot enter it.

The tutor runs as the student, in an environment the student's SSH client partly sets,
so it runs as `python -I` (no PYTHON* variable, no user site-packages, no script directory
on the path) with an environment rebuilt from scratch: `PYTHONINSPECT`, `PYTHONPATH`,
`TEXTUAL_*` or a crafted TERM have no effect.
"""

from __future__ import annotations

import os
import pwd
import sys
from collections.abc import Mapping
from pathlib import Path

from ..progress import ProgressStore, valid_student
from .session import safe_term


def refuse(message: str) -> int:
    print(f"autograd-tutor: {message}", file=sys.stderr)
    return 1


def run_isolated(data_dir: Path, lessons: list[str]) -> int:
    """`autograd-tutor lab`: the tutor in `python -I` with nothing but `lab_environment()`.
    Anything else runs itself again so (exec: never returns, unless that fails). Started
    as `python -I -m autograd_tutor lab` (the documented ForceCommand) no PYTHON* variable
    is ever read; as `autograd-tutor lab`, a PYTHONPATH's sitecustomize has had its chance
    before the exec."""
    if "SSH_ORIGINAL_COMMAND" in os.environ:  # `ssh host ls`, sftp, scp: sshd ran us instead
        return refuse("this account runs the tutor only: no commands, sftp or scp.")
    clean = lab_environment(os.environ)
    if sys.flags.isolated and dict(os.environ) == clean:
        return run_lab(data_dir, lessons)
    argv = [sys.executable, "-I", "-m", "autograd_tutor", "lab", "--data-dir", str(data_dir)]
    for lesson in lessons:
        argv += ["--lessons", lesson]
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execve(sys.executable, argv, clean)
    except OSError as err:
        return refuse(f"cannot start the tutor ({err}); tell your instructor.")


def lab_environment(env: Mapping[str, str]) -> dict[str, str]:
    """The tutor's environment: TERM checked, the account's own names, nothing else."""
    try:
        account = pwd.getpwuid(os.getuid())
        name, home = account.pw_name, account.pw_dir
    except KeyError:
        name, home = "", "/"
    clean = {"TERM": safe_term(env.get("TERM")), "LANG": "C.UTF-8", "PATH": "/usr/bin:/bin", "HOME": home}
    clean.update({"USER": name, "LOGNAME": name})
    if env.get("COLORTERM") in ("truecolor", "24bit"):
        clean["COLORTERM"] = "truecolor"
    return clean


def run_lab(data_dir: Path, lessons: list[str]) -> int:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        return refuse("the tutor needs a terminal: connect with plain `ssh`, without -T.")
    try:
        student = pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return refuse("this account has no name.")
    if not valid_student(student):
        return refuse(f"{student!r} cannot be a student name (letters, digits, '.', '_', '-').")
    os.umask(0o077)
    try:
        store = ProgressStore.for_student(data_dir, student, fallback=True)
    except OSError as err:
        return refuse(f"cannot open your progress ({err}); tell your instructor.")
    try:
        from ..lesson.files import BUNDLED
        from ..lesson.loader import library

        course, problems = library(lessons or [BUNDLED])
        if not course:
            return refuse("no lesson to open; tell your instructor.")
        from .session import lab_app, run_until_hangup

        code = run_until_hangup(lab_app(course, problems, store))
    finally:
        store.close()
    if store.failed:
        return refuse(f"your progress was not saved. {store.problem or ''}")
    return code
