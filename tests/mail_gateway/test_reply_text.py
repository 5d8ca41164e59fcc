"""The new part of a reply: the corpus in tests/data/mail/replies plus focused rule tests."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from mail_gateway.html_text import html_to_text, normalize_text
from mail_gateway.reply_text import Reply, extract_reply

CORPUS = Path(__file__).parents[1] / "data" / "mail" / "replies"
MANIFEST = tomllib.loads((CORPUS / "cases.toml").read_text(encoding="utf-8"))
CASES: list[dict[str, Any]] = MANIFEST["case"]
WORD = re.compile(r"\w+")


def _inputs(case: dict[str, Any]) -> tuple[str | None, str | None]:
    text = (CORPUS / case["text"]).read_text(encoding="utf-8") if "text" in case else None
    html = (CORPUS / case["html"]).read_text(encoding="utf-8") if "html" in case else None
    if text is not None and case.get("crlf"):
        text = text.replace("\n", "\r\n")
    return text, html


# --------------------------------------------------------------------------- the corpus


def test_corpus_is_large_and_consistent() -> None:
    ids = [case["id"] for case in CASES]
    assert len(ids) >= 40
    assert len(set(ids)) == len(ids)
    referenced = {case[key] for case in CASES for key in ("text", "html") if key in case}
    on_disk = {path.name for path in CORPUS.iterdir() if path.name != "cases.toml"}
    assert referenced == on_disk, "every fixture file is used by a case and exists"


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_corpus_case(case: dict[str, Any]) -> None:
    text, html = _inputs(case)
    reply = extract_reply(text, html)

    assert reply.text == case["expected"].strip("\n")
    if "method" in case:
        assert reply.method == case["method"]
    if "signature" in case:
        assert reply.signature == case["signature"].strip("\n")
    if "quoted" in case:
        assert reply.quoted == case["quoted"]
    for fragment in case.get("quoted_contains", []):
        assert fragment in reply.quoted
    for fragment in case.get("text_excludes", MANIFEST["default_text_excludes"]):
        assert fragment not in reply.text


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_corpus_nothing_is_lost(case: dict[str, Any]) -> None:
    """Every word of the body is in text, quoted or signature (no silent loss)."""
    text, html = _inputs(case)
    reply = extract_reply(text, html)
    body = html_to_text(html) if html is not None else normalize_text(text or "")
    kept = set(WORD.findall(f"{reply.text}\n{reply.quoted}\n{reply.signature}"))
    assert set(WORD.findall(body)) <= kept


# --------------------------------------------------------------------------- API basics


def test_reply_is_a_frozen_dataclass() -> None:
    reply = extract_reply("Dziękuję.", None)
    assert reply == Reply(text="Dziękuję.", quoted="", signature="", method="none")
    with pytest.raises(dataclasses.FrozenInstanceError):
        reply.text = "x"  # type: ignore[misc]


@pytest.mark.parametrize(("text", "html"), [(None, None), ("", ""), ("  \r\n ", "  ")])
def test_empty_input_gives_empty_reply(text: str | None, html: str | None) -> None:
    assert extract_reply(text, html) == Reply("", "", "", "none")


def test_html_is_preferred_over_text() -> None:
    reply = extract_reply("z części tekstowej", "<p>z części HTML</p>")
    assert reply.text == "z części HTML"


def test_html_without_text_falls_back_to_plain_part() -> None:
    reply = extract_reply("Zdjęcie w załączniku.", '<div><img src="cid:image001.png"></div>')
    assert reply.text == "Zdjęcie w załączniku."


# --------------------------------------------------------------------------- header blocks

NOTIFICATION = "Dzień dobry,\nprzypisano do Pana zadanie #1042."


@pytest.mark.parametrize(
    "body_line",
    ["Data: 2024-01-05", "Temat: reklamacja", "Do: piątku", "Od: 8:00", "DW: kierownik budowy"],
)
def test_lone_header_like_body_line_does_not_cut(body_line: str) -> None:
    body = f"Dzień dobry,\n{body_line}\nProszę o kontakt w tej sprawie."
    reply = extract_reply(body, None)
    assert reply.text == body
    assert reply.quoted == ""
    assert reply.method == "none"


@pytest.mark.parametrize(
    "block",
    [
        "Data: 2024-01-05\nTemat: reklamacja",  # two keys, no sender
        "Od: poniedziałku\nDo: piątku",  # sender without address, date or third key
        "Od: Jan Kowalski",  # one key
        "Temat: reklamacja\nDo: biuro",  # no sender
    ],
)
def test_header_like_body_blocks_do_not_cut(block: str) -> None:
    body = f"Proszę o wymianę.\n\n{block}\n\nDziękuję za pomoc."
    reply = extract_reply(body, None)
    assert reply.text == body
    assert reply.quoted == ""


@pytest.mark.parametrize(
    ("header", "method"),
    [
        (
            "Od: Hermes CRM <zadania+T1.x@crm.hermes.pl>\nWysłano: piątek, 12 stycznia 2024 10:15\n"
            "Do: Jan Kowalski <jan@budmax.pl>\nDW: Biuro <biuro@budmax.pl>\nTemat: Zadanie #1",
            "text:header-pl-outlook",
        ),
        (
            "Od: Hermes CRM\nWysłano: piątek, 12 stycznia 2024 10:15",  # Exchange: no address
            "text:header-pl-outlook",
        ),
        (
            "From: Hermes CRM <tasks+T1.x@crm.hermes.pl>\nSent: Friday, January 12, 2024 10:15 AM\n"
            "To: John Smith <john@acme.co.uk>\nCc: Team\nSubject: Task #1",
            "text:header-en-outlook",
        ),
        (
            "*From:* Hermes CRM <tasks+T1.x@crm.hermes.pl>\n*Sent:* Friday, 12 January 2024 10:15\n"
            "*To:* John Smith\n*Subject:* Task #1",
            "text:header-en-outlook",
        ),
        (
            "________________________________\nOd: Hermes CRM <zadania+T1.x@crm.hermes.pl>\n"
            "Wysłane: piątek, 12 stycznia 2024 10:15\nDo: Jan Kowalski\nTemat: Zadanie #1",
            "text:header-pl-outlook",
        ),
        (
            "-----Original Message-----\nFrom: tasks+T1.x@crm.hermes.pl\nSent: Friday",
            "text:separator-original",
        ),
        (
            "-----Wiadomość oryginalna-----\nOd: zadania+T1.x@crm.hermes.pl",
            "text:separator-original",
        ),
    ],
)
def test_outlook_header_blocks_cut(header: str, method: str) -> None:
    reply = extract_reply(f"Potwierdzam odbiór.\n\n{header}\n\n{NOTIFICATION}", None)
    assert reply.text == "Potwierdzam odbiór."
    assert reply.method == method
    assert header.rsplit("\n", maxsplit=1)[-1] in reply.quoted
    assert "przypisano do Pana" in reply.quoted


def test_wrapped_recipient_list_stays_inside_the_header_block() -> None:
    header = (
        "Od: Hermes CRM <zadania+T1.x@crm.hermes.pl>\nWysłano: piątek, 12 stycznia 2024 10:15\n"
        "Do: Jan Kowalski <jan@budmax.pl>; Anna Nowak <anna@budmax.pl>;\n"
        "Piotr Zieliński <piotr@budmax.pl>\nTemat: Zadanie #1"
    )
    reply = extract_reply(f"OK.\n\n{header}\n\n{NOTIFICATION}", None)
    assert reply.text == "OK."
    assert "Piotr Zieliński" in reply.quoted


# --------------------------------------------------------------------------- attributions

ATTRIBUTIONS = [
    ("W dniu pt., 12 sty 2024 o 10:15 Jan Kowalski <jan@firma.pl> napisał(a):", "header-pl-gmail"),
    ("W dniu pt., 12 sty 2024 o 10:15 Jan Kowalski <jan@firma.pl>\nnapisał(a):", "header-pl-gmail"),
    ("W dniu pt., 12 sty 2024 o 10:15 Jan Kowalski\n<jan@firma.pl> napisał(a):", "header-pl-gmail"),
    ("pt., 12 sty 2024 o 10:15 Jan Kowalski <jan@firma.pl> napisał(a):", "header-pl-gmail"),
    ("pt., 12 sty 2024, 10:15 użytkownik Jan Kowalski <jan@firma.pl> napisał:", "header-pl"),
    ("W dniu 12.01.2024 o 10:15, Jan Kowalski pisze:", "header-pl-thunderbird"),
    ("W dniu 2024-01-12 10:15, jan@firma.pl pisze:", "header-pl-thunderbird"),
    (
        "Wiadomość napisana przez Jan Kowalski <jan@firma.pl> w dniu 12 sty 2024, o godz. 10:15:",
        "header-pl-apple",
    ),
    ("Dnia 12 stycznia 2024 10:15 Jan Kowalski <jan@firma.pl> napisał(a):", "header-pl-webmail"),
    ("On 12/01/2024 10:15, Jan Kowalski wrote:", "header-en"),
    ("On 12 Jan 2024, at 10:15, Jan Kowalski <jan@firma.pl> wrote:", "header-en"),
    ("On Fri, Jan 12, 2024 at 10:15\u202fAM Jan Kowalski <jan@firma.pl> wrote:", "header-en"),
    ("On Fri, 12 Jan 2024, 10:15 Jan Kowalski, <jan@firma.pl> wrote:", "header-en"),
    ("On Fri, Jan 12, 2024 at 10:15 AM Jan Kowalski <\njan@firma.pl> wrote:", "header-en"),
    ("2024-01-12 10:15 GMT+01:00 Jan Kowalski <jan@firma.pl>:", "header-gmail"),
]


@pytest.mark.parametrize(("attribution", "rule"), ATTRIBUTIONS)
def test_attribution_with_quote_marks(attribution: str, rule: str) -> None:
    body = f"Zgoda, wymiana w środę.\n\n{attribution}\n\n> Dzień dobry,\n> zadanie #1042.\n"
    reply = extract_reply(body, None)
    assert reply.text == "Zgoda, wymiana w środę."
    assert reply.method == f"text:{rule}"
    assert reply.quoted.startswith(normalize_text(attribution).split("\n")[0])


@pytest.mark.parametrize(("attribution", "rule"), ATTRIBUTIONS)
def test_attribution_without_quote_marks_still_cuts(attribution: str, rule: str) -> None:
    """Outlook mobile and some webmails quote without '>': the header alone must cut."""
    body = f"Zgoda, wymiana w środę.\n\n{attribution}\n\nDzień dobry,\nzadanie #1042.\n"
    reply = extract_reply(body, None)
    assert reply.text == "Zgoda, wymiana w środę."
    assert reply.method == f"text:{rule}"
    assert "zadanie #1042." in reply.quoted


@pytest.mark.parametrize(
    "line",
    [
        "Nasz spedytor napisał:",
        "W dniu 05.01.2024 kierowca napisał:",
        "Here is what the driver wrote:",
        "On Monday the driver wrote:",
    ],
)
def test_prose_ending_like_an_attribution_is_kept(line: str) -> None:
    body = f"Dzień dobry,\n\n{line}\nTowar wyjechał z magazynu.\n\nProszę o potwierdzenie."
    reply = extract_reply(body, None)
    assert reply.text == body


def test_wrapped_attribution_does_not_swallow_the_sentence_above() -> None:
    body = "W dniu dostawy nikogo nie było.\nJan Kowalski <jan@firma.pl> napisał(a):\n> pytanie\n"
    reply = extract_reply(body, None)
    assert reply.text == "W dniu dostawy nikogo nie było."


def test_token_in_quoted_attribution_never_reaches_text() -> None:
    body = (
        "Potwierdzam.\n\nW dniu pt., 12 sty 2024 o 10:15 Hermes CRM "
        "<zadania+T1042.k7f3q@crm.hermes.pl> napisał(a):\n\n> Odpowiedz na "
        "zadania+T1042.k7f3q@crm.hermes.pl\n"
    )
    reply = extract_reply(body, None)
    assert reply.text == "Potwierdzam."
    assert "zadania+T1042" not in reply.text
    assert reply.quoted.count("zadania+T1042") == 2


# --------------------------------------------------------------------------- quote marks


def test_interleaved_answers_are_kept_and_quotes_collected() -> None:
    body = "> pytanie 1\nodpowiedź 1\n> pytanie 2\n>> starsze\nodpowiedź 2\n"
    reply = extract_reply(body, None)
    assert reply.text == "odpowiedź 1\n\nodpowiedź 2"
    assert reply.method == "text:interleaved"
    assert "> pytanie 1" in reply.quoted
    assert ">> starsze" in reply.quoted


def test_signature_after_bottom_quote_is_not_interleaving() -> None:
    body = "Zgoda.\n\nOn 12/01/2024 10:15, Jan wrote:\n> pytanie\n\n-- \nJan Kowalski\n"
    reply = extract_reply(body, None)
    assert reply.text == "Zgoda."
    assert reply.method == "text:header-en"
    assert reply.signature == "-- \nJan Kowalski"


def test_only_quote_keeps_content_dequoted() -> None:
    reply = extract_reply("> Dzień dobry,\n> > starsze\n>\n> treść\n", None)
    assert reply.text == "Dzień dobry,\n> starsze\n\ntreść"
    assert reply.method == "text:forward"
    assert reply.quoted == ""


# --------------------------------------------------------------------------- signatures


@pytest.mark.parametrize(
    "footer",
    [
        "Wysłane z iPhone'a",
        "Wysłane z iPhone’a",
        "Wysłano z mojego iPhone'a",
        "Sent from my iPhone",
        "Sent from my iPad",
        "Wysłane z aplikacji Outlook dla systemu iOS",
        "Wysłane z aplikacji Outlook dla systemu Android",
        "Get Outlook for iOS",
        "Get Outlook for Android<https://aka.ms/AAb9ysg>",
        "Pobierz aplikację Outlook dla systemu Android",
        "Sent from Mail for Windows",
        "Wysłano z aplikacji Poczta dla systemu Windows",
        "Wysłane z urządzenia Samsung",
        "Wysłane z mojego Galaxy",
        "Sent from my Samsung Galaxy smartphone.",
        "Sent from Yahoo Mail on Android",
    ],
)
def test_mobile_footers_go_to_signature(footer: str) -> None:
    reply = extract_reply(f"Kierowca będzie o 9:00.\n\n{footer}\n", None)
    assert reply.text == "Kierowca będzie o 9:00."
    assert reply.signature == footer
    assert reply.method == "sig:mobile"


def test_footer_words_inside_a_sentence_are_content() -> None:
    body = "Zdjęcia zostały wysłane z iPhone'a kierowcy wczoraj wieczorem, proszę sprawdzić."
    assert extract_reply(body, None).text == body


@pytest.mark.parametrize("delimiter", ["-- ", "--"])
def test_dash_dash_delimiter(delimiter: str) -> None:
    body = f"Treść odpowiedzi.\n{delimiter}\nJan Kowalski\nBudmax Sp. z o.o.\n"
    reply = extract_reply(body, None)
    assert reply.text == "Treść odpowiedzi."
    assert reply.signature == f"{delimiter}\nJan Kowalski\nBudmax Sp. z o.o."
    assert reply.method == "sig:dash-dash"


def test_bare_dashes_before_long_content_are_not_a_signature() -> None:
    body = "Lista braków:\n--\n" + "\n".join(f"pozycja {n}: brak" for n in range(20))
    reply = extract_reply(body, None)
    assert reply.text == body
    assert reply.signature == ""


def test_greeting_stays_and_business_card_moves() -> None:
    body = "Proszę o fakturę.\n\nPozdrawiam serdecznie\nJan Kowalski\ntel. 600 100 200\n"
    reply = extract_reply(body, None)
    assert reply.text == "Proszę o fakturę.\n\nPozdrawiam serdecznie"
    assert reply.signature == "Jan Kowalski\ntel. 600 100 200"
    assert reply.method == "sig:greeting"


@pytest.mark.parametrize(
    "after_greeting",
    [
        "Jan\n\nPS. Czy kierowca może przyjechać wcześniej?",
        "Jan\nProszę pilnie oddzwonić",
        "Adres dostawy:\nul. Długa 5\n00-001 Warszawa",
        "\n".join(f"linia {n}" for n in range(8)),
        "To jest zwykłe zdanie, które ma zdecydowanie zbyt wiele słów jak na wizytówkę.",
    ],
)
def test_content_after_greeting_is_not_cut(after_greeting: str) -> None:
    body = f"Dziękuję za informację.\n\nPozdrawiam\n{after_greeting}"
    reply = extract_reply(body, None)
    assert reply.text == body
    assert reply.signature == ""


def test_signature_only_body_is_never_an_empty_note() -> None:
    reply = extract_reply("-- \nJan Kowalski\n", None)
    assert reply.text == "-- \nJan Kowalski"
    assert reply.signature == ""


def test_footer_only_reply_with_quote_keeps_the_quote() -> None:
    reply = extract_reply("Sent from my iPhone\n\n> On 12 Jan 2024, Jan wrote:\n> Hello\n", None)
    assert reply.text == "On 12 Jan 2024, Jan wrote:\nHello"
    assert reply.signature == "Sent from my iPhone"
    assert reply.method == "text:forward"


# --------------------------------------------------------------------------- normalisation


def test_text_is_normalised() -> None:
    body = "Dzień\u00a0dobry,  \r\nzamawiam\u200b 3\ufeff palety.\r\n\r\n\r\n\r\n\r\nDzięki\t \r\n"
    reply = extract_reply(body, None)
    assert reply.text == "Dzień dobry,\nzamawiam 3 palety.\n\n\nDzięki"


# --------------------------------------------------------------------------- HTML specifics


def test_html_marker_inside_quote_is_ignored() -> None:
    html = (
        '<div>Odpowiedź.</div><div class="gmail_quote"><div class="gmail_attr">W dniu ...:</div>'
        '<blockquote class="gmail_quote"><div id="divRplyFwdMsg">Od: x</div>'
        '<div class="gmail_signature">sig</div></blockquote></div>'
    )
    reply = extract_reply(None, html)
    assert reply.text == "Odpowiedź."
    assert reply.method == "html:gmail_quote"
    assert "sig" in reply.quoted
    assert reply.signature == ""


def test_gmail_forward_with_a_comment_keeps_the_forward_quoted() -> None:
    html = (
        '<div dir="ltr">Przekazuję do realizacji.<br><br><div class="gmail_quote">'
        '<div dir="ltr" class="gmail_attr">---------- Forwarded message ---------<br>'
        "Od: Tomasz Wójcik &lt;t.wojcik@budowa-lodz.pl&gt;<br></div><br><br>"
        '<div dir="ltr">Trzy palety uszkodzone.</div></div></div>'
    )
    reply = extract_reply(None, html)
    assert reply.text == "Przekazuję do realizacji."
    assert reply.method == "html:gmail_quote"
    assert "Trzy palety uszkodzone." in reply.quoted


def test_html_header_line_right_before_the_quote_is_quoted() -> None:
    """Even without a time, "X wrote:" directly above a quote element is its header."""
    html = (
        "<div>Zgoda.</div><div><br></div><div>On Monday, Jan Kowalski wrote:</div>"
        '<blockquote type="cite"><div>pytanie</div></blockquote>'
    )
    reply = extract_reply(None, html)
    assert reply.text == "Zgoda."
    assert reply.quoted == "On Monday, Jan Kowalski wrote:\n\npytanie"


def test_html_rule_on_rendered_text_when_no_marker() -> None:
    html = (
        "<p>Zgoda.</p><p>W dniu 12.01.2024 o 10:15, Hermes CRM pisze:</p>"
        "<p>Dzień dobry, zadanie #1042.</p>"
    )
    reply = extract_reply(None, html)
    assert reply.text == "Zgoda."
    assert reply.method == "text:header-pl-thunderbird"


def test_html_unclosed_quote_extends_to_the_end() -> None:
    reply = extract_reply(None, '<p>Nowe.</p><blockquote type="cite"><p>stare<p>starsze')
    assert reply.text == "Nowe."
    assert reply.quoted == "stare\n\nstarsze"


def test_html_paragraph_closed_implicitly_does_not_end_the_quote_early() -> None:
    html = '<p>Nowe.<div class="gmail_quote"><p>cytat</p><p>cytat 2</div><p>Dopisek.</p>'
    reply = extract_reply(None, html)
    assert "cytat 2" in reply.quoted
    assert reply.text == "Nowe.\n\nDopisek."
    assert reply.method == "html:interleaved"


@pytest.mark.parametrize(
    "html",
    [
        "<p>Nowe.</p><![foo bar]><p>dalej</p>",  # html.parser asserts on unknown sections
        "<p>Nowe.</p><![ ]>",
        "<p>Nowe.\x00</p>",
    ],
)
def test_malformed_html_does_not_raise(html: str) -> None:
    assert extract_reply(None, html).text.startswith("Nowe.")


# --------------------------------------------------------------------------- hostile input


def test_megabyte_of_quote_lines_returns() -> None:
    body = "Odpowiedź.\n" + "> " + "x" * 60 + "\n"
    body = body + body[11:] * (1_000_000 // 63)
    reply = extract_reply(body, None)
    assert reply.text == "Odpowiedź."


def test_single_long_line_returns() -> None:
    line = ("W dniu 12.01.2024 o 10:15 <a@b.pl> " * 6000)[:200_000] + " napisał(a):"
    assert extract_reply(line, None).text


def test_long_line_of_colons_and_digits_returns() -> None:
    line = "Od: " + "1:2 " * 50_000 + ":"
    assert extract_reply(line, None).text


@pytest.mark.parametrize(
    "html",
    [
        "<a " * 50_000,  # unterminated tags: quadratic in html.parser
        "<!" * 50_000,
        "<!--" + "x" * 200_000,
        "<div>" * 20_000 + "tekst" + "</span>" * 20_000,  # deep nesting, stray end tags
        '<blockquote type="cite">' * 10_000 + "x" * 200_000,
        "<p>" + "Ala ma kota. " * 80_000 + "</p>",  # a megabyte of text in one line
        '<div style="border-top:' + " " * 200_000 + '#e1e1e1">x</div>',
        '<div class="' + "a" * 200_000,
    ],
    ids=["open-tags", "declarations", "comment", "nesting", "quotes", "long-line", "style", "attr"],
)
def test_hostile_html_returns(html: str) -> None:
    reply = extract_reply(None, html)
    assert reply.method


def test_deeply_nested_quote_is_not_lost() -> None:
    """lxml drops documents deeper than 255 elements; the note must still have the text."""
    reply = extract_reply(None, '<blockquote type="cite">' * 1_000 + "treść zgłoszenia")
    assert reply.text == "treść zgłoszenia"
