"""`autograd-tutor lab`: the tutor as OpenSSH's ForceCommand, one system account per student.

sshd runs this instead of a shell for every session of a `Match Group` of students
(docs/lab.md has the sshd_config block). The student is the account (the user name of
the real uid, i.e. $USER), and progress goes to DATA_DIR/students/NAME, a directory the
student owns with mode 0700: other students cannot enter it.
"""

from __future__ import annotations

import os
import pwd
import sys
from pathlib import Path

from ..progress import ProgressStore, valid_student


def run_lab(data_dir: Path, lessons: list[str]) -> int:
    def refuse(message: str) -> int:
        print(f"autograd-tutor: {message}", file=sys.stderr)
        return 1

    if "SSH_ORIGINAL_COMMAND" in os.environ:  # `ssh host ls`, sftp, scp: sshd ran us instead
        return refuse("this account runs the tutor only: no commands, sftp or scp.")
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
        store = ProgressStore.for_student(data_dir, student)
    except OSError as err:
        return refuse(f"cannot open your progress ({err}); tell your instructor.")
    try:
        from ..lesson.loader import BUNDLED, library

        course, problems = library(lessons or [BUNDLED])
        if not course:
            return refuse("no lesson to open; tell your instructor.")
        from .session import lab_app, run_until_hangup

        return run_until_hangup(lab_app(course, problems, store))
    finally:
        store.close()
