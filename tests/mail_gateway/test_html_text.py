"""Display-safe HTML and readable text from inbound mail HTML."""

from __future__ import annotations

import pytest

from mail_gateway.html_text import html_to_text, normalize_text, sanitize_html

# --------------------------------------------------------------------------- sanitize_html


def test_keeps_basic_formatting_and_polish_letters() -> None:
    html = "<p>Zażółć <b>gęślą</b> <i>jaźń</i> <u>ĄĆĘŁŃÓŚŹŻ</u><br>druga linia</p>"
    assert sanitize_html(html) == html


def test_script_is_removed_with_its_content() -> None:
    cleaned = sanitize_html("<p>treść</p><script>alert('x')</script><noscript>n</noscript>")
    assert cleaned == "<p>treść</p>"


@pytest.mark.parametrize(
    "html",
    [
        '<img src="x" onerror="alert(1)">',
        '<p onclick="alert(1)" onmouseover="alert(2)">x</p>',
        '<body onload="alert(1)">x</body>',
        '<svg onload="alert(1)"><circle r="1"/></svg>',
    ],
)
def test_event_handlers_are_removed(html: str) -> None:
    cleaned = sanitize_html(html).lower()
    assert "alert" not in cleaned
    assert " on" not in cleaned


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "/relative/path",
        "cid:image001.png",
    ],
)
def test_unsafe_or_local_links_lose_their_href(href: str) -> None:
    cleaned = sanitize_html(f'<a href="{href}">kliknij</a>')
    assert "href" not in cleaned
    assert "kliknij" in cleaned


@pytest.mark.parametrize(
    "href", ["https://firma.pl/zamowienie?id=1&x=2", "http://firma.pl/", "mailto:jan@firma.pl"]
)
def test_safe_links_are_kept_with_rel(href: str) -> None:
    cleaned = sanitize_html(f'<a href="{href}" target="_blank">link</a>')
    assert 'href="' in cleaned
    assert 'rel="noopener noreferrer nofollow"' in cleaned
    assert "target" not in cleaned


@pytest.mark.parametrize(
    "html",
    [
        '<iframe src="https://evil.example/"></iframe>',
        '<object data="https://evil.example/x.swf"></object>',
        '<embed src="https://evil.example/x.swf">',
        '<form action="https://evil.example/"><input name="haslo"><button>OK</button></form>',
        '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
        '<base href="https://evil.example/">',
        '<link rel="stylesheet" href="https://evil.example/x.css">',
    ],
)
def test_active_and_remote_elements_are_removed(html: str) -> None:
    cleaned = sanitize_html(html)
    assert "evil.example" not in cleaned
    for tag in ("<iframe", "<object", "<embed", "<form", "<input", "<meta", "<base", "<link"):
        assert tag not in cleaned


@pytest.mark.parametrize(
    "src",
    [
        "https://tracker.example/pixel.gif",
        "http://tracker.example/pixel.gif",
        "//tracker.example/pixel.gif",
        "data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=",
        "javascript:alert(1)",
        "image001.png",
    ],
)
def test_remote_and_unsafe_images_are_dropped_whole(src: str) -> None:
    cleaned = sanitize_html(f'<p>przed<img src="{src}" alt="logo" width="1" height="1">po</p>')
    assert cleaned == "<p>przedpo</p>"


def test_srcset_cannot_smuggle_a_remote_image() -> None:
    cleaned = sanitize_html('<img src="cid:logo" srcset="https://tracker.example/a.png 2x">')
    assert cleaned == '<img src="cid:logo">'


@pytest.mark.parametrize(
    "src", ["cid:image001.png@01DA4512.ABCDEF00", "data:image/png;base64,iVBORw0KGgo="]
)
def test_inline_images_are_kept(src: str) -> None:
    cleaned = sanitize_html(f'<img src="{src}" alt="Logo firmy" width="120">')
    assert cleaned == f'<img src="{src}" alt="Logo firmy" width="120">'


def test_background_attributes_cannot_fetch() -> None:
    cleaned = sanitize_html(
        '<table background="https://evil.example/bg.png"><tr>'
        '<td background="https://evil.example/bg.png">x</td></tr></table>'
    )
    assert "evil.example" not in cleaned
    assert "<td>x</td>" in cleaned


@pytest.mark.parametrize(
    "style",
    [
        "background:url(https://evil.example/x.png)",
        "background-image: URL( 'https://evil.example/x.png' )",
        "color: expression(alert(1))",
        "behavior: url(#default#VML)",
        "background-image: u\\72l(https://evil.example/x.png)",
        "color: red; /* */ background: url(https://evil.example/)",
        "@import 'https://evil.example/x.css'",
    ],
)
def test_style_that_can_fetch_or_execute_is_dropped(style: str) -> None:
    cleaned = sanitize_html(f'<div style="{style}">tekst</div>')
    assert cleaned == "<div>tekst</div>"


@pytest.mark.parametrize(
    "style",
    [
        "position:fixed;top:0;left:0",  # overlay over the application
        "display:none",  # hidden text
        "visibility:hidden",
        "opacity:0",
        "font-size:0",
        "content:'x'",
    ],
)
def test_style_tricks_are_filtered_out(style: str) -> None:
    cleaned = sanitize_html(f'<p style="{style}">tekst</p>')
    assert "tekst" in cleaned
    for word in ("position", "display", "visibility", "opacity", "font-size", "content"):
        assert word not in cleaned


def test_harmless_style_is_kept() -> None:
    html = '<p style="font-weight:bold;color:#333;text-align:center">ok</p>'
    assert sanitize_html(html) == html


def test_style_elements_and_comments_are_removed() -> None:
    cleaned = sanitize_html(
        "<style>body{background:url(https://evil.example/)}</style>"
        "<!--[if mso]><p>tylko Outlook</p><![endif]--><p>widoczne</p>"
    )
    assert cleaned == "<p>widoczne</p>"


def test_tables_are_kept() -> None:
    html = (
        '<table border="1" cellpadding="2"><tbody><tr><th colspan="2">Nagłówek</th></tr>'
        '<tr><td>a</td><td style="background-color:#eee">b</td></tr></tbody></table>'
    )
    assert sanitize_html(html) == html


def test_classes_and_ids_are_dropped() -> None:
    """No hooks into the application's own CSS and no DOM clobbering via id."""
    assert sanitize_html('<div class="alert" id="user">x</div>') == "<div>x</div>"


def test_control_characters_do_not_break_sanitizing() -> None:
    assert sanitize_html("<p>a\x00b\x0bc</p>") == "<p>abc</p>"


# --------------------------------------------------------------------------- html_to_text


def test_table_stays_readable() -> None:
    html = (
        "<table><tr><th>Pozycja</th><th>Ilość</th></tr>"
        "<tr><td>Śruba M8 ocynkowana</td><td>120 szt.</td></tr>"
        "<tr><td>Nakrętka</td><td>4 szt.</td></tr></table>"
    )
    assert html_to_text(html) == (
        "Pozycja              Ilość\nŚruba M8 ocynkowana  120 szt.\nNakrętka             4 szt."
    )


def test_entities_and_polish_letters() -> None:
    html = "<p>Za&oacute;&#322;&#263; g&#x119;&#347;l&#261; ja&zacute;&nacute;&nbsp;&ndash; ok</p>"
    assert html_to_text(html) == "Zaółć gęślą jaźń – ok"


def test_script_style_and_head_are_not_text() -> None:
    html = (
        "<html><head><title>T</title><style>p{color:red}</style></head>"
        "<body><p>treść</p><script>var x = 1;</script></body></html>"
    )
    assert html_to_text(html) == "treść"


def test_line_structure() -> None:
    html = "<div>linia 1<br>linia 2</div><div><br></div><div>akapit</div>"
    assert html_to_text(html) == "linia 1\nlinia 2\n\nakapit"


def test_lists() -> None:
    assert html_to_text("<ul><li>jeden</li><li>dwa</li></ul>") == "  * jeden\n  * dwa"


def test_links_show_their_text_only() -> None:
    html = '<p>Odwiedź <a href="https://firma.pl">naszą stronę</a></p><img src="cid:x" alt="x">'
    assert html_to_text(html) == "Odwiedź naszą stronę"


def test_word_html_keeps_outlook_line_spacing() -> None:
    """Outlook writes each line as a zero-margin <p class=MsoNormal>, blank lines as &nbsp;."""
    html = (
        '<p class="MsoNormal">Dzień dobry,<o:p></o:p></p>'
        '<p class="MsoNormal"><o:p>&nbsp;</o:p></p>'
        '<p class="MsoNormal">proszę o wymianę.<o:p></o:p></p>'
        '<p class="MsoNormal">Termin: piątek.<o:p></o:p></p>'
    )
    assert html_to_text(html) == "Dzień dobry,\n\nproszę o wymianę.\nTermin: piątek."


@pytest.mark.parametrize("html", ["", "   ", "<div></div>", "<img src='cid:x'>"])
def test_empty_html_gives_empty_text(html: str) -> None:
    assert html_to_text(html) == ""


def test_control_characters_and_xml_declaration() -> None:
    assert html_to_text('<?xml version="1.0" encoding="utf-8"?><p>a\x00b\x0bc</p>') == "abc"


def test_too_deep_nesting_falls_back_instead_of_losing_text() -> None:
    assert html_to_text("<div>" * 1_000 + "treść &amp; więcej") == "treść & więcej"


@pytest.mark.parametrize(
    "html",
    ["<a " * 50_000 + "x", "<p>" + "<a " * 50_000 + "x</p>", "<!--" * 50_000, "<![" * 50_000],
    ids=["open-tags", "open-tags-closed", "comments", "sections"],
)
def test_hostile_html_returns(html: str) -> None:
    assert isinstance(html_to_text(html), str)
    assert isinstance(sanitize_html(html), str)


def test_megabyte_line_of_text() -> None:
    text = html_to_text("<p>" + "Ala ma kota. " * 80_000 + "</p>")
    assert text.startswith("Ala ma kota.")
    assert len(text) == len("Ala ma kota. " * 80_000) - 1


# --------------------------------------------------------------------------- normalize_text


def test_normalize_text() -> None:
    raw = "\ufeffDzień\u00a0dobry,  \r\nzamawiam\u200b 3\u202fpalety.\r\r\n\n\n\n\nKoniec\t\n\n"
    assert normalize_text(raw) == "Dzień dobry,\nzamawiam 3 palety.\n\n\nKoniec"


def test_normalize_text_keeps_the_signature_delimiter_space() -> None:
    assert normalize_text("treść\n-- \nJan  \n") == "treść\n-- \nJan"
