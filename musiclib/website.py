"""The executed course as a website: a book of the notebooks, built offline, checked in a browser.

``make site`` calls ``python -m musiclib.website``, which calls :func:`build_site`: it takes the
notebooks that ``make course`` executed (``build/course/NN_*.ipynb``; nothing is executed
again) and builds a static site with Sphinx, MyST-NB and sphinx-book-theme under
``build/site/``: a landing page from the README's course part, the ten notebooks in order
with previous / next links and a table of contents, the run's results table
(``results.md``), the instructors' page, and the library's API reference from its numpy-style
docstrings (each module's ``__all__``, or where a module has none, the public names it
defines: :func:`public_names`).

Nothing is fetched from the network when the site is built or opened: MathJax is served from
the site (``_static/mathjax``, copied from the ``django-static-mathjax`` package), the
theme's fonts and scripts are its own, audio players hold their sound as ``data:`` URIs, and
outputs that would need widget JavaScript from a CDN show their text instead.
:func:`external_resources` lists any page that would load something from outside.

``make site STUDENT=1`` builds the student edition (``build/site-student/``) from the
student versions' own execution (``make course STUDENT=1`` writes ``build/course-student/``):
the instructor run's outputs would show the answers. It has no instructors' page.

:func:`check_in_browser` opens every page in headless Chromium (Debian's ``chromium`` and
``chromium-driver``, driven by selenium) and lists what is wrong: console errors, images that
did not load, audio without a playable source, formulas MathJax did not render, missing
previous / next links, and a search that finds nothing. :func:`broken_links` checks every
internal link and anchor of the built HTML. After a build, a screenshot of one notebook page
goes to ``<site>/screenshot.png`` when Chromium is there.

Taught in ``README.md`` (The course as a website).
"""

from __future__ import annotations

import argparse
import ast
import html.parser
import importlib
import inspect
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

from .errors import MusiclibError

__all__ = [
    "INSTRUCTOR_SECTIONS",
    "LIBRARY_SECTIONS",
    "SiteError",
    "api_modules",
    "public_names",
    "readme_sections",
    "prepare_source",
    "build_site",
    "external_resources",
    "broken_links",
    "find_chromium",
    "chromium",
    "serve",
    "check_in_browser",
    "screenshot",
    "main",
]

# README sections (their ``##`` headings) that go to the instructors' page and to the API
# reference's front page; every other section is the course part: the landing page.
INSTRUCTOR_SECTIONS = ("For instructors", "The course as a website")
LIBRARY_SECTIONS = ("The `musiclib` command", "The library", "Development")

SCREENSHOT_PAGE = "01_audio_basics"  # the notebook page the build photographs
SCREENSHOT_NAME = "screenshot.png"


class SiteError(MusiclibError):
    """The site could not be built (no executed course, a missing tool, a failed build)."""


# ------------------------------------------------------------------ API reference
def api_modules() -> list[str]:
    """The modules the API reference documents: ``musiclib.__all__``'s submodules, in order."""
    import musiclib

    return [name for name in musiclib.__all__ if not name.startswith("__")]


def public_names(module) -> tuple[list[str], bool]:
    """The public names of ``module`` and whether they come from its ``__all__``.

    Without ``__all__``: the functions and classes the module defines itself (not imported)
    and its upper-case constants assigned at module level, in source order; no ``_name``.
    """
    names = getattr(module, "__all__", None)
    if names is not None:
        return [n for n in names if not inspect.ismodule(getattr(module, n, None))], True
    own = []
    for name, obj in vars(module).items():
        if name.startswith("_"):
            continue
        if (inspect.isfunction(obj) or inspect.isclass(obj)) and getattr(obj, "__module__", None) == module.__name__:
            own.append(name)
    try:
        tree = ast.parse(inspect.getsource(module))
    except (OSError, TypeError):
        tree = None
    order: dict[str, int] = {}
    for node in tree.body if tree else []:
        targets = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            targets = [node.name]
        elif isinstance(node, ast.Assign):
            targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            targets = [node.target.id]
        for name in targets:
            order.setdefault(name, node.lineno)
            if name.isupper() and not name.startswith("_") and name not in own and hasattr(module, name):
                own.append(name)
    return sorted(own, key=lambda n: order.get(n, 10**9)), False


def _directive(module_name: str, name: str, obj, documented_data: set[str], *, index: bool = True) -> str:
    target = f"{module_name}.{name}"
    options = [] if index else ["   :no-index:"]
    content: list[str] = []
    if inspect.isclass(obj) and issubclass(obj, BaseException):
        head = f".. autoexception:: {target}"
    elif inspect.isclass(obj):
        head = f".. autoclass:: {target}"
        options += ["   :members:", "   :undoc-members:"]
    elif callable(obj):
        head = f".. autofunction:: {target}"
    else:
        value = repr(obj)
        short = len(value) <= 80 and "\n" not in value
        if name in documented_data:  # a ``#:`` comment or a docstring under the assignment
            head = f".. autodata:: {target}"
            options += [] if short else ["   :no-value:"]
        else:  # autodoc would show the docstring of the value's type (dict's) instead
            kind = type(obj).__name__
            head = f".. py:data:: {name}"
            options += [f"   :module: {module_name}", f"   :type: {kind}"] + ([f"   :value: {value}"] if short else [])
            if not short:
                size = f" of {len(obj)} entries" if hasattr(obj, "__len__") and not isinstance(obj, str) else ""
                content = ["", f"   A ``{kind}``{size}: see the module's description."]
    return "\n".join([head, *options, *content]) + "\n"


def _data_docs(module_name: str) -> set[str]:
    """Module-level names that carry their own documentation (``#:`` or a string below)."""
    from sphinx.pycode import ModuleAnalyzer

    try:
        docs = ModuleAnalyzer.for_module(module_name).find_attr_docs()
    except Exception:  # no source
        return set()
    return {name for (scope, name), lines in docs.items() if scope == "" and any(line.strip() for line in lines)}


def _api_pages(src: Path) -> dict[str, list[str]]:
    """Write ``api/<module>.rst`` for each module; return module -> the names documented."""
    api = src / "api"
    api.mkdir(parents=True, exist_ok=True)
    documented: dict[str, list[str]] = {}
    for short in api_modules():
        module_name = f"musiclib.{short}"
        module = importlib.import_module(module_name)
        names, from_all = public_names(module)
        title = f"``{module_name}``"
        lines = [title, "=" * len(title), "", f".. automodule:: {module_name}", "   :no-members:", ""]
        if not from_all:
            lines += [f".. note:: ``{module_name}`` has no ``__all__``: listed here are the functions,",
                      "   classes and constants it defines itself.", ""]
        documented_data = _data_docs(module_name)
        for name in names:
            obj = getattr(module, name)
            # a name re-exported by another module is documented there too, under that
            # module's name (its own entry, so its page lists all of the module's names)
            lines.append(_directive(module_name, name, obj, documented_data))
        (api / f"{short}.rst").write_text("\n".join(lines) + "\n")
        documented[module_name] = names
    return documented


# ------------------------------------------------------------------ the README's parts
def readme_sections(text: str) -> tuple[str, str, list[tuple[str, str]]]:
    """Split the README into (title, introduction, [(section heading, section text), ...]).

    Sections start at the level-2 headings (``## Title``) outside fenced code; each one's text includes its heading.
    """
    title, intro, sections = "", [], []
    current: list[str] | None = None
    fence = False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fence = not fence
        if not fence and line.startswith("# ") and not title:
            title = line[2:].strip()
            continue
        if not fence and line.startswith("## "):
            current = [line]
            sections.append((line[3:].strip(), current))
            continue
        (current if current is not None else intro).append(line)
    return title, "\n".join(intro).strip(), [(h, "\n".join(body).strip()) for h, body in sections]


_LINK = re.compile(r"(!?)\[([^\]]*)\]\(([^)\s]+)\)")


def _site_markdown(text: str, *, root: Path, src: Path, notebooks: Sequence[str]) -> str:
    """README text for the site: notebook names become links, repository files that are not
    pages become plain names, images are copied beside the page."""

    def link(m: re.Match) -> str:
        bang, label, target = m.groups()
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            return m.group(0)
        if bang:
            if (root / target).is_file():
                (src / target).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(root / target, src / target)
                return m.group(0)
            return f"*({label})*"
        return label if label.strip("`") == target else f"{label} (`{target}`)"

    text = _LINK.sub(link, text)
    names = "|".join(re.escape(n) for n in notebooks)
    if names:
        # `01_audio_basics` in the notebooks' table: a link to its page (not inside code blocks)
        text = re.sub(rf"(?<!\[)`({names})`(?!\])", r"[`\1`](\1.ipynb)", text)
    return text


def _copy_notebook(path: Path, dest: Path) -> None:
    """Copy an executed notebook into the site's sources; in its markdown cells the solution
    markers (``### BEGIN SOLUTION``: headings in the notebook) become bold labels, so they
    stay visible without filling the page's table of contents."""
    import json

    from .student import marker

    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        lines = [f"**{marker(line)}**" if marker(line) else line for line in text.split("\n")]
        cell["source"] = "\n".join(lines)
    dest.write_text(json.dumps(nb), encoding="utf-8")


def _toctree(caption: str, entries: Sequence[str], *, hidden: bool = False, maxdepth: int = 1) -> str:
    opts = [f":caption: {caption}", f":maxdepth: {maxdepth}"] + ([":hidden:"] if hidden else [])
    return "\n".join(["```{toctree}", *opts, "", *entries, "```", ""])


# ------------------------------------------------------------------ the Sphinx project
def _mathjax_dir() -> Path:
    try:
        import mathjax  # django-static-mathjax: MathJax 3 as static files
    except ImportError as err:
        raise SiteError("MathJax for the site comes from the package django-static-mathjax: "
                        "pip install -e '.[docs]'") from err
    es5 = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    if not (es5 / "tex-chtml.js").is_file():
        raise SiteError(f"{es5}: no tex-chtml.js in the installed django-static-mathjax")
    return es5


CONF = '''\
# Written by musiclib.website for this build; edit musiclib/website.py instead.
project = {project!r}
author = "musiclib"
copyright = "musiclib contributors"
extensions = ["myst_nb", "sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.mathjax"]
exclude_patterns = ["_build", ".doctrees", "**.kernel.log"]
# the notebooks were executed by `make course`; the site shows those outputs as they are
nb_execution_mode = "off"
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
# widget views would need ipywidgets' JavaScript from a CDN: show their text instead
nb_ipywidgets_js = {{}}
nb_mime_priority_overrides = [
    ("html", "application/vnd.jupyter.widget-view+json", None),
    ("html", "application/vnd.jupyter.widget-state+json", None),
]
# MathJax 3 from the site itself, never from a CDN
mathjax_path = "mathjax/tex-chtml.js"
mathjax3_config = {{"options": {{"processHtmlClass": "tex2jax_process|mathjax_process|math|output_area"}}}}
html_static_path = ["_static"]
html_favicon = "favicon.png"
html_theme = "sphinx_book_theme"
html_title = {title!r}
html_show_sphinx = False
html_last_updated_fmt = None
html_theme_options = {{
    "show_toc_level": 2,
    "use_download_button": True,
    "use_fullscreen_button": False,
    "show_navbar_depth": 1,
    "navigation_depth": 2,
    "home_page_in_toc": True,
}}
autodoc_member_order = "bysource"
# the numpy-style docstrings give the types; as plain text, not links: a type named "path"
# or "array" would otherwise link to whatever object of the library has that name
autodoc_typehints = "none"
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_param = False
napoleon_use_rtype = False
napoleon_use_ivar = True  # a dataclass's Attributes beside its documented fields: one entry each
# the reader's own light / dark setting (the theme's script reports an empty mode as an error)
html_context = {{"default_mode": "auto"}}
suppress_warnings = ["myst.header", "mystnb.unknown_mime_type", "misc.highlighting_failure"]
'''


def _favicon(path: Path) -> None:
    """A small icon for the site (without one, browsers ask for /favicon.ico and log a 404)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((4, 18, 16, 28), fill=(38, 84, 166, 255))  # a quaver
    draw.rectangle((14, 4, 16, 23), fill=(38, 84, 166, 255))
    draw.polygon([(16, 4), (27, 9), (27, 13), (16, 8)], fill=(38, 84, 166, 255))
    image.save(path)


def prepare_source(course_dir: str | os.PathLike, src: str | os.PathLike, *, student: bool = False,
                   readme: str | os.PathLike | None = None, api: bool = True) -> dict[str, list[str]]:
    """Lay out the Sphinx project of the site in ``src`` (emptied first).

    Returns the API reference's module -> documented names (empty without ``api``).
    """
    from .config import project_root

    course_dir, src = Path(course_dir), Path(src)
    notebooks = sorted(p for p in course_dir.glob("[0-9][0-9]_*.ipynb") if p.is_file())
    if not notebooks:
        hint = "make course STUDENT=1" if student else "make course"
        raise SiteError(f"{course_dir}: no executed notebooks (NN_*.ipynb); run `{hint}` first")
    root = project_root() or Path.cwd()
    readme = Path(readme) if readme else root / "README.md"
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    for nb in notebooks:
        _copy_notebook(nb, src / nb.name)
    stems = [nb.stem for nb in notebooks]

    title, intro, sections = readme_sections(readme.read_text(encoding="utf-8"))
    course = [s for h, s in sections if h not in INSTRUCTOR_SECTIONS + LIBRARY_SECTIONS]
    instructors = [s for h, s in sections if h in INSTRUCTOR_SECTIONS]
    library = [s for h, s in sections if h in LIBRARY_SECTIONS]

    def md(parts: Sequence[str]) -> str:
        return _site_markdown("\n\n".join(parts), root=root, src=src, notebooks=stems)

    edition = " (student edition)" if student else ""
    pages = ["results"] + ([] if student else ["instructors"]) + (["api/index"] if api else [])
    note = ("\n\n*Student edition: the exercises' solutions are left for you to write; the "
            "notebooks were run as you receive them.*" if student else "")
    (src / "index.md").write_text(
        f"# {title}{edition}\n\n{md([intro])}{note}\n\n{md(course)}\n\n"
        + _toctree("Notebooks", stems) + "\n" + _toctree("Course", pages), encoding="utf-8")

    results = course_dir / "results.md"
    text = results.read_text(encoding="utf-8") if results.is_file() else "No results.md in this run.\n"
    text = re.sub(r"\A# [^\n]*\n", "", text)
    (src / "results.md").write_text(f"# Results of this run\n\n{text}", encoding="utf-8")
    if not student:
        (src / "instructors.md").write_text(f"# For instructors\n\n{md(instructors)}\n", encoding="utf-8")

    documented = _api_pages(src) if api else {}
    rows = ["| module | what it owns |", "|---|---|"]
    for module_name in documented:
        doc = inspect.getdoc(importlib.import_module(module_name)) or ""
        first = " ".join(doc.split("\n\n")[0].split()).replace("|", "\\|")
        short = module_name.split(".", 1)[1]
        rows.append(f"| [`{module_name}`]({short}.rst) | {first} |")
    if api:
        (src / "api" / "index.md").write_text(
            "# API reference\n\nEvery public name of each module of `musiclib`, from its docstring "
            "(numpy style): the names in the module's `__all__`, or where it has none, the functions, "
            "classes and constants it defines.\n\n" + "\n".join(rows) + "\n\n" + md(library) + "\n\n"
            + _toctree("Modules", list(s.split(".", 1)[1] for s in documented), hidden=True), encoding="utf-8")

    static = src / "_static"
    static.mkdir()
    _favicon(src / "favicon.png")
    shutil.copytree(_mathjax_dir(), static / "mathjax")
    (src / "conf.py").write_text(CONF.format(project="musiclib", title=f"musiclib course{edition}"))
    return documented


def build_site(course_dir: str | os.PathLike | None = None, out: str | os.PathLike | None = None, *,
               student: bool = False, readme: str | os.PathLike | None = None, api: bool = True,
               take_screenshot: bool = True, echo: Callable[[str], None] = print) -> Path:
    """Build the site of an executed course; return its ``index.html``.

    Parameters
    ----------
    course_dir : path, optional
        The executed notebooks (default ``build/course``, or ``build/course-student``).
    out : path, optional
        The site (default ``build/site``, or ``build/site-student``); its Sphinx sources go
        to ``<out>-src``.
    student : bool
        The student edition: no instructors' page, titled so.
    api : bool
        With the API reference (the part of the build that takes longest; the same in both
        editions).
    take_screenshot : bool
        Photograph one notebook page to ``<out>/screenshot.png`` when Chromium is installed.
    """
    from .config import settings

    build = settings().build_dir
    suffix = "-student" if student else ""
    course_dir = Path(course_dir) if course_dir else build / f"course{suffix}"
    out = Path(out) if out else build / f"site{suffix}"
    src = out.parent / f"{out.name}-src"
    start = time.perf_counter()
    prepare_source(course_dir, src, student=student, readme=readme, api=api)
    if out.exists():
        shutil.rmtree(out)
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-d", str(src / ".doctrees"), str(src), str(out)]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2")}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    log = (done.stdout + done.stderr).strip()
    (out.parent / f"{out.name}-build.log").write_text(log + "\n")
    if done.returncode != 0:
        raise SiteError(f"sphinx-build failed ({done.returncode}):\n{log[-3000:]}")
    warnings = [line for line in log.splitlines() if "WARNING" in line or "ERROR" in line]
    echo(f"site: {out / 'index.html'} ({time.perf_counter() - start:.0f} s, {len(warnings)} warnings"
         + (f": {out.parent / (out.name + '-build.log')}" if warnings else "") + ")")
    outside = external_resources(out)
    if outside:
        raise SiteError("pages load from outside the site:\n" + "\n".join(outside[:20]))
    if take_screenshot:
        if find_chromium() is None:
            echo("screenshot: skipped (no chromium / chromedriver; `apt-get install chromium chromium-driver`)")
        else:
            path = screenshot(out, f"{SCREENSHOT_PAGE}.html", out / SCREENSHOT_NAME)
            echo(f"screenshot: {path}")
    return out / "index.html"


# ------------------------------------------------------------------ static checks of the HTML
class _Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.loads: list[str] = []  # what the page loads: scripts, stylesheets, images, media

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("id", "name"):
            if a.get(key):
                self.ids.add(a[key])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag in ("script", "img", "audio", "video", "source", "iframe", "embed") and a.get("src"):
            self.loads.append(a["src"])
        if tag == "link" and a.get("href") and any(r in (a.get("rel") or "") for r in
                                                    ("stylesheet", "preload", "icon", "modulepreload")):
            self.loads.append(a["href"])


def _pages(site: Path) -> list[Path]:
    """The site's pages (not the theme's templates under ``_static``, nor ``_sources``)."""
    return sorted(p for p in site.rglob("*.html") if not {"_sources", "_static"} & set(p.relative_to(site).parts))


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8", errors="replace"))
    return page


def external_resources(site: str | os.PathLike) -> list[str]:
    """``page: url`` for everything a page or a stylesheet of the site would load from outside."""
    site = Path(site)
    found = []
    for path in _pages(site):
        for url in _parse(path).loads:
            if re.match(r"^(https?:)?//", url):
                found.append(f"{path.relative_to(site)}: {url}")
    for css in site.rglob("*.css"):
        for url in re.findall(r"(?:url\(\s*['\"]?|@import\s+['\"])((?:https?:)?//[^'\")\s]+)",
                              css.read_text(encoding="utf-8", errors="replace")):
            found.append(f"{css.relative_to(site)}: {url}")
    return found


def broken_links(site: str | os.PathLike) -> list[str]:
    """``page: link`` for every internal link that names no file of the site or no anchor in it."""
    site = Path(site).resolve()
    cache: dict[Path, _Page] = {}

    def page(path: Path) -> _Page:
        if path not in cache:
            cache[path] = _parse(path)
        return cache[path]

    broken = []
    for path in _pages(site):
        for href in page(path).links:
            if re.match(r"^[a-z][a-z0-9+.-]*:", href, re.I) and not href.startswith("file:"):
                continue  # http(s), mailto, data, javascript: not part of the site
            target, fragment = urldefrag(href)
            target = unquote(urlsplit(target).path)
            dest = (path.parent / target).resolve() if target else path
            if dest.is_dir():
                dest = dest / "index.html"
            if not dest.is_file() or site not in dest.parents and dest != site:
                broken.append(f"{path.relative_to(site)}: {href}")
            elif fragment and dest.suffix == ".html" and unquote(fragment) not in page(dest).ids:
                broken.append(f"{path.relative_to(site)}: {href} (no such anchor)")
    return broken


# ------------------------------------------------------------------ the browser
def find_chromium() -> tuple[str, str] | None:
    """``(chromium, chromedriver)`` paths, or None when either is missing."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver") or ("/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").exists() else None)
    return (browser, driver) if browser and driver else None


@contextmanager
def chromium(width: int = 1280, height: int = 900) -> Iterator:
    """A headless Chromium driven by selenium, with background networking off.

    Uses the system's ``chromium`` and ``chromedriver`` (Debian: ``apt-get install chromium
    chromium-driver``); selenium never downloads a browser.
    """
    found = find_chromium()
    if found is None:
        raise SiteError("no chromium / chromedriver on PATH: apt-get install chromium chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = found[0]
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-default-apps", "--disable-extensions", "--no-first-run",
                "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication",
                "--metrics-recording-only", "--mute-audio", f"--window-size={width},{height}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(found[1]))
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


# JavaScript run in each page: wait for MathJax and the audio elements, then report.
_PAGE_STATE = r"""
const done = arguments[arguments.length - 1];
const deadline = Date.now() + 20000;
for (const img of document.images) { img.loading = "eager"; }
async function settle() {
  while (document.readyState !== "complete" && Date.now() < deadline) {
    await new Promise(r => setTimeout(r, 50));
  }
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    try { await MathJax.startup.promise; } catch (e) {}
  }
  const audios = Array.from(document.querySelectorAll("audio"));
  for (const a of audios) { if (a.readyState === 0 && a.networkState !== 3) a.load(); }
  while (Date.now() < deadline) {
    const pendingAudio = audios.some(a => a.readyState === 0 && !a.error);
    const pendingImg = Array.from(document.images).some(i => !i.complete);
    if (!pendingAudio && !pendingImg) break;
    await new Promise(r => setTimeout(r, 100));
  }
  const math = Array.from(document.querySelectorAll(".math"));
  return {
    images: Array.from(document.images).map(i => [i.currentSrc.slice(0, 120), i.complete && i.naturalWidth > 0]),
    audio: audios.map(a => [a.readyState, a.error ? a.error.code : 0,
                            (a.currentSrc || (a.querySelector("source") || {}).src || "").slice(0, 60)]),
    math: math.length,
    mathRendered: math.filter(m => m.querySelector("mjx-container") || m.tagName === "MJX-CONTAINER").length,
    mathErrors: document.querySelectorAll("mjx-merror").length,
    prev: Array.from(document.querySelectorAll("a.left-prev")).map(a => a.getAttribute("href")),
    next: Array.from(document.querySelectorAll("a.right-next")).map(a => a.getAttribute("href")),
    title: document.title,
  };
}
settle().then(done, e => done({error: String(e)}));
"""


def _console_errors(driver) -> list[str]:
    try:
        entries = driver.get_log("browser")
    except Exception:  # a driver without the log endpoint
        return []
    return [e["message"] for e in entries if e.get("level") == "SEVERE"]


@contextmanager
def serve(site: str | os.PathLike) -> Iterator[str]:
    """The site on a local web server (127.0.0.1, a free port), as it is once published; yields
    its base URL."""
    import functools
    import http.server
    import threading

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


def _check_page(driver, url: str, rel: str, *, notebook: bool) -> tuple[list[str], dict]:
    driver.get(url)
    state = driver.execute_async_script(_PAGE_STATE)
    if "error" in state:
        return [f"{rel}: the page's script failed: {state['error']}"], state
    problems = [f"{rel}: console error: {m[:300]}" for m in _console_errors(driver)]
    for src, ok in state["images"]:
        if not ok:
            problems.append(f"{rel}: image did not load: {src}")
    for ready, error, src in state["audio"]:
        if ready == 0 or error:
            problems.append(f"{rel}: audio not playable (readyState {ready}, error {error}): {src}")
    if state["mathRendered"] < state["math"] or state["mathErrors"]:
        problems.append(f"{rel}: formulas rendered {state['mathRendered']} of {state['math']}, "
                        f"{state['mathErrors']} TeX errors")
    if notebook and (not state["prev"] or not state["next"]):
        problems.append(f"{rel}: no previous / next link (prev {state['prev']}, next {state['next']})")
    return problems, state


def check_in_browser(site: str | os.PathLike, *, driver=None, search_word: str = "spectrogram",
                     echo: Callable[[str], None] | None = None) -> list[str]:
    """Open every page of the site in headless Chromium; return one line per problem found.

    Checks on each page: no console error; every image loaded; every ``<audio>`` has a source
    that plays (``readyState`` > 0); every formula rendered by MathJax without a TeX error;
    each notebook page links to its previous and next page. Then the search page finds
    ``search_word`` and its results link to pages of the site. Every page is opened from a
    local web server (:func:`serve`), as a published site is; the landing page and one notebook
    page are also opened as ``file://`` URLs, as a reader opens the built folder (there the
    search lists its results but cannot show their summaries: the browser forbids a page read
    from a file to fetch another).
    """
    site = Path(site).resolve()
    if driver is None:
        with chromium() as drv:
            return check_in_browser(site, driver=drv, search_word=search_word, echo=echo)
    problems: list[str] = []
    notebook_pages = {p.stem for p in site.glob("[0-9][0-9]_*.html")}
    with serve(site) as base:
        for path in _pages(site):
            rel = path.relative_to(site).as_posix()
            found, state = _check_page(driver, base + rel, rel, notebook=path.stem in notebook_pages)
            problems += found
            if echo and "error" not in state:
                echo(f"{rel}: {len(state['images'])} images, {len(state['audio'])} audio, {state['math']} formulas")
        problems += _check_search(base, driver, search_word)
    for path in [site / "index.html", *sorted(site.glob("[0-9][0-9]_*.html"))[1:2]]:
        rel = path.relative_to(site).as_posix()
        problems += _check_page(driver, path.as_uri(), f"{rel} (file://)", notebook=path.stem in notebook_pages)[0]
    return problems


def _check_search(base: str, driver, word: str) -> list[str]:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(base + f"search.html?q={word}")
    try:
        WebDriverWait(driver, 30).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, "#search-results ul.search li")
            or "did not match any" in d.find_element(By.ID, "search-results").text)
    except Exception as err:
        return [f"search.html?q={word}: no results shown ({type(err).__name__})"]
    hits = [a.get_attribute("href") or "" for a in
            driver.find_elements(By.CSS_SELECTOR, "#search-results ul.search li a")]
    problems = [f"search.html: console error: {m[:300]}" for m in _console_errors(driver)]
    if not hits:
        problems.append(f"search.html?q={word}: nothing found")
    for href in hits[:3]:
        driver.get(href)
        if "404" in driver.title or not driver.find_elements(By.CSS_SELECTOR, "article"):
            problems.append(f"search.html?q={word}: a result does not open a page: {href}")
    return problems


def screenshot(site: str | os.PathLike, page: str, path: str | os.PathLike, *, driver=None,
               width: int = 1280, height: int = 900) -> Path:
    """A PNG of one page of the site (its first screen), for the README."""
    site, path = Path(site).resolve(), Path(path)
    if driver is None:
        with chromium(width, height) as drv:
            return screenshot(site, page, path, driver=drv)
    driver.get((site / page).as_uri())
    driver.execute_async_script(_PAGE_STATE)
    path.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(path))
    return path


# ------------------------------------------------------------------ command line
def main(argv: Sequence[str] | None = None) -> int:
    """``python -m musiclib.website [--student] [--course DIR] [--out DIR] [--check]``."""
    parser = argparse.ArgumentParser(prog="python -m musiclib.website", description=__doc__.split("\n\n")[0])
    parser.add_argument("--student", action="store_true", help="the student edition (build/course-student)")
    parser.add_argument("--course", help="the executed course (default build/course or build/course-student)")
    parser.add_argument("--out", help="the site (default build/site or build/site-student)")
    parser.add_argument("--no-screenshot", action="store_true", help="do not photograph a notebook page")
    parser.add_argument("--check", action="store_true",
                        help="then check it: internal links, and every page in headless Chromium")
    args = parser.parse_args(argv)
    try:
        index = build_site(args.course, args.out, student=args.student, take_screenshot=not args.no_screenshot)
        if args.check:
            site = index.parent
            problems = broken_links(site) + check_in_browser(site)
            for line in problems:
                print(line)
            print(f"checked {len(_pages(site))} pages: {len(problems)} problems")
            if problems:
                return 1
    except MusiclibError as err:
        print(f"musiclib.website: {err}", file=sys.stderr)
        return 2
    print(f"open {index} in a browser")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
