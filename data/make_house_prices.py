"""Generate ``house_prices.csv``: a synthetic but realistic set of 200 house sales.

Run from anywhere: ``python data/make_house_prices.py``. The seed is fixed, so the file is
reproduced byte for byte. The model behind the numbers is stated here so that the lesson can
compare what gradient descent finds with the truth:

    price_keur = 45 + 2.9 * size_m2 - 0.9 * age_years + noise,   noise ~ N(0, (6% of price)^2)

Sizes follow a log-normal distribution (median about 105 m², clipped to 35..320 m²), ages are
uniform on 0..90 years and the number of bedrooms grows with the size.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

SEED = 20241122
N_HOUSES = 200
OUT = Path(__file__).with_name("house_prices.csv")


def make_house_prices(n: int = N_HOUSES, seed: int = SEED) -> list[dict[str, float]]:
    """Return ``n`` synthetic house sales as dicts (size_m2, bedrooms, age_years, price_keur)."""
    rng = np.random.default_rng(seed)
    size = np.clip(rng.lognormal(mean=np.log(105.0), sigma=0.35, size=n), 35.0, 320.0)
    bedrooms = np.clip(np.round(size / 35.0 + rng.normal(0.0, 0.6, size=n)), 1, 7)
    age = rng.uniform(0.0, 90.0, size=n)
    mean_price = 45.0 + 2.9 * size - 0.9 * age
    price = mean_price * (1.0 + rng.normal(0.0, 0.06, size=n))
    return [
        {
            "size_m2": round(float(s), 1),
            "bedrooms": int(b),
            "age_years": round(float(a), 1),
            "price_keur": round(float(p), 1),
        }
        for s, b, a, p in zip(size, bedrooms, age, price)
    ]


def main() -> None:
    rows = make_house_prices()
    with OUT.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} houses to {OUT}")


if __name__ == "__main__":
    main()
