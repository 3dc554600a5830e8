"""helpers.data: the data folder is found from anywhere, and bad files give clear errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers import data_dir, data_path, load_house_prices

REPO = Path(__file__).resolve().parents[1]


def test_the_data_folder_is_the_repository_data_folder_by_default(monkeypatch):
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    assert data_dir() == REPO / "data"


def test_house_prices_load_from_any_working_directory(tmp_path):
    code = "from helpers import load_house_prices; h = load_house_prices(); print(len(h), h.size_m2.dtype)"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["200", "float64"]


def test_house_prices_are_the_generated_data():
    houses = load_house_prices()
    assert len(houses) == 200
    for column in (houses.size_m2, houses.bedrooms, houses.age_years, houses.price_keur):
        assert column.shape == (200,) and np.all(np.isfinite(column))
    assert 35 <= houses.size_m2.min() and houses.size_m2.max() <= 320
    assert np.corrcoef(houses.size_m2, houses.price_keur)[0, 1] > 0.9


def test_the_generator_reproduces_the_committed_file(tmp_path):
    sys.path.insert(0, str(REPO / "data"))
    try:
        import make_house_prices
    finally:
        sys.path.pop(0)
    rows = make_house_prices.make_house_prices()
    committed = (REPO / "data" / "house_prices.csv").read_text().splitlines()
    assert committed[0] == "size_m2,bedrooms,age_years,price_keur"
    assert len(committed) == 201
    first = dict(zip(committed[0].split(","), map(float, committed[1].split(","))))
    assert first == {k: float(v) for k, v in rows[0].items()}


def test_a_missing_file_names_the_file_and_the_fix(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"'house_prices.csv' not found .*COURSE_DATA_DIR"):
        data_path("house_prices.csv")


def test_a_file_with_a_wrong_header_or_a_bad_value_is_reported(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    (tmp_path / "house_prices.csv").write_text("size,price\n1,2\n")
    with pytest.raises(ValueError, match=r"lacks the column\(s\) \['size_m2'"):
        load_house_prices()
    (tmp_path / "house_prices.csv").write_text("size_m2,bedrooms,age_years,price_keur\n100,3,abc,300\n")
    with pytest.raises(ValueError, match="column 'age_years'"):
        load_house_prices()
    (tmp_path / "house_prices.csv").write_text("size_m2,bedrooms,age_years,price_keur\n")
    with pytest.raises(ValueError, match="holds no houses"):
        load_house_prices()
