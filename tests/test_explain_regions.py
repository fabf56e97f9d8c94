"""Face-region shares."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ferviz.errors import FervizError
from ferviz.explain.regions import (
    REGIONS,
    area_shares,
    class_table,
    load_regions,
    region_masks,
    region_shares,
)


def test_default_regions_partition_the_frame():
    masks = region_masks()
    assert set(masks) == {*REGIONS, "other"}
    assert (np.sum(list(masks.values()), axis=0) == 1).all()
    assert abs(sum(area_shares().values()) - 1) < 1e-9


def test_shares_of_a_mouth_only_map():
    maps = np.zeros((2, 48, 48), np.float32)
    maps[0, 36:40, 20:28] = 1  # inside the mouth box
    maps[1, 17:20, 10:14], maps[1, 17:20, 30:34] = 1, 1  # both eyes, equally
    df = region_shares(maps)
    assert df.loc[0, "mouth"] == 1 and df.loc[0].drop("mouth").sum() == 0
    assert df.loc[1, "left_eye"] == df.loc[1, "right_eye"] == 0.5
    table = class_table(maps, [3, 4])
    assert list(table.index) == ["happy", "sad", "area"]
    assert table.loc["happy", "mouth"] == 1 and table.loc["happy", "n"] == 1


def test_override_and_errors(tmp_path):
    path = tmp_path / "regions.json"
    path.write_text(json.dumps({"top": [[0, 24, 0, 48]], "bottom": [[24, 48, 0, 48]]}))
    regions = load_regions(path)
    maps = np.zeros((1, 48, 48))
    maps[0, 30:, :] = 1
    assert region_shares(maps, regions).loc[0, "bottom"] == 1
    with pytest.raises(FervizError, match="overlap"):
        region_masks({"a": [(0, 10, 0, 10)], "b": [(5, 15, 5, 15)]})
    with pytest.raises(FervizError, match="outside"):
        region_masks({"a": [(0, 60, 0, 10)]})
    path.write_text("[1, 2]")
    with pytest.raises(FervizError, match="not a regions file"):
        load_regions(path)


def test_per_face_regions_mix_with_the_fixed_boxes():
    from ferviz.explain.regions import face_share_array

    own = {k: np.zeros((48, 48), bool) for k in REGIONS}
    own["mouth"][40:48, :] = True  # this face's mouth is the bottom band
    maps = np.zeros((2, 48, 48))
    maps[:, 44:48, 20:28] = 1  # inside the fixed chin box, inside this face's own mouth
    shares, cols = face_share_array(maps, [own, None])
    assert cols == [*REGIONS, "other"]
    assert shares[0, cols.index("mouth")] == 1 and shares[1, cols.index("chin")] == 1
    table = class_table(maps, [3, 3], faces=[own, None])
    assert table.loc["happy", "mouth"] == 0.5 and table.loc["happy", "chin"] == 0.5
    assert table.loc["area", "mouth"] == pytest.approx(
        (8 * 48 / 48 ** 2 + area_shares()["mouth"]) / 2)
    with pytest.raises(FervizError, match="1 per-face regions for 2 maps"):
        face_share_array(maps, [None])
    with pytest.raises(FervizError, match="expected"):
        face_share_array(maps, [{"top": [(0, 24, 0, 48)]}, None])
