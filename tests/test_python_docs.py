"""docs/python.md's code blocks run verbatim, in order, in one namespace (as a notebook would
run them)."""

from __future__ import annotations

import re

from conftest import ROOT


def test_python_page_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = (ROOT / "docs" / "python.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.DOTALL)
    assert len(blocks) >= 5
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "docs/python.md", "exec"), namespace)  # noqa: S102
    assert namespace["model"].card.cam_layer == "3"
    assert namespace["shown"].maps.maps.shape == (5, 48, 48)
    assert namespace["out"].stat().st_size > 0
