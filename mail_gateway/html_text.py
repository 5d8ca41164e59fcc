"""HTML bodies of inbound mail: a display-safe copy and a readable plain-text rendering.

Mail HTML is hostile input. ``sanitize_html`` is what may ever reach a browser: nh3 (ammonia)
with an allow-list, no active content and no remote resources (a remote image is a read receipt
the customer never agreed to). ``html_to_text`` renders with inscriptis, which keeps tables
readable, and then normalises the text the same way ``normalize_text`` does for plain bodies.
"""

from __future__ import annotations

import html as html_lib
import re

import nh3
from inscriptis import get_text
from inscriptis.css_profiles import CSS_PROFILES
from inscriptis.html_properties import Display
from inscriptis.model.config import ParserConfig
from inscriptis.model.html_element import HtmlElement
from lxml.etree import LxmlError

__all__ = ["html_to_text", "normalize_text", "sanitize_html"]

_ALLOWED_TAGS: frozenset[str] = frozenset(
    {
        "a", "abbr", "b", "big", "blockquote", "br", "caption", "center", "code", "col",
        "colgroup", "dd", "del", "div", "dl", "dt", "em", "font", "h1", "h2", "h3", "h4", "h5",
        "h6", "hr", "i", "img", "ins", "li", "ol", "p", "pre", "q", "s", "small", "span",
        "strike", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr",
        "tt", "u", "ul",
    }
)  # fmt: skip

_CELL_ATTRIBUTES = frozenset({"colspan", "rowspan", "valign", "width", "height", "bgcolor"})
_ALLOWED_ATTRIBUTES: dict[str, frozenset[str]] = {
    "*": frozenset({"style", "dir", "align", "title", "lang"}),
    "a": frozenset({"href"}),
    "img": frozenset({"src", "alt", "width", "height"}),
    "td": _CELL_ATTRIBUTES,
    "th": _CELL_ATTRIBUTES,
    "table": frozenset({"border", "cellpadding", "cellspacing", "width", "bgcolor"}),
    "col": frozenset({"span", "width"}),
    "colgroup": frozenset({"span", "width"}),
    "font": frozenset({"color", "face"}),
    "ol": frozenset({"start", "type"}),
    "ul": frozenset({"type"}),
    "blockquote": frozenset({"type"}),
}

# Layout and colour only. No position/display/visibility/opacity/font-size (overlays and hidden
# text), no background (url() is a remote fetch), no content/behavior.
_ALLOWED_STYLE_PROPERTIES: frozenset[str] = frozenset(
    {
        "color", "background-color", "font-weight", "font-style", "font-family",
        "text-decoration", "text-align", "vertical-align", "white-space", "line-height",
        "direction", "list-style-type", "border-collapse", "border", "border-top",
        "border-right", "border-bottom", "border-left", "border-color", "border-style",
        "border-width", "margin", "margin-top", "margin-right", "margin-bottom", "margin-left",
        "padding", "padding-top", "padding-right", "padding-bottom", "padding-left", "width",
        "height",
    }
)  # fmt: skip

# nh3 checks schemes first; the filter below narrows them per attribute (no data: links).
_URL_SCHEMES = frozenset({"http", "https", "mailto", "tel", "cid", "data"})
_LINK_PREFIXES = ("http://", "https://", "mailto:", "tel:")
_INLINE_IMAGE = re.compile(r"(?:cid:|data:image/(?:png|gif|jpe?g|webp|bmp);base64,)", re.I)
# Anything that could fetch, execute or hide an escape sequence inside a style attribute.
_STYLE_DANGER = re.compile(r"url\s*\(|expression|javascript|vbscript|@import|behavior|\\|/\*", re.I)
# nh3 output escapes "<" and ">" inside attribute values, so a tag ends at the first ">".
_IMG_TAG = re.compile(r"<img\b[^>]*>")

_ZERO_WIDTH = "\u200b\u2060\ufeff\u00ad"
_ODD_SPACES = "\u00a0\u202f\u2007\u2009\u200a\u2002\u2003\u2004\u2005\u2006\u3000"
_TRANSLATION: dict[int, str | None] = {
    **{ord(ch): None for ch in _ZERO_WIDTH},
    **{ord(ch): " " for ch in _ODD_SPACES},
    ord("\u2028"): "\n",
    ord("\u2029"): "\n",
    ord("\x0b"): "\n",
    ord("\x0c"): "\n",
}
# Characters lxml refuses or that only ever come from broken decoding.
_UNPARSABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_SIGNATURE_DELIMITER = "-- "
_MAX_BLANK_RUN = 2
# Word-generated HTML (Outlook desktop/Mac) writes every line as <p class=MsoNormal> with zero
# margins and blank lines as empty paragraphs; browser margins would double-space it.
_WORD_HTML = re.compile(r"class=[\"']?Mso|urn:schemas-microsoft-com:office:", re.IGNORECASE)
_WORD_EMPTY_LINE = re.compile(r"<o:p>\s*(?:&nbsp;|\u00a0)\s*</o:p>", re.IGNORECASE)
# webmail editors (Onet, WP, TinyMCE, Outlook Express) write a blank line as <div>&nbsp;</div>
_EMPTY_DIV = re.compile(r"<div(\s[^<>]*)?>\s*(?:&nbsp;|&#160;|\u00a0)\s*</div\s*>", re.IGNORECASE)


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    """Narrow URL attributes to what is safe *and* local: links out, images only inline."""
    if attribute == "href":
        return value if value.strip().lower().startswith(_LINK_PREFIXES) else None
    if attribute == "src":
        return value if tag == "img" and _INLINE_IMAGE.match(value.strip()) else None
    if attribute == "style" and _STYLE_DANGER.search(value):
        return None
    return value


def _drop_sourceless_image(match: re.Match[str]) -> str:
    """An <img> whose remote src was removed is a dead box (or a beacon); drop it whole."""
    return match.group(0) if " src=" in match.group(0) else ""


def sanitize_html(html: str) -> str:
    """Return ``html`` safe to show: no scripts, handlers, frames, remote images or CSS tricks."""
    cleaned = nh3.clean(
        _UNPARSABLE.sub("", html),
        tags=set(_ALLOWED_TAGS),
        clean_content_tags={"script", "style", "title", "head", "noscript", "template", "xmp"},
        attributes={tag: set(names) for tag, names in _ALLOWED_ATTRIBUTES.items()},
        attribute_filter=_filter_attribute,
        strip_comments=True,
        link_rel="noopener noreferrer nofollow",
        url_schemes=set(_URL_SCHEMES),
        filter_style_properties=set(_ALLOWED_STYLE_PROPERTIES),
        url_relative="deny",
    )
    return _IMG_TAG.sub(_drop_sourceless_image, cleaned)


def normalize_text(text: str) -> str:
    """Normalise a text body so rules can work line by line.

    CRLF/CR become LF; zero-width characters go; NBSP and the narrow spaces some clients put in
    dates ("10:15\u202fAM") become plain spaces; trailing whitespace is stripped except on the
    ``-- `` signature delimiter (RFC 3676 makes its space significant); runs of blank lines
    are limited to two; leading and trailing blank lines are dropped.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_TRANSLATION)
    lines: list[str] = []
    blank_run = 0
    for raw in text.split("\n"):
        line = raw if raw == _SIGNATURE_DELIMITER else raw.rstrip()
        blank_run = blank_run + 1 if not line else 0
        if blank_run <= _MAX_BLANK_RUN:
            lines.append(line)
    while lines and not lines[-1]:
        lines.pop()
    start = 0
    while start < len(lines) and not lines[start]:
        start += 1
    return "\n".join(lines[start:])


# Last-resort rendering for what lxml refuses or drops (it silently empties documents nested
# deeper than 255 elements). A regex, not html.parser: that one is quadratic on hostile input.
_FALLBACK_TOKEN = re.compile(
    r"<!--.*?(?:-->|\Z)"
    r"|<(script|style|head|title)\b[^>]*>.*?(?:</\1\s*>|\Z)"
    r"|<[!?][^>]*>"
    r"|<(/?)([a-zA-Z][^\s/>]*)[^>]*>",
    re.DOTALL | re.IGNORECASE,
)
_BREAK_TAGS = frozenset(
    {"br", "p", "div", "tr", "li", "table", "blockquote", "pre", "hr", "h1", "h2", "h3", "h4"}
)


def _fallback_break(match: re.Match[str]) -> str:
    name = match.group(3)
    return "\n" if name is not None and name.lower() in _BREAK_TAGS else ""


def _fallback_text(html: str) -> str:
    """Tags out, a newline at block edges, entities decoded; linear time (tokens end at a ">")."""
    limit = html.rfind(">") + 1
    return html_lib.unescape(_FALLBACK_TOKEN.sub(_fallback_break, html[:limit]) + html[limit:])


def html_to_text(html: str) -> str:
    """Render ``html`` as readable plain text (tables kept as columns), normalised."""
    if not html or not html.strip():
        return ""
    source = _EMPTY_DIV.sub(r"<div\1><br></div>", _UNPARSABLE.sub("", html))
    css = CSS_PROFILES["strict"].copy()
    if _WORD_HTML.search(source):
        css["p"] = HtmlElement(display=Display.block)
        source = _WORD_EMPTY_LINE.sub("<br>", source)
    config = ParserConfig(css=css, display_links=False)
    try:
        text: str = get_text(source, config)
    except (ValueError, LxmlError, RecursionError):  # lxml rejects some inputs outright
        text = ""
    if not text.strip():
        text = _fallback_text(source)
    return normalize_text(text)
