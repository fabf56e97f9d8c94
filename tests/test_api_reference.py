"""The documentation site builds with ``mkdocs build --strict`` (a griffe warning about a
docstring fails it), without importing torch or ferviz (the docstrings are read from the
source), and its API reference shows every public name of ``ferviz`` with its docstring."""

from __future__ import annotations

import html
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

pytest.importorskip("mkdocstrings_handlers.python", reason="needs mkdocstrings[python]")
yaml = pytest.importorskip("yaml")

# the mkdocs command line, then whether building imported torch or ferviz
BUILD = ("import atexit, sys\n"
         "atexit.register(lambda: print('imported:', 'torch' in sys.modules,"
         " 'ferviz' in sys.modules))\n"
         "from mkdocs.__main__ import cli\n"
         "cli()\n")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run([sys.executable, "-c", BUILD, "build", "--strict", "--quiet",
                           "-f", str(ROOT / "mkdocs.yml"), "-d", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "imported: False False" in done.stdout, done.stdout
    return out


def text(fragment: str) -> str:
    """HTML as the words a reader sees: tags dropped, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", fragment)).split())


def first_line(doc: str) -> str:
    """A docstring's first line as rendered: code spans and cross-references as their text."""
    line = doc.splitlines()[0]
    line = re.sub(r"\[([^\]]+)\]\[[\w.]+\]", r"\1", line)  # [`Study.evaluate`][ferviz...]
    return " ".join(line.replace("`", "").split())


def test_every_page_of_docs_is_in_the_nav(site):
    nav = yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"]
    listed = {page for entry in nav for page in entry.values()}
    assert listed == {p.name for p in (ROOT / "docs").glob("*.md")}
    for page in listed:
        built = site / ("index.html" if page == "index.md" else f"{page[:-3]}/index.html")
        assert built.is_file(), page


def test_reference_shows_every_public_name_with_its_docstring(site):
    import ferviz

    page = (site / "reference" / "index.html").read_text()
    headings = re.findall(r'<h3 id="([\w.]+)" class="doc doc-heading">\s*ferviz\.(\w+)\s', page)
    assert sorted(name for _, name in headings) == sorted(ferviz.__all__)
    for anchor, name in headings:
        obj = getattr(ferviz, name)
        assert anchor == f"{obj.__module__}.{obj.__qualname__}", name  # where it is defined
        start = page.index(f'<h3 id="{anchor}"')
        end = page.find("<h3 ", start + 1)
        section = text(page[start:end if end > 0 else None])
        doc = inspect.getdoc(obj)
        assert doc, f"ferviz.{name} has no docstring"
        assert first_line(doc) in section, (name, first_line(doc), section[:300])
