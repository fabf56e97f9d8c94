"""The shipped zoo: cards are complete, the README table is generated from them, and each
FER2013 model's card accuracy is confirmed by re-evaluation on the real PrivateTest."""

from __future__ import annotations

import re

import pytest

from conftest import FER2013, FERPLUS, ROOT, needs_fer2013
from ferviz.models import zoo

REQUIRED = ("recipe", "training", "metrics", "data", "data_hash")


def test_zoo_is_small_and_cards_are_complete():
    size = sum(p.stat().st_size for p in zoo.root().rglob("*") if p.is_file())
    assert size < 40e6
    for name in zoo.names():
        card = zoo.card(name)
        if card.info.get("members"):
            assert all(zoo.exists(m) for m in card.info["members"])
            continue
        missing = [k for k in REQUIRED if k not in card.info]
        assert not missing, f"{name}: card lacks {missing}"
        m = card.info["metrics"]
        assert {"accuracy", "accuracy_tta", "macro_f1", "per_class", "confusion"} <= set(m)
        assert (zoo.root() / name / zoo.WEIGHTS).is_file()


def test_readme_zoo_table_is_generated_from_the_cards():
    readme = (ROOT / "README.md").read_text()
    table = re.search(r"<!-- zoo-table -->\n(.*?)\n<!-- /zoo-table -->", readme, re.S)
    assert table and table.group(1).strip() == zoo.markdown_table().strip()


FER_MODELS = [n for n in zoo.names() if "FER2013" in zoo.card(n).info.get("metrics", {}).get("data", "")]


@needs_fer2013
@pytest.mark.parametrize("name", FER_MODELS or [pytest.param("none", marks=pytest.mark.skip(
    reason="no FER2013 model in the zoo yet"))])
def test_card_accuracy_is_confirmed_on_privatetest(name):
    from ferviz.analysis.metrics import summary
    from ferviz.data import open_data
    from ferviz.models.load import load_model
    from ferviz.predict import predict

    card = zoo.card(name)
    m = card.info["metrics"]
    labels = card.info["recipe"]["labels"] if "recipe" in card.info else "fer2013"
    records = open_data(FER2013, split="PrivateTest", labels=labels,
                        ferplus=FERPLUS if labels != "fer2013" else None)
    acc = summary(predict(load_model(name), records, cache=False))["accuracy"]
    assert abs(acc - m["accuracy"]) * 100 <= 0.2, f"{name}: measured {acc:.4f}, card {m['accuracy']}"
