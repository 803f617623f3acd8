"""The course as a website (musiclib/website.py): built from executed notebooks, checked in
headless Chromium.

The two site tests execute nothing: they build their sites from the executed notebooks of the
tiny-profile course runs that ``tests/test_course_on_your_music.py`` starts in the background
(the instructor notebooks on a labelled folder; the student versions on GTZAN's Kaggle
layout), and wait for those runs (``tests/conftest.py`` orders them). They need Debian's
``chromium`` and ``chromium-driver`` (``.ci/run`` installs them): without them a site test
skips, or fails where ``CI`` is set.
"""

from __future__ import annotations

import html
import inspect
import os
import re
import time
from pathlib import Path

import pytest

import musiclib as ml
from musiclib import website

ROOT = Path(__file__).resolve().parent.parent


def _need_chromium():
    if website.find_chromium() is None:
        message = "no chromium / chromedriver: apt-get install chromium chromium-driver (.ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def _text(page: str) -> str:
    """A page's words, with Sphinx's typographic quotes and dashes made plain again."""
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    for fancy, plain in (("\u2019", "'"), ("\u2018", "'"), ("\u201c", '"'), ("\u201d", '"'),
                         ("\u2014", "---"), ("\u2013", "--"), ("\u2026", "...")):
        text = text.replace(fancy, plain)
    return " ".join(text.split())


# ------------------------------------------------------------------ quick checks, no browser
def test_readme_sections_route_to_their_pages():
    title, intro, sections = website.readme_sections((ROOT / "README.md").read_text())
    headings = [h for h, _ in sections]
    assert title.startswith("musiclib")
    assert intro and "## " not in intro
    for h in website.INSTRUCTOR_SECTIONS + website.LIBRARY_SECTIONS:
        assert h in headings, f"README has no section {h!r} (musiclib/website.py routes it)"
    assert "Notebooks" in headings  # the course part: the landing page


def test_public_names_follow_all_or_what_the_module_defines():
    names, from_all = website.public_names(ml.splits)
    assert from_all and names == [n for n in ml.splits.__all__]
    names, from_all = website.public_names(ml.course)  # no __all__
    assert not from_all
    assert "run_course" in names and "NotebookRun" in names
    assert "Settings" not in names and "Path" not in names  # imported, not its own
    assert all(not n.startswith("_") for n in names)


def test_broken_links_and_external_resources_are_found(tmp_path):
    (tmp_path / "a.html").write_text(
        '<html><head><script src="https://cdn.example/x.js"></script></head><body id="top">'
        '<a href="b.html#here">ok</a><a href="b.html#gone">bad anchor</a><a href="c.html">missing</a>'
        '<a href="https://example.org/">outside</a><a href="#top">self</a></body></html>')
    (tmp_path / "b.html").write_text('<html><body><h1 id="here">b</h1></body></html>')
    assert website.broken_links(tmp_path) == ["a.html: b.html#gone (no such anchor)", "a.html: c.html"]
    assert website.external_resources(tmp_path) == ["a.html: https://cdn.example/x.js"]


# ------------------------------------------------------------------ the sites, in Chromium
def _common_checks(site: Path, course: Path, *, api: bool = True) -> None:
    assert website.external_resources(site) == []
    assert website.broken_links(site) == []
    notebooks = sorted(p.stem for p in course.glob("[0-9][0-9]_*.ipynb"))
    assert len(notebooks) == len(ml.course.find_notebooks(ROOT / "notebooks"))
    # previous / next run through the notebooks in order
    pages = ["index"] + notebooks + ["results"]
    for before, page, after in zip(pages, pages[1:], pages[2:]):
        html = (site / f"{page}.html").read_text()
        assert re.search(rf'class="left-prev"[^>]*href="{before}.html"|href="{before}.html"[^>]*class="left-prev"', html), page
        assert re.search(rf'class="right-next"[^>]*href="{after}.html"|href="{after}.html"[^>]*class="right-next"', html), page
    # the API reference: every public name of every module, with its docstring
    for short in website.api_modules() if api else []:
        module = getattr(ml, short)
        html = (site / "api" / f"{short}.html").read_text()
        names, _ = website.public_names(module)
        assert names, short
        text = _text(html)
        for name in names:
            assert f'id="musiclib.{short}.{name}"' in html, f"musiclib.{short}.{name}"
            obj = getattr(module, name)
            doc = inspect.getdoc(obj) if callable(obj) else None
            if doc:
                # the first line's words up to its first markup (a role, a literal, emphasis)
                first = re.split(r"[`*:\\|]", doc.split("\n")[0])[0].strip()[:40]
                assert " ".join(first.split()) in text, f"musiclib.{short}.{name}: {first!r}"


@pytest.mark.slow
def test_site_of_the_course_works_in_chromium(background_courses, tmp_path):
    _need_chromium()
    status, log, course = background_courses.result("labelled")
    assert status == 0, log[-3000:]
    start = time.perf_counter()
    index = website.build_site(course, tmp_path / "site")
    built = time.perf_counter() - start
    site = index.parent
    _common_checks(site, course)
    assert (site / "instructors.html").is_file()
    assert "For instructors" in (site / "instructors.html").read_text()
    assert "Exercises" in (site / "instructors.html").read_text()
    # the results table of the run, and the README's course part on the landing page
    assert "notebooks" in (site / "results.html").read_text().lower()
    landing = (site / "index.html").read_text()
    assert "The two commands" in landing and 'href="01_audio_basics.html"' in landing
    shot = site / website.SCREENSHOT_NAME
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    start = time.perf_counter()
    problems = website.check_in_browser(site)
    checked = time.perf_counter() - start
    print(f"site built in {built:.0f} s, checked in Chromium in {checked:.0f} s")
    assert problems == []
    # what the browser saw: audio players, figures and formulas are there to be checked
    notebook = (site / "01_audio_basics.html").read_text()
    assert "<audio" in notebook and "<img" in notebook and 'class="math' in notebook


@pytest.mark.slow
def test_student_site_has_no_solutions_and_works_in_chromium(background_courses, tmp_path):
    _need_chromium()
    status, log, course = background_courses.result("student_on_gtzan_kaggle")
    assert status == 0, log[-3000:]
    # without the API reference: the same as the instructors' site's, checked there
    index = website.build_site(course, tmp_path / "site", student=True, api=False, take_screenshot=False)
    site = index.parent
    _common_checks(site, course, api=False)
    assert not (site / "instructors.html").exists()
    assert "student edition" in (site / "index.html").read_text()
    for page in site.rglob("*.html"):
        text = page.read_text()
        assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text, page
    assert "YOUR CODE HERE" in (site / "01_audio_basics.html").read_text()
    assert website.check_in_browser(site) == []
