"""The recommendation body written column by column is, byte for byte, ``json.dumps`` of
the document with a dict per row (the body as first written), on random columns."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.jsonable import jsonable
from workbench.recommend import COLUMNS, Recommendation
from workbench.serve.bodies import recommendation_body


def body_by_dumps(market_name: str, answer: Recommendation) -> bytes:
    """The body as first written: one dict per row, NaN and infinities as None, and
    ``json.dumps`` of the whole document."""
    def finite(values: list[Any]) -> list[Any]:
        return [None if isinstance(v, float) and not math.isfinite(v) else v for v in values]

    info = answer.attrs
    columns = [finite(c.tolist()) if isinstance(c, np.ndarray) else c
               for c in answer.columns.values()]
    keys = list(answer.columns)
    doc = {"market": market_name, "strategy": jsonable(info["strategy"]),
           "as_of": info["as_of"], "rule": info["rule"], "inputs": jsonable(info["inputs"]),
           "rows": [dict(zip(keys, row, strict=True)) for row in zip(*columns, strict=True)]}
    return json.dumps(doc, ensure_ascii=False, allow_nan=False).encode()


TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12) \
    | st.sampled_from(['"', "\\", "%s", "{}", "{0}", "%%", "\n\t\x01", "浦发银行", "\u2028"])
FLOAT = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(
    [0.0, -0.0, 1e16, 5e-324, 0.1, 1 / 3, math.nan, math.inf, -math.inf])
ANY = st.none() | st.booleans() | st.integers(-10**20, 10**20) | FLOAT | TEXT


@settings(max_examples=300, deadline=None)
@given(data=st.data(), n=st.integers(0, 25), mixed=st.booleans())
def test_the_body_is_json_dumps_of_the_rows_byte_for_byte(data, n, mixed):
    def column(kind: st.SearchStrategy[Any], dtype: Any) -> Any:
        values = data.draw(st.lists(kind, min_size=n, max_size=n))
        if dtype is None:
            return values  # a list (as actions and reasons are)
        out = np.empty(n, dtype=dtype)
        out[:] = values
        return out

    columns = {"symbol": column(TEXT, object), "name": column(TEXT, object),
               "sector": column(ANY if mixed else TEXT, object),
               "action": column(TEXT, None), "score": column(FLOAT, np.float64),
               "target_weight": column(ANY if mixed else FLOAT, object if mixed else float),
               "reasons": column(TEXT, None)}
    assert tuple(columns) == COLUMNS
    attrs = {"strategy": {"name": data.draw(TEXT), "params": {"top_n": 20, "x": math.nan}},
             "as_of": "2024-12-31", "rule": data.draw(TEXT), "inputs": data.draw(TEXT)}
    answer = Recommendation(columns=columns, attrs=attrs)
    name = data.draw(TEXT)
    assert recommendation_body(name, answer) == body_by_dumps(name, answer)
