"""The built website, opened page by page in headless Chromium, offline.

Build first (``make book``, or ``python scripts/prepare_mathjax.py && jupyter-book build .
-W -n --keep-going``), then ``pytest -m book tests/test_book_site.py``. Without a build the
tests are skipped, except on CI (``$CI`` set), where a missing build is a failure.

One crawl (a module fixture) serves ``_build/html`` on 127.0.0.1, opens every page in
Debian's Chromium through Playwright, and records what a reader would hit:

- local requests that fail or return an HTTP error (a missing css, js, font or image);
- links to local pages or files that do not exist on disk, or to a ``#fragment`` that the
  target page does not have, whether or not the browser requested them;
- images that did not decode (``naturalWidth == 0``);
- any request to another host: the site must work offline, so such requests are blocked
  and reported (this is also what keeps the test from hanging without internet);
- equations MathJax did not typeset, TeX errors and undefined macros, raw ``\\(``/``\\[``/``$$``
  left in the text, and MathJax not loading at all;
- uncaught JavaScript errors;
- Colab (and GitHub edit) links to a file that is not tracked by git: they would 404.

Each test then reports every problem of its kind at once. ``GENCOURSE_SITE`` points the
test at another build folder, ``GENCOURSE_CHROMIUM`` at another Chromium binary.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

pytestmark = pytest.mark.book

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(os.environ.get("GENCOURSE_SITE", ROOT / "_build" / "html")).resolve()
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
SKIPPED_PAGES = {"genindex.html", "search.html"}  # generated indexes, not pages a reader writes
MATHJAX_TIMEOUT_MS = 20_000
# Where a page's own text lives in sphinx-book-theme (the sidebars and header are theme code).
MAIN_SELECTOR = "main#main-content, main, article, body"
# Uncaught JavaScript errors that are known, harmless and not ours to fix, with the reason.
KNOWN_JS_ERRORS = {
    # Sphinx 7 adds inline scripts registered after the builder starts twice (fixed in Sphinx 8
    # by sphinx-doc/sphinx#13402; Jupyter Book 1 pins Sphinx 7), so sphinx-thebe's
    # `const THEBE_JS_URL` is declared twice. The first declaration works, and thebe is off.
    "Identifier 'THEBE_JS_URL' has already been declared": "sphinx-doc/sphinx#13402",
}
# Blob/edit links to the repository: the file must be tracked by git or the link 404s.
REPO_FILE_LINK = re.compile(r"/(?:blob|edit)/(?P<branch>[^/]+)/(?P<path>[^?#]+)")


def _fail_or_skip(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this is an error rather than a skip)")
    pytest.skip(reason)


# ----------------------------------------------------------------------------- the crawl


@dataclass
class Crawl:
    """Everything the crawl saw, each list holding human-readable problem lines."""

    pages: list[str] = field(default_factory=list)
    bad_requests: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    broken_links: list[str] = field(default_factory=list)
    broken_images: list[str] = field(default_factory=list)
    math: list[str] = field(default_factory=list)
    js_errors: list[str] = field(default_factory=list)
    repo_links: list[str] = field(default_factory=list)
    notebook_pages_without_colab: list[str] = field(default_factory=list)
    typeset_pages: int = 0


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
        pass


@pytest.fixture(scope="module")
def site() -> Path:
    if not (SITE / "index.html").is_file():
        _fail_or_skip(f"the book is not built: {SITE / 'index.html'} is missing (run `make book` first)")
    return SITE


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[str]:
    """``site`` served on 127.0.0.1 at a free port, for as long as the module's tests run."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def _chromium() -> str:
    names = ("chromium", "chromium-browser", "google-chrome")  # the last is what GitHub's runners ship
    for candidate in (os.environ.get("GENCOURSE_CHROMIUM"), *(shutil.which(name) for name in names)):
        if candidate and Path(candidate).is_file():
            return candidate
    _fail_or_skip("Chromium is not installed (Debian/Ubuntu: apt-get install chromium)")
    raise AssertionError("unreachable")


def _pages(site: Path) -> list[Path]:
    """The site's pages, relative to ``site``: every .html but Sphinx's internals and indexes."""
    pages = []
    for path in sorted(site.rglob("*.html")):
        rel = path.relative_to(site)
        if rel.parts[0].startswith("_") or rel.name in SKIPPED_PAGES:
            continue
        pages.append(rel)
    return pages


class _Ids(HTMLParser):
    """Collects every ``id`` and ``name`` attribute of a page: the valid ``#fragment``s."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            if key in ("id", "name") and value:
                self.ids.add(value)


@functools.cache
def _ids_of(path: Path) -> frozenset[str]:
    parser = _Ids()
    parser.feed(path.read_text(encoding="utf8", errors="replace"))
    return frozenset(parser.ids)


def _local_target(site: Path, url_path: str) -> Path:
    """The file on disk that a URL path of the served site maps to."""
    rel = unquote(url_path).lstrip("/")
    target = site / rel
    if url_path.endswith("/") or target.is_dir():
        target = target / "index.html"
    return target


_REDIRECT = re.compile(r'http-equiv="refresh"\s+content="\d+;\s*url=([^"]+)"', re.IGNORECASE)

# Runs in the page once it has loaded: waits for MathJax and for images, then reports.
_INSPECT_JS = """
async ([timeoutMs, mainSelector]) => {
  const out = {hasMath: document.querySelector('.math') !== null, mathjax: 'absent',
               untypeset: [], texErrors: [], rawTex: [], brokenImages: [], links: [], colab: []};
  const timeout = new Promise(resolve => setTimeout(() => resolve('timeout'), timeoutMs));
  if (window.MathJax && window.MathJax.startup && window.MathJax.startup.promise) {
    const done = await Promise.race([window.MathJax.startup.promise.then(() => 'ok'), timeout]);
    out.mathjax = done === 'ok' ? 'ready' : 'timeout';
  } else if (window.MathJax) {
    out.mathjax = 'config-only';  // the configuration was set but tex-chtml.js never ran
  }
  if (out.mathjax === 'ready') {
    for (const el of document.querySelectorAll('.math')) {
      if (!el.querySelector('mjx-container')) out.untypeset.push(el.textContent.trim().slice(0, 120));
    }
    // TeX errors render as <merror>; undefined macros (noundefined) as a red \\name.
    try {
      for (const item of window.MathJax.startup.document.math) {
        const mml = window.MathJax.startup.toMML(item.root);
        if (mml.includes('<merror') || /<mtext mathcolor="red">\\\\/.test(mml)) {
          out.texErrors.push(String(item.math).trim().slice(0, 120));
        }
      }
    } catch (e) { out.texErrors.push('could not inspect typeset math: ' + e); }
  }
  // Raw TeX left in the visible text of the page's own content (code is allowed to show it).
  const main = document.querySelector(mainSelector);
  const skip = 'pre, code, script, style, textarea, kbd, samp, mjx-container, .highlight';
  const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement && node.parentElement.closest(skip)) continue;
    const text = node.textContent;
    const m = text.match(/\\\\\\(|\\\\\\[|\\$\\$|\\$\\\\[A-Za-z]+/);
    if (m) out.rawTex.push(text.slice(Math.max(0, m.index - 40), m.index + 60).trim());
  }
  // Images: lazy ones are made eager, then every image gets a chance to finish.
  const imgs = Array.from(document.images);
  for (const img of imgs) if (img.loading === 'lazy') img.loading = 'eager';
  await Promise.all(imgs.map(img => img.complete ? null : new Promise(resolve => {
    img.addEventListener('load', resolve); img.addEventListener('error', resolve);
    setTimeout(resolve, 5000);
  })));
  for (const img of imgs) {
    if (img.naturalWidth === 0) out.brokenImages.push(img.getAttribute('src') || img.outerHTML.slice(0, 120));
  }
  await Promise.race([document.fonts.ready, new Promise(resolve => setTimeout(resolve, 5000))]);
  for (const a of document.querySelectorAll('a[href]')) {
    out.links.push([a.getAttribute('href'), a.href]);
  }
  for (const a of document.querySelectorAll('a[href*="colab.research.google.com"]')) out.colab.push(a.href);
  return out;
}
"""


def _git_tracked() -> set[str] | None:
    try:
        result = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True, timeout=30
        )
    except (OSError, subprocess.CalledProcessError, subprocess.TimeoutExpired):
        return None
    return set(filter(None, result.stdout.split("\0")))


@pytest.fixture(scope="module")
def crawl(site: Path, server: str) -> Crawl:
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
    chromium = _chromium()
    origin = urlsplit(server).netloc
    report = Crawl()
    tracked = _git_tracked()

    def check_local_link(page: str, raw: str, url: str) -> None:
        parts = urlsplit(url)
        target = _local_target(site, parts.path)
        if not target.is_file():
            report.broken_links.append(f"{page}: link {raw!r} -> {target.relative_to(site)} does not exist")
        elif parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in _ids_of(target):
            where = target.relative_to(site)
            report.broken_links.append(f"{page}: link {raw!r} -> no id {parts.fragment!r} in {where}")

    def check_repo_link(page: str, url: str) -> None:
        match = REPO_FILE_LINK.search(urlsplit(url).path)
        if not match:
            report.repo_links.append(f"{page}: cannot find /blob/<branch>/<path> in {url}")
            return
        if match["branch"] != "main":
            report.repo_links.append(f"{page}: {url} points at branch {match['branch']!r}, not main")
        path = unquote(match["path"])
        if tracked is None:
            report.repo_links.append(f"{page}: {url}: cannot run `git ls-files` in {ROOT} to check it")
        elif path not in tracked:
            report.repo_links.append(f"{page}: {url} opens {path}, which is not tracked by git (it would 404)")

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(service_workers="block")

        def route(route: Any) -> None:
            url = route.request.url
            parts = urlsplit(url)
            if parts.scheme in ("http", "https", "ws", "wss") and parts.netloc != origin:
                report.external_requests.append(f"{current_page}: {url}")
                route.abort("blockedbyclient")
            else:
                route.continue_()

        context.route("**/*", route)
        page = context.new_page()
        current_page = ""

        def on_response(response: Any) -> None:
            url, status = response.url, response.status
            if urlsplit(url).netloc == origin and status >= 400:
                report.bad_requests.append(f"{current_page}: HTTP {status} for {url.removeprefix(server)}")

        def on_failed(request: Any) -> None:
            url = request.url
            # ERR_ABORTED is the browser cancelling a load, e.g. a font still in flight when the
            # crawl moves on; a missing file is an HTTP 404 and is reported by on_response.
            if urlsplit(url).netloc == origin and "ERR_ABORTED" not in str(request.failure):
                report.bad_requests.append(f"{current_page}: request failed ({request.failure}) for {url}")

        page.on("response", on_response)
        page.on("requestfailed", on_failed)
        def on_page_error(error: Any) -> None:
            if not any(known in str(error) for known in KNOWN_JS_ERRORS):
                report.js_errors.append(f"{current_page}: {error}")

        page.on("pageerror", on_page_error)

        for rel in _pages(site):
            current_page = rel.as_posix()
            report.pages.append(current_page)
            text = (site / rel).read_text(encoding="utf8", errors="replace")
            redirect = _REDIRECT.search(text)
            if redirect and "<main" not in text:  # Sphinx's root index.html only redirects
                target = (site / rel).parent / unquote(redirect.group(1).split("#")[0])
                if not target.is_file():
                    report.broken_links.append(f"{current_page}: redirects to missing {redirect.group(1)}")
                continue
            page.goto(f"{server}/{current_page}", wait_until="load")
            seen = page.evaluate(_INSPECT_JS, [MATHJAX_TIMEOUT_MS, MAIN_SELECTOR])

            if seen["mathjax"] == "ready":
                report.typeset_pages += 1
                report.math += [f"{current_page}: equation not typeset: {t!r}" for t in seen["untypeset"]]
                report.math += [f"{current_page}: TeX error or undefined macro in {t!r}" for t in seen["texErrors"]]
                report.math += [f"{current_page}: raw TeX in the text: {t!r}" for t in seen["rawTex"]]
            elif seen["hasMath"] or seen["rawTex"]:  # one line, not one per equation left raw
                report.math.append(
                    f"{current_page}: has math but MathJax did not start ({seen['mathjax']}); "
                    f"{len(seen['rawTex'])} pieces of raw TeX left in the text, e.g. {seen['rawTex'][:1]}"
                )
            report.broken_images += [f"{current_page}: broken image {src}" for src in seen["brokenImages"]]

            for raw, url in seen["links"]:
                parts = urlsplit(url)
                if parts.scheme in ("http", "https") and parts.netloc == origin:
                    check_local_link(current_page, raw, url)
                elif parts.netloc == "github.com" and REPO_FILE_LINK.search(parts.path):
                    check_repo_link(current_page, url)
            for url in seen["colab"]:
                check_repo_link(current_page, url)
            if (site / "_sources" / rel.with_suffix(".ipynb")).is_file() and not seen["colab"]:
                report.notebook_pages_without_colab.append(current_page)

        context.close()
        browser.close()
    return report


def _assert_none(problems: list[str], what: str) -> None:
    assert not problems, f"{len(problems)} {what}:\n" + "\n".join(problems)


# ----------------------------------------------------------------------------- the tests


def test_site_has_pages(crawl: Crawl) -> None:
    assert crawl.pages, f"no pages found in {SITE}"


def test_no_failed_local_requests(crawl: Crawl) -> None:
    _assert_none(crawl.bad_requests, "local requests failed (a missing page, css, js, font or image)")


def test_works_offline(crawl: Crawl) -> None:
    _assert_none(crawl.external_requests, "requests to other hosts (the site must work offline)")


def test_local_links_resolve(crawl: Crawl) -> None:
    _assert_none(crawl.broken_links, "links to local pages, files or anchors that do not exist")


def test_images_load(crawl: Crawl) -> None:
    _assert_none(crawl.broken_images, "broken images")


def test_math_is_typeset(crawl: Crawl) -> None:
    _assert_none(crawl.math, "problems with the math")
    assert crawl.typeset_pages > 0, "MathJax did not run on any page: is the math missing, or MathJax?"


def test_no_javascript_errors(crawl: Crawl) -> None:
    _assert_none(crawl.js_errors, "uncaught JavaScript errors")


def test_launch_and_edit_links_point_at_tracked_files(crawl: Crawl) -> None:
    _assert_none(crawl.repo_links, "Colab or GitHub links to files git does not track")
    _assert_none(crawl.notebook_pages_without_colab, "notebook pages without a Colab launch button")
