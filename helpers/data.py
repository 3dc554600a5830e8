"""Where the course's data lives, and loaders for the small data sets it ships.

The data folder is ``$COURSE_DATA_DIR`` when that variable is set, otherwise the ``data/`` folder of
the repository this package was installed from (``pip install -e .``). Either way a notebook finds
its data from any working directory.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATA_ENV_VAR = "COURSE_DATA_DIR"


def data_dir() -> Path:
    """Return the folder that holds the course's data files.

    Returns
    -------
    pathlib.Path
        ``$COURSE_DATA_DIR`` (resolved) when that variable is set, else the repository's ``data/`` folder.
    """
    configured = os.environ.get(DATA_ENV_VAR)
    if configured:
        return Path(configured).expanduser().resolve()
    return Path(__file__).resolve().parent.parent / "data"


def data_path(name: str) -> Path:
    """Return the path of the data file ``name``.

    Parameters
    ----------
    name : str
        A file name inside the data folder, e.g. ``"house_prices.csv"``.

    Returns
    -------
    pathlib.Path
        The file's path inside ``data_dir()``.

    Raises
    ------
    FileNotFoundError
        If the file is not there; the message says how to install the course or set ``COURSE_DATA_DIR``.
    """
    path = data_dir() / name
    if not path.exists():
        raise FileNotFoundError(
            f"data file {name!r} not found in {path.parent}. Install the course with `pip install -e .` "
            f"from a clone of the repository, or set {DATA_ENV_VAR} to the folder that holds {name!r}."
        )
    return path


@dataclass(frozen=True)
class HousePrices:
    """Sales of houses: one entry per house, every field an array of shape (n,).

    The data are synthetic (see ``data/make_house_prices.py``): realistic in scale and noise,
    generated from a known model with a fixed seed. ``len(houses)`` is n.

    Attributes
    ----------
    size_m2 : numpy.ndarray, shape (n,)
        Living area in square metres.
    bedrooms : numpy.ndarray, shape (n,)
        Number of bedrooms.
    age_years : numpy.ndarray, shape (n,)
        Age of the house in years.
    price_keur : numpy.ndarray, shape (n,)
        Sale price in thousands of euros.
    """

    size_m2: np.ndarray
    bedrooms: np.ndarray
    age_years: np.ndarray
    price_keur: np.ndarray

    def __len__(self) -> int:
        return len(self.price_keur)


HOUSE_COLUMNS = ("size_m2", "bedrooms", "age_years", "price_keur")


def load_house_prices(name: str = "house_prices.csv") -> HousePrices:
    """Load the house-price data set: sizes in m², ages in years, prices in thousands of euros.

    Parameters
    ----------
    name : str
        The CSV file in the data folder, with the header ``size_m2,bedrooms,age_years,price_keur``.

    Returns
    -------
    HousePrices
        One float array of shape (n,) per column, n the number of houses.

    Raises
    ------
    FileNotFoundError
        If the file is not in the data folder.
    ValueError
        If the file lacks a column, holds no house, or holds a value that is not a number.
    """
    path = data_path(name)
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in HOUSE_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path} lacks the column(s) {missing}; expected the header {','.join(HOUSE_COLUMNS)}")
        rows = list(reader)
    if not rows:
        raise ValueError(f"{path} holds no houses")
    columns = {}
    for column in HOUSE_COLUMNS:
        try:
            columns[column] = np.array([float(row[column]) for row in rows])
        except (TypeError, ValueError) as error:
            raise ValueError(f"{path}: column {column!r} holds a value that is not a number ({error})") from None
    return HousePrices(**columns)
