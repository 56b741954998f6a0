"""The authorized-keys file of `serve`: each key names its student; lines that cannot be
trusted are reported and let nobody in."""

from __future__ import annotations

import os

import asyncssh

from autograd_tutor.lab.keys import read_authorized_keys

from .conftest import keygen, public


def key_of(path) -> asyncssh.SSHKey:
    return asyncssh.read_public_key(path.with_suffix(".pub"))


def test_the_student_comes_from_the_key(tmp_path):
    a, b, c, d, e = (keygen(tmp_path, n) for n in ("a", "b", "c", "d", "e"))
    body = {name: public(k).rsplit(" ", 1)[0] for name, k in zip("abcde", (a, b, c, d, e))}
    file = tmp_path / "students.keys"
    file.write_text(
        "# the lab of tuesday\n"
        f'environment="STUDENT=alice" {body["a"]} alice@laptop\n'
        f"{body['b']} bob\n"
        f'restrict,environment="LANG=C",environment="STUDENT=carol",no-pty {body["c"]} whatever comment\n'
        f"{body['d']} dave@laptop\n"  # names nobody: skipped
        f'from="10.0.0.0/8" {body["e"]} erin\n'  # an option the server cannot honour: skipped
        f"{body['a']} mallory\n"  # alice's key again: skipped, stays alice's
        "ssh-ed25519 not-base64 frank\n"
        f'environment="STUDENT=../root" {body["e"]} x\n'
    )
    keys = read_authorized_keys(file)
    assert keys.student(key_of(a)) == "alice"
    assert keys.student(key_of(b)) == "bob"
    assert keys.student(key_of(c)) == "carol"
    assert keys.student(key_of(d)) is None
    assert keys.student(key_of(e)) is None
    assert len(keys.students) == 3
    problems = "\n".join(keys.problems)
    assert f"{file}:5: the key names no student" in problems
    assert f"{file}:6: option 'from' is not supported" in problems
    assert f"{file}:7: this key is already alice's" in problems
    assert f"{file}:8: cannot read the key" in problems
    assert f"{file}:9: '../root' is not a valid student name" in problems


def test_the_file_is_read_again_when_it_changes(tmp_path):
    a, b = keygen(tmp_path, "a"), keygen(tmp_path, "b")
    file = tmp_path / "students.keys"
    file.write_text(f"{public(a).rsplit(' ', 1)[0]} ann\n")
    keys = read_authorized_keys(file)
    assert not keys.reload_if_changed()
    assert keys.student(key_of(b)) is None
    file.write_text(f"{public(a).rsplit(' ', 1)[0]} ann\n{public(b).rsplit(' ', 1)[0]} ben\n")
    os.utime(file, ns=(1, 1))  # a different stamp even within the clock's resolution
    assert keys.reload_if_changed()
    assert keys.student(key_of(b)) == "ben"
