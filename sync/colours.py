"""Register colours (``#RRGGBB``) as CSS3 colour names, which RFC 7986 ``COLOR`` requires."""

from __future__ import annotations

import functools
import re

CSS_COLOURS = {
    "black": (0, 0, 0),
    "dimgray": (105, 105, 105),
    "gray": (128, 128, 128),
    "silver": (192, 192, 192),
    "white": (255, 255, 255),
    "maroon": (128, 0, 0),
    "darkred": (139, 0, 0),
    "firebrick": (178, 34, 34),
    "crimson": (220, 20, 60),
    "red": (255, 0, 0),
    "tomato": (255, 99, 71),
    "salmon": (250, 128, 114),
    "orangered": (255, 69, 0),
    "darkorange": (255, 140, 0),
    "orange": (255, 165, 0),
    "chocolate": (210, 105, 30),
    "sienna": (160, 82, 45),
    "saddlebrown": (139, 69, 19),
    "goldenrod": (218, 165, 32),
    "gold": (255, 215, 0),
    "yellow": (255, 255, 0),
    "khaki": (240, 230, 140),
    "olive": (128, 128, 0),
    "yellowgreen": (154, 205, 50),
    "limegreen": (50, 205, 50),
    "lime": (0, 255, 0),
    "forestgreen": (34, 139, 34),
    "green": (0, 128, 0),
    "darkgreen": (0, 100, 0),
    "seagreen": (46, 139, 87),
    "mediumseagreen": (60, 179, 113),
    "teal": (0, 128, 128),
    "darkcyan": (0, 139, 139),
    "lightseagreen": (32, 178, 170),
    "turquoise": (64, 224, 208),
    "cyan": (0, 255, 255),
    "deepskyblue": (0, 191, 255),
    "skyblue": (135, 206, 235),
    "steelblue": (70, 130, 180),
    "dodgerblue": (30, 144, 255),
    "royalblue": (65, 105, 225),
    "blue": (0, 0, 255),
    "mediumblue": (0, 0, 205),
    "darkblue": (0, 0, 139),
    "navy": (0, 0, 128),
    "midnightblue": (25, 25, 112),
    "slateblue": (106, 90, 205),
    "indigo": (75, 0, 130),
    "purple": (128, 0, 128),
    "darkmagenta": (139, 0, 139),
    "mediumorchid": (186, 85, 211),
    "orchid": (218, 112, 214),
    "violet": (238, 130, 238),
    "magenta": (255, 0, 255),
    "deeppink": (255, 20, 147),
    "hotpink": (255, 105, 180),
    "pink": (255, 192, 203),
}


_HEX = re.compile(r"#([0-9A-Fa-f]{6})")


def hex_colour(value: str | None) -> str | None:
    """``#RRGGBB`` in upper case, or None when ``value`` is not such a colour. The desktop
    application writes registers straight into the database: one odd colour there must not
    stop the rendering of every task of the register."""
    match = _HEX.fullmatch((value or "").strip())
    return f"#{match.group(1).upper()}" if match else None


@functools.lru_cache(maxsize=1024)
def nearest_css_colour(value: str | None) -> str | None:
    """The CSS3 colour name closest to a ``#RRGGBB`` colour (by a perceptually weighted
    distance), None for anything else. Remembered: every rendering of a task asks for its
    register's colour (~0.1 ms a search)."""
    colour = hex_colour(value)
    if colour is None:
        return None
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))

    def distance(rgb: tuple[int, int, int]) -> float:
        mean_red = (r + rgb[0]) / 2
        dr, dg, db = r - rgb[0], g - rgb[1], b - rgb[2]
        return (2 + mean_red / 256) * dr * dr + 4 * dg * dg + (2 + (255 - mean_red) / 256) * db * db

    return min(CSS_COLOURS, key=lambda name: distance(CSS_COLOURS[name]))
