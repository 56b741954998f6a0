"""Lab sessions: many students on one server, each with their own tutor and progress.

- `server`    `autograd-tutor serve`: an SSH server (asyncssh), its limits and accept loop.
- `channel`   one SSH session channel and its tutor's pty (a small state machine).
- `web`       `autograd-tutor web`: the tutor in a browser; `tokens`: the students' links.
- `spawner`   the `Spawner` protocol the servers talk to, and `ForkSpawner`, the handle on:
- `parent`    the warm parent: torch, sympy, Textual and the lessons loaded once; it forks
              each tutor, and keeps some started ahead; `protocol`: their typed messages.
- `session`   what a tutor process runs: the app as a lab runs it, started and stopped.
- `context`   what a running server shares: options, spawner, sessions, log, tasks.
- `keys`      the authorized-keys file: which key is which student.
- `login`     `autograd-tutor lab`: the tutor as OpenSSH's ForceCommand, one system account each.
- `report`    `autograd-tutor report`: who finished what, and the mistakes to re-teach.
- `classroom`, `watch`, `dashboard`   `autograd-tutor dashboard`: the live view, fed by the
              file system's change notices.
- `cli`       the subcommands.

Progress is kept one database per student, DATA_DIR/students/NAME/progress.sqlite3
(`ProgressStore.for_student`), whichever way a student comes in.
"""
