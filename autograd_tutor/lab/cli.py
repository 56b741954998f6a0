"""The lab subcommands: `serve`, `lab`, `report`, `web` and `dashboard` (see docs/lab.md).

Importing this module is cheap: the server, the app and asyncssh are imported by the
handlers, not here.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .context import Startups

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
      ForceCommand /opt/autograd-tutor/.venv/bin/python -I -m autograd_tutor lab --data-dir /srv/autograd-lab
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


WEB_EPILOG = """examples:
  autograd-tutor web --students class.txt --data-dir /srv/autograd-lab
  autograd-tutor web --students class.txt --public-url https://tutor.example.org   (behind a TLS proxy)

class.txt lists one student per line; each line without a token gets one, written back to
the file, and every student's link is printed: PUBLIC_URL/t/TOKEN. Anyone with a link is
that student: give each their own. Progress: DATA_DIR/students/NAME/progress.sqlite3, as
with serve, so report and dashboard see both. Listens on 127.0.0.1 unless --host says
otherwise; put a TLS reverse proxy in front of it for anything but a trusted network."""

DASHBOARD_EPILOG = """examples:
  autograd-tutor dashboard --data-dir /srv/autograd-lab
  autograd-tutor dashboard --data-dir /srv/autograd-lab --stuck-attempts 2 --stuck-minutes 3
keys: tab switches between students and lessons, enter shows a student's mistakes, q quits.
updates as students answer (the students' databases are watched, not polled)."""


def add_commands(sub) -> None:
    """Add `serve`, `lab`, `report`, `web` and `dashboard` to the subparsers of `autograd-tutor`."""

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
        "--max-sessions-per-student", type=int, default=2, metavar="N", help="sessions of one student (default: 2)"
    )
    p.add_argument(
        "--ready",
        type=int,
        metavar="N",
        help="tutors started ahead, so that a class connecting at once waits less (default: half of"
        " --max-sessions, at most 50; each costs the memory of a session)",
    )
    p.add_argument(
        "--max-startups",
        type=_startups,
        default=Startups(),
        metavar="START:RATE:FULL",
        help="logins pending at once, as OpenSSH's MaxStartups (default: 100:30:200)",
    )
    p.add_argument(
        "--idle-timeout", type=float, default=1800, metavar="SECONDS", help="end a session idle this long (0: never)"
    )
    p.add_argument("--login-timeout", type=float, default=30, metavar="SECONDS", help="time to log in (default: 30)")
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

    p = command("web", "serve the tutor to browsers: one link per student", WEB_EPILOG)
    p.add_argument("--students", type=Path, metavar="FILE", required=True, help="one student per line (tokens added)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port to listen on (default: 8000; 0 picks a free one)")
    p.add_argument("--public-url", metavar="URL", help="how students reach it, e.g. https://tutor.example.org")
    p.add_argument("--lessons", action="append", metavar="DIR", help="lesson directory or file (default: the course)")
    p.add_argument("--data-dir", type=Path, metavar="DIR", help="progress (default: as the tutor's)")
    p.add_argument("--max-sessions", type=int, default=100, metavar="N", help="tutors at once (default: 100)")
    p.add_argument(
        "--max-sessions-per-student", type=int, default=2, metavar="N", help="tutors of one student (default: 2)"
    )
    p.add_argument(
        "--idle-timeout", type=float, default=1800, metavar="SECONDS", help="end a tab idle this long (0: never)"
    )
    p.set_defaults(handler=_web)

    p = command("dashboard", "the instructor's live view: who is stuck, what to re-teach", DASHBOARD_EPILOG)
    p.add_argument("--data-dir", type=Path, metavar="DIR", help="the lab's data directory")
    p.add_argument("--lessons", action="append", metavar="DIR", help="the lessons, for titles (default: the course)")
    p.add_argument("--stuck-attempts", type=int, default=3, metavar="N", help="wrong answers on one step (default: 3)")
    p.add_argument("--stuck-minutes", type=float, default=5, metavar="M", help="minutes on one step (default: 5)")
    p.add_argument(
        "--away-minutes", type=float, default=20, metavar="M", help="no activity for this long: away (default: 20)"
    )
    p.set_defaults(handler=_dashboard)


def _data_dir(path: Path | None) -> Path:
    from ..progress import default_data_dir

    return (path or default_data_dir()).expanduser().resolve()


def _startups(text: str) -> Startups:
    try:
        return Startups.parse(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _serve(args: argparse.Namespace) -> int:
    for flag, value, least in (
        ("--max-sessions", args.max_sessions, 1),
        ("--max-sessions-per-student", args.max_sessions_per_student, 1),
        ("--idle-timeout", args.idle_timeout, 0),
        ("--login-timeout", args.login_timeout, 1),
        ("--ready", 0 if args.ready is None else args.ready, 0),
    ):
        if value < least:
            print(f"autograd-tutor serve: {flag} must be at least {least}", file=sys.stderr)
            return 2
    from ..lesson.files import BUNDLED
    from .context import ServeOptions
    from .server import serve

    lessons = tuple(str(Path(p).resolve()) for p in args.lessons or [BUNDLED])
    options = ServeOptions(
        host=args.host,
        port=args.port,
        data_dir=_data_dir(args.data_dir),
        lessons=lessons,
        authorized_keys=args.authorized_keys,
        open=args.open,
        max_sessions=args.max_sessions,
        max_sessions_per_student=args.max_sessions_per_student,
        ready=min(50, args.max_sessions // 2) if args.ready is None else min(args.ready, args.max_sessions),
        startups=args.max_startups,
        idle_timeout=args.idle_timeout,
        login_timeout=args.login_timeout,
    )
    return serve(options)


def _lab(args: argparse.Namespace) -> int:
    from .login import run_isolated

    return run_isolated(args.data_dir.expanduser().resolve(), args.lessons or [])


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


def _web(args: argparse.Namespace) -> int:
    for flag, value, least in (
        ("--max-sessions", args.max_sessions, 1),
        ("--max-sessions-per-student", args.max_sessions_per_student, 1),
        ("--idle-timeout", args.idle_timeout, 0),
    ):
        if value < least:
            print(f"autograd-tutor web: {flag} must be at least {least}", file=sys.stderr)
            return 2
    if args.public_url and not args.public_url.startswith(("http://", "https://")):
        print("autograd-tutor web: --public-url must start with http:// or https://", file=sys.stderr)
        return 2
    from ..lesson.files import BUNDLED
    from .web import WebOptions, serve_web

    options = WebOptions(
        host=args.host,
        port=args.port,
        data_dir=_data_dir(args.data_dir),
        lessons=tuple(str(Path(p).resolve()) for p in args.lessons or [BUNDLED]),
        students=args.students,
        public_url=args.public_url,
        max_sessions=args.max_sessions,
        max_sessions_per_student=args.max_sessions_per_student,
        idle_timeout=args.idle_timeout,
    )
    return serve_web(options)


def _dashboard(args: argparse.Namespace) -> int:
    if args.stuck_attempts < 1 or args.stuck_minutes <= 0 or args.away_minutes <= 0:
        print("autograd-tutor dashboard: the thresholds must be positive", file=sys.stderr)
        return 2
    data_dir = _data_dir(args.data_dir)
    if not data_dir.is_dir():
        print(f"autograd-tutor dashboard: {data_dir}: no such directory", file=sys.stderr)
        return 1
    from .classroom import Thresholds
    from .dashboard import run_dashboard

    thresholds = Thresholds(args.stuck_attempts, args.stuck_minutes * 60, args.away_minutes * 60)
    return run_dashboard(data_dir, args.lessons, thresholds)
