"""The README and docs/ stay true to the code: the command table lists every command, and
every ``ferviz COMMAND`` they show exists."""

from __future__ import annotations

import re

from conftest import ROOT


def commands() -> set[str]:
    from typer.main import get_command

    from ferviz.cli import app

    return set(get_command(app).commands)


def test_readme_command_table_lists_every_command():
    readme = (ROOT / "README.md").read_text()
    table = re.search(r"<!-- cli-commands -->\n(.*?)<!-- /cli-commands -->", readme, re.S)
    assert table
    assert set(re.findall(r"^\| `ferviz ([\w-]+)`", table.group(1), re.M)) == commands()


def test_docs_show_only_real_commands_and_pages():
    known = commands()
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = page.read_text()
        for block in re.findall(r"```bash\n(.*?)```", text, re.S):
            used = set(re.findall(r"^\s*ferviz (?:--\w+ )*([a-z][\w-]*)", block, re.M))
            assert used <= known, (page.name, used - known)
        for link in re.findall(r"\]\(((?:docs/)?[\w.-]+\.(?:md|png))\)", text):
            base = ROOT if page.name == "README.md" else page.parent
            assert (base / link).is_file(), (page.name, link)
