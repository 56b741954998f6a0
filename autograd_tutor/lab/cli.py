"""The lab subcommands: `serve`, `lab` and `report` (see docs/lab.md).

Importing this module is cheap: the server, the app and asyncssh are imported by the
handlers, not here.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

SERVE_EPILOG = """examples:
  autograd-tutor serve --authorized-keys students.keys --data-dir /srv/autograd-lab
  autograd-tutor serve --open --host 0.0.0.0 --port 2222     (trusted classroom network only)

students connect with `ssh -p PORT NAME@HOST`. With --authorized-keys each key names its
student, either with an option or as the line's comment:
  environment="STUDENT=alice" ssh-ed25519 AAAA...
  ssh-ed25519 AAAA... bob
the file is re-read when it changes. Progress: DATA_DIR/students/NAME/progress.sqlite3;
the host key: DATA_DIR/ssh_host_ed25519_key (made on first start)."""

LAB_EPILOG = """for OpenSSH's ForceCommand (see docs/lab.md), e.g. in sshd_config:
  Match Group tutor-students
      ForceCommand /opt/autograd-tutor/bin/autograd-tutor lab --data-dir /srv/autograd-lab
      DisableForwarding yes
      PermitUserRC no
the student is the account's user name ($USER); progress goes to
DATA_DIR/students/$USER/progress.sqlite3, in a directory only the student can enter."""

REPORT_EPILOG = """examples:
  autograd-tutor report --data-dir /srv/autograd-lab
  autograd-tutor report --data-dir /srv/autograd-lab --format csv > progress.csv
  autograd-tutor report --data-dir /srv/autograd-lab --summary --format json
  autograd-tutor report --data-dir /srv/autograd-lab --skills --format csv > skills.csv
  autograd-tutor report --data-dir /srv/autograd-lab --skills --summary   # the class's weakest skills
with `autograd-tutor lab` each student's directory is theirs alone: run report as root."""


def add_commands(sub) -> None:
    """Add `serve`, `lab` and `report` to the subparsers of `autograd-tutor`."""

    def command(name: str, help: str, epilog: str) -> argparse.ArgumentParser:
        parser = sub.add_parser(
            name, help=help, description=help, epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter
        )
        return parser

    p = command("serve", "run an SSH server: every student gets their own tutor", SERVE_EPILOG)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=2222, help="port to listen on (default: 2222; 0 picks a free one)")
    p.add_argument("--lessons", action="append", metavar="DIR", help="lesson directory or file (default: the course)")
    p.add_argument("--data-dir", type=Path, metavar="DIR", help="progress and the host key (default: as the tutor's)")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--authorized-keys", type=Path, metavar="FILE", help="students' public keys, one per student")
    who.add_argument("--open", action="store_true", help="no authentication: the user name is the student")
    p.add_argument("--max-sessions", type=int, default=100, metavar="N", help="sessions at once (default: 100)")
    p.add_argument(
        "--idle-timeout", type=float, default=1800, metavar="SECONDS", help="end a session idle this long (0: never)"
    )
    p.set_defaults(handler=_serve)

    p = command("lab", "the tutor for OpenSSH's ForceCommand: the student is $USER", LAB_EPILOG)
    p.add_argument("--data-dir", type=Path, metavar="DIR", required=True, help="the lab's data directory")
    p.add_argument("--lessons", action="append", metavar="DIR", help="lesson directory or file (default: the course)")
    p.set_defaults(handler=_lab)

    p = command("report", "per student: lessons (status, score, mistakes) and skills (mastery)", REPORT_EPILOG)
    p.add_argument("--data-dir", type=Path, metavar="DIR", help="the lab's data directory")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.add_argument("--summary", action="store_true", help="only the per-lesson summary (and the class's skills)")
    p.add_argument("--skills", action="store_true", help="only the skills: per student, or the class's weakest")
    p.add_argument("--lessons", action="append", metavar="DIR", help="the lessons, for titles (default: the course)")
    p.set_defaults(handler=_report)


def _data_dir(path: Path | None) -> Path:
    from ..progress import default_data_dir

    return (path or default_data_dir()).expanduser().resolve()


def _serve(args: argparse.Namespace) -> int:
    if args.max_sessions < 1:
        print("autograd-tutor serve: --max-sessions must be at least 1", file=sys.stderr)
        return 2
    if args.idle_timeout < 0:
        print("autograd-tutor serve: --idle-timeout must be 0 (never) or more", file=sys.stderr)
        return 2
    from ..lesson.loader import BUNDLED
    from .server import ServeOptions, serve

    lessons = tuple(str(Path(p).resolve()) for p in args.lessons or [BUNDLED])
    options = ServeOptions(
        host=args.host,
        port=args.port,
        data_dir=_data_dir(args.data_dir),
        lessons=lessons,
        authorized_keys=args.authorized_keys,
        open=args.open,
        max_sessions=args.max_sessions,
        idle_timeout=args.idle_timeout,
    )
    return serve(options)


def _lab(args: argparse.Namespace) -> int:
    from .login import run_lab

    return run_lab(args.data_dir.expanduser().resolve(), args.lessons or [])


def _report(args: argparse.Namespace) -> int:
    from .report import build, render

    data_dir = _data_dir(args.data_dir)
    if not data_dir.is_dir():
        print(f"autograd-tutor report: {data_dir}: no such directory", file=sys.stderr)
        return 1
    report = build(data_dir, args.lessons)
    for problem in report.problems:
        print(problem, file=sys.stderr)
    sys.stdout.write(render(report, args.format, args.summary, args.skills))
    return 0
