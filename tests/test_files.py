"""Reading a course before building it: the headers the catalogue lists first."""

from __future__ import annotations

from autograd_tutor.lesson.files import BUNDLED, Header, read
from autograd_tutor.lesson.loader import build
from autograd_tutor.lesson.problems import Problem


def test_the_headers_of_the_bundled_course_are_its_built_lessons():
    """What the first screen lists (and lays out by) is what the built lessons say."""
    shelf = read([BUNDLED])
    lessons, problems = build(shelf)
    assert not problems
    assert shelf.headers() == [Header.of(lesson) for lesson in lessons]


def test_a_header_leaves_out_what_it_cannot_read(tmp_path):
    (tmp_path / "a.yaml").write_text("id: a\ntitle: A\nlevel: 9\ntags: [x, 3]\nsummary: [no]\nsteps: {}\n")
    (tmp_path / "b.yaml").write_text("id: b\ntitle: [not, text]\n")
    (tmp_path / "c.yaml").write_text("- a list\n")
    (tmp_path / "d.yaml").write_text("id: a\ntitle: The same id again\n")
    (tmp_path / "e.yaml").write_text("id: e\ntitle: 'unclosed\n")
    shelf = read([tmp_path])
    assert shelf.headers() == [Header(str(tmp_path / "a.yaml"), "a", "A", tags=("x",))]
    unparsed = shelf.files[tmp_path / "e.yaml"]
    assert isinstance(unparsed, Problem) and "starts at 2:8" in unparsed.message


def test_building_a_shelf_reports_what_library_reports(tmp_path):
    (tmp_path / "bad.yaml").write_text("id: bad\ntitle: Bad\n")
    (tmp_path / "broken.yaml").write_text("id: [\n")
    lessons, problems = build(read([tmp_path]))
    assert lessons == []
    assert {p.file.rsplit("/", 1)[-1] for p in problems} == {"bad.yaml", "broken.yaml"}
