"""A report's chart as a PNG, drawn with matplotlib's object API.

No pyplot: its global figure registry is not thread-safe, and the server renders reports in
threads. A :class:`Figure` on its own Agg canvas is. The size and DPI are fixed so the picture
looks the same in every mail, and DejaVu Sans (shipped with matplotlib) draws Polish letters on
any machine, whatever a local matplotlibrc says.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Sequence
from decimal import Decimal

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from reports.model import Chart

WIDTH_PX = 800
HEIGHT_PX = 400
DPI = 100
FONT = "DejaVu Sans"
#: more categories than this, or longer names, and the labels are turned
_ROTATE_OVER = 6
_SHORT_LABEL = 12
_LONGEST_LABEL = 28


def chart_png(chart: Chart) -> bytes:
    """The chart as PNG bytes, ``WIDTH_PX`` x ``HEIGHT_PX``."""
    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(chart.categories)))
    if chart.kind == "line":
        for name, values in chart.series.items():
            axes.plot(positions, values, marker="o", label=name)
    else:
        _bars(axes, chart, positions)
    axes.set_title(chart.title, fontfamily=FONT, fontsize=13)
    axes.set_xticks(positions, [_short(label) for label in chart.categories])
    _turn_labels_if_crowded(axes, chart.categories)
    axes.yaxis.set_major_formatter(FuncFormatter(_axis_number(chart.value_kind == "percent")))
    if chart.value_kind == "int":
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.tick_params(labelfontfamily=FONT, labelsize=9)
    axes.grid(axis="y", color="#dddddd", linewidth=0.8)
    axes.set_axisbelow(True)
    axes.spines[["top", "right"]].set_visible(False)
    if len(chart.series) > 1:
        axes.legend(prop={"family": FONT, "size": 9}, frameon=False)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def data_uri(png: bytes) -> str:
    """The PNG inline (``data:`` URI) for documents that travel alone: HTML export, PDF."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _bars(axes: Axes, chart: Chart, positions: Sequence[int]) -> None:
    """Series side by side (``bar``) or on top of each other (``stacked``)."""
    count = max(len(chart.series), 1)
    width = 0.8 if chart.kind == "stacked" else 0.8 / count
    bottoms = [0.0] * len(positions)
    for index, (name, values) in enumerate(chart.series.items()):
        if chart.kind == "stacked":
            axes.bar(positions, values, width, bottom=bottoms, label=name)
            bottoms = [bottom + value for bottom, value in zip(bottoms, values, strict=True)]
        else:
            shift = (index - (count - 1) / 2) * width
            axes.bar([position + shift for position in positions], values, width, label=name)


def _turn_labels_if_crowded(axes: Axes, categories: Sequence[str]) -> None:
    crowded = len(categories) > _ROTATE_OVER or any(len(c) > _SHORT_LABEL for c in categories)
    if crowded:
        for label in axes.get_xticklabels():
            label.set_rotation(35)
            label.set_horizontalalignment("right")
            label.set_rotation_mode("anchor")


def _short(label: str) -> str:
    """Long names (customers) are cut so the plot keeps its room."""
    return label if len(label) <= _LONGEST_LABEL else label[: _LONGEST_LABEL - 1] + "…"


def _axis_number(percent: bool) -> Callable[[float, float], str]:
    """Axis numbers grouped with a no-break space, readable in Polish and English alike."""

    def text(value: float, _position: float) -> str:
        number = f"{Decimal(str(value)).normalize():,f}".replace(",", "\u00a0")
        return number + "%" if percent else number

    return text
