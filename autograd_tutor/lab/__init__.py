"""Lab sessions: many students on one server, each with their own tutor and progress.

- `server`  `autograd-tutor serve`: an SSH server (asyncssh); each session's tutor is
            forked from a warm parent (`forker`) onto its own pseudo-terminal.
- `forker`  the warm parent: torch, sympy, Textual and the lessons loaded once.
- `session` one student's tutor: the app as a lab runs it, started and stopped.
- `keys`    the authorized-keys file: which key is which student.
- `login`   `autograd-tutor lab`: the tutor as OpenSSH's ForceCommand, one system account each.
- `report`  `autograd-tutor report`: who finished what, and the mistakes to re-teach.
- `cli`     the three subcommands.

Progress is kept one database per student, DATA_DIR/students/NAME/progress.sqlite3
(`ProgressStore.for_student`), in both modes.
"""
