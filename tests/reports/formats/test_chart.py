"""Charts as PNG: the picture decodes, has the fixed size, and draws what it was given."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from matplotlib.image import imread

from reports.formats import chart_png
from reports.formats.chart import HEIGHT_PX, WIDTH_PX
from reports.model import Chart

PNG = b"\x89PNG\r\n\x1a\n"


def pixels(png: bytes) -> np.ndarray:
    assert png.startswith(PNG)
    return imread(io.BytesIO(png), format="png")


def sales(kind: str, categories: int = 3) -> Chart:
    names = [f"Kontrahent {index} sp. z o.o. — Łódź, ul. Żółta" for index in range(categories)]
    return Chart(
        title="Lejek sprzedaży – wartość ważona",
        categories=names,
        series={
            "Wartość": [1000.0 * (index + 1) for index in range(categories)],
            "Ważona": [400.0 * (index + 1) for index in range(categories)],
        },
        kind=kind,  # type: ignore[arg-type]
        value_kind="money",
    )


@pytest.mark.parametrize("kind", ["bar", "stacked", "line"])
def test_every_kind_renders_at_the_fixed_size(kind: str) -> None:
    image = pixels(chart_png(sales(kind)))
    assert image.shape[:2] == (HEIGHT_PX, WIDTH_PX)
    assert image[..., :3].std() > 0.05  # something is drawn


def test_the_kinds_draw_different_pictures() -> None:
    pictures = {kind: pixels(chart_png(sales(kind))) for kind in ("bar", "stacked", "line")}
    assert not np.array_equal(pictures["bar"], pictures["stacked"])
    assert not np.array_equal(pictures["bar"], pictures["line"])


def test_the_values_decide_the_picture() -> None:
    chart = sales("bar")
    other = Chart(chart.title, chart.categories, {"Wartość": [1.0, 1.0, 9.0]}, "bar")
    assert not np.array_equal(pixels(chart_png(chart)), pixels(chart_png(other)))


def test_many_long_categories_and_an_empty_chart_still_render() -> None:
    assert pixels(chart_png(sales("bar", categories=30))).shape[:2] == (HEIGHT_PX, WIDTH_PX)
    empty = Chart("Brak danych", [], {"Otwarte": []}, "bar", "int")
    assert pixels(chart_png(empty)).shape[:2] == (HEIGHT_PX, WIDTH_PX)


def test_charts_render_side_by_side_in_threads() -> None:
    charts = [
        sales(kind, categories) for kind in ("bar", "stacked", "line") for categories in (2, 7)
    ]
    alone = [chart_png(chart) for chart in charts]
    with ThreadPoolExecutor(max_workers=6) as pool:
        together = list(pool.map(chart_png, charts * 3))
    assert together == alone * 3
