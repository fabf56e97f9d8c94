"""Trust badges beside every map, in the HTML report and on the dashboard's map pages.

The failing case is real: on an untrained (randomly initialised) FER-Synth CNN, Eigen-CAM's
maps survive the randomisation of every layer (rank correlation above the 0.5 threshold: they
show the input, not the model), and no map of that model beats a random pixel order; the
trained zoo model's Grad-CAM passes both checks.
"""

from __future__ import annotations

import io
import re

import pytest
from conftest import ROOT

from ferviz.app.reporting import Options, build_html

FAILING = "eigencam"


@pytest.fixture(scope="module")
def untrained(tmp_path_factory):
    """A FER-Synth CNN with its initial random weights, in memory and as a model file."""
    import torch
    from safetensors.torch import save_file

    from ferviz.models.fermodel import FERModel
    from ferviz.models.registry import create_model

    torch.manual_seed(0)
    net, card = create_model("synth_cnn")
    path = tmp_path_factory.mktemp("untrained") / "untrained.safetensors"
    save_file(net.state_dict(), str(path))
    path.with_name(path.name + ".json").write_text('{"arch": "synth_cnn"}')
    return FERModel(net, card).eval(), path


def report(model, records, n: int, **options) -> str:
    from ferviz.predict import predict

    sub = records.select(slice(0, n))
    return build_html(predict(model, sub), sub.images(), model=model,
                      options=Options(max_saliency=4, regions_per_class=1, **options))


def test_report_badges_say_not_checked_then_the_verdicts(untrained, synth_model, synth_test,
                                                          tmp_path, monkeypatch):
    from ferviz.explain.trust import verdicts

    monkeypatch.setenv("FERVIZ_CACHE", str(tmp_path))
    model, _ = untrained
    page = report(model, synth_test, 48, saliency=(FAILING,))
    shown = page.count(f'alt="{FAILING} saliency"')
    assert shown > 0 and page.count('class="badge unchecked"') >= shown + 1  # + the table
    assert "trust not checked" in page and 'class="badge fail"' not in page
    page = report(model, synth_test, 48, saliency=(FAILING,), trust=True)
    v = verdicts(model, synth_test.images()[:48], [FAILING], compute=False)[FAILING]
    assert v.sanity == "FAIL" and v.spearman[-1] >= 0.5  # computed by the report, cached
    badge = f'alt="{FAILING} saliency"><br>{FAILING}<br><span class="badge fail"'
    assert page.count(badge) == shown
    warned = re.findall(rf'<div class="ev warn"><b>{FAILING} \(class-agnostic\)</b>: [^<]*'
                        r"sanity FAIL[^<]*do not read these maps as facial evidence", page)
    assert len(warned) == shown
    again = report(model, synth_test, 48, saliency=(FAILING,))  # read from the cache
    assert again.count(badge) == shown
    good = report(synth_model, synth_test, 48, saliency=("gradcam",), trust=True)
    assert good.count('alt="gradcam saliency"><br>gradcam<br><span class="badge pass"') > 0
    assert 'class="badge fail"' not in good and "sanity PASS" in good


def test_dashboard_pages_show_the_badges(untrained, tmp_path, monkeypatch):
    from PIL import Image
    from streamlit.testing.v1 import AppTest

    from ferviz.dashboard import resources, settings

    for var in (*settings.ENV.values(), "FERVIZ_SETTINGS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("FERVIZ_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("FERVIZ_ROOTS", str(untrained[1].parent))
    monkeypatch.chdir(ROOT / "tests")
    monkeypatch.setattr(resources, "WORTH_A_CLICK", 0.0)  # every check waits for Run

    def page(name: str, **params):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.query_params.update({"page": name, "model_choice": "(model file)",
                                "model_path": str(untrained[1]), **params})
        at.run()
        for b in at.button:  # predicting with the model file waits for Run too
            if b.label.startswith("Run: predicting"):
                b.click().run()
        assert not at.exception and not at.error, [e.value for e in (*at.exception, *at.error)]
        return at

    def trust(at) -> dict[str, str]:
        text = "\n".join(h.proto.body for h in at.get("html"))
        return dict(re.findall(r'class="fv-trust" data-method="([^"]+)" data-trust="(\w+)"',
                               text))

    at = page("inspector", methods=f"gradcam,{FAILING}")
    assert trust(at) == {"gradcam": "unchecked", FAILING: "unchecked"}
    # the badge says "not checked" once; the captions under the maps do not repeat its hint
    assert not any("trust not checked" in c.value for c in (*at.caption, *at.warning))
    run = [b for b in at.button if b.label.startswith("Run: trust checks")]
    assert len(run) == 1
    run[0].click().run()  # the checks run in the background, with a progress bar
    for job in list(at.session_state["fv_jobs"].values()):
        assert job.wait(600) and not job.error, job.error
    at.run()
    assert not at.exception and not at.get("progress")
    from ferviz.data import open_data
    from ferviz.explain.trust import badge, verdicts

    found = verdicts(untrained[0], open_data("synth", split="test").images(),
                     ["gradcam", FAILING], compute=False)  # what the click computed
    assert trust(at) == {m: badge(v)["state"] for m, v in found.items()}
    assert found[FAILING].sanity == "FAIL" and trust(at)[FAILING] == "fail"
    assert any(w.value.startswith(f"{FAILING}: sanity FAIL") for w in at.warning)
    assert any(f"{FAILING} (class-agnostic)" in w.value and "facial evidence" in w.value
               for w in at.warning)
    want = {"gradcam": trust(at)["gradcam"]}
    cm = page("confusion")
    assert trust(cm) == {}
    cm.checkbox(key="w_cam").check().run()
    assert trust(cm) == want  # cached by now: no Run click
    face = io.BytesIO()
    Image.fromarray(open_data("synth", split="test").images()[3]).resize((96, 96)).save(face,
                                                                                      "PNG")
    photo = page("try", try_methods=FAILING)
    photo.get("file_uploader")[0].set_value(("face.png", face.getvalue(), "image/png"))
    photo.run()
    assert trust(photo) == {FAILING: "fail"}
    assert any("sanity FAIL" in w.value for w in photo.warning)


def test_report_console_script_runs_the_checks_with_check(untrained, tmp_path):
    """``ferviz report --check`` (the installed script) runs the checks and shows the failing
    verdict beside every map (the API test above reads such verdicts back from the cache)."""
    import os
    import subprocess

    _, path = untrained
    out = tmp_path / "checked.html"
    done = subprocess.run(
        ["ferviz", "report", "-m", str(path), "-d", "synth", "--split", "test", "--saliency",
         FAILING, "--top", "2", "--max-saliency", "4", "-o", str(out), "--check"],
        capture_output=True, text=True, env={**os.environ, "FERVIZ_CACHE": str(tmp_path)},
        timeout=600)
    assert done.returncode == 0, done.stderr
    page = out.read_text()
    badge = f'alt="{FAILING} saliency"><br>{FAILING}<br><span class="badge fail"'
    assert page.count(badge) > 0 and "trust not checked" not in page
