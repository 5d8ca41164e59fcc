"""parse_message on real-world shapes (fixtures) and on hostile, synthetic input."""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path

import pytest

from mail_gateway.errors import MalformedMessage
from mail_gateway.mime import Address, Limits, ParsedMessage, parse_message

DATA = Path(__file__).parents[1] / "data" / "mail" / "mime"


def fixture(name: str) -> ParsedMessage:
    return parse_message((DATA / name).read_bytes())


def crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode()


def simple(headers: str, body: str = "Body\n") -> bytes:
    return crlf(headers + "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n" + body)


def mixed(*parts: str, boundary: str = "BOUNDARY") -> bytes:
    text = "From: a@klient.pl\nTo: b@firma.pl\nSubject: parts\nMIME-Version: 1.0\n"
    text += f'Content-Type: multipart/mixed; boundary="{boundary}"\n\n'
    for part in parts:
        text += f"--{boundary}\n{part}\n"
    return crlf(text + f"--{boundary}--\n")


BODY_PART = "Content-Type: text/plain; charset=utf-8\n\nTreść wiadomości"


def file_part(headers: str, payload: bytes = b"%PDF-1.4 test") -> str:
    encoded = base64.b64encode(payload).decode()
    return f"{headers}\nContent-Transfer-Encoding: base64\n\n{encoded}"


# --- real-world fixtures ---------------------------------------------------------------------


def test_outlook_body_labelled_latin2_but_cp1250() -> None:
    msg = fixture("outlook_cp1250_labelled_latin2.eml")
    assert msg.subject == "Reklamacja opłaty za październik"
    assert msg.text is not None and "zwrot środków za fakturę" in msg.text
    assert "Świadczenie nie zostało wykonane." in msg.text
    assert msg.html is not None and "środków" in msg.html
    assert msg.notes == ("body re-decoded as windows-1250 (labelled iso-8859-2)",)
    assert msg.from_ == (Address("Jan Kowalski", "Jan.Kowalski@klient.pl"),)
    assert msg.from_[0].domain == "klient.pl"
    assert msg.to == (Address("Biuro Obsługi", "biuro@firma.pl"),)
    assert msg.message_id == "000001db1ecb$5a1b2c40$0e518c$@klient.pl"
    assert msg.date == dt.datetime(2024, 10, 15, 7, 11, 58, tzinfo=dt.UTC)
    assert msg.attachments == () and msg.skipped == ()


def test_gmail_alternative_with_rfc2231_attachment() -> None:
    msg = fixture("gmail_alternative_utf8.eml")
    assert msg.subject == "Re: Zamówienie na październik"
    assert msg.from_ == (Address("Anna Żółtowska", "anna.zoltowska@gmail.com"),)
    assert msg.cc == (Address("Nowak, Piotr", "piotr.nowak@klient.pl"),)
    assert msg.text == (
        "Cześć,\n\nw załączniku zamówienie na październik. Proszę o potwierdzenie — dziękuję!"
        "\n\nAnna\n"
    )
    assert msg.html is not None and msg.html.startswith('<div dir="ltr">Cześć,')
    assert msg.in_reply_to == ("task-4711.8f3a@hermes.firma.pl",)
    assert msg.references == ("task-4711.1a2b@hermes.firma.pl", "task-4711.8f3a@hermes.firma.pl")
    [pdf] = msg.attachments
    assert pdf.filename == "Zamówienie_październik.pdf"
    assert pdf.content_type == "application/pdf"
    assert pdf.data.startswith(b"%PDF-1.4")
    assert pdf.content_id == "f_m2b3c4d50"
    assert not pdf.inline and not pdf.dangerous
    assert msg.notes == ()


def test_thunderbird_format_flowed_is_joined() -> None:
    msg = fixture("thunderbird_flowed.eml")
    assert msg.text == (
        "Dzień dobry,\n\n"
        "potwierdzam termin spotkania we wtorek o 10:00. Proszę o przygotowanie "
        "zestawienia płatności za ostatni kwartał.\n\n"
        "W dniu 14.10.2024 o 16:20, Piotr Nowak pisze:\n"
        "> Czy pasuje Panu wtorek? Mamy do omówienia kilka spraw.\n\n"
        "-- \nTomasz Wiśniewski\n"
    )
    assert msg.in_reply_to == ("task-77.aa01@hermes.firma.pl",)


def test_apple_mail_inline_image_in_related() -> None:
    msg = fixture("apple_inline_image.eml")
    assert msg.subject == "Uszkodzona przesyłka"
    assert msg.text == "Zdjęcie uszkodzonej przesyłki poniżej.\n\n"
    assert msg.html is not None and 'src="cid:5E1D6C3A' in msg.html
    [image] = msg.attachments
    assert image.filename == "IMG_0412.png"
    assert image.content_type == "image/png"
    assert image.inline
    assert image.content_id == "5E1D6C3A-2B7F-4A8E-9D1C-3F2E1A0B9C8D@home"
    assert image.data.startswith(b"\x89PNG")


def test_postfix_dsn_keeps_report_parts_as_files() -> None:
    msg = fixture("postfix_dsn.eml")
    assert msg.text is not None and msg.text.startswith("This is the mail system at host")
    assert [a.content_type for a in msg.attachments] == [
        "message/delivery-status",
        "text/rfc822-headers",
    ]
    assert b"Final-Recipient: rfc822; Nie.Istnieje@Klient.pl" in msg.attachments[0].data
    assert msg.header("Return-Path") == ["<>"]


def test_exchange_oof_base64_body() -> None:
    msg = fixture("exchange_oof_pl.eml")
    assert msg.subject == "Odpowiedź automatyczna: Zadanie 4711: potwierdzenie"
    assert msg.text is not None and "jestem na urlopie do 28 października" in msg.text
    assert msg.date is not None and msg.date.utcoffset() == dt.timedelta(0)


def test_header_access_is_ordered_and_decoded() -> None:
    msg = fixture("authres_injected_lower.eml")
    values = msg.header("authentication-results")
    assert len(values) == 2 and "dmarc=fail" in values[0]
    assert {"authentication-results", "from", "received", "subject"} <= msg.header_names()
    assert msg.header("X-Missing") == []


# --- headers ---------------------------------------------------------------------------------


def test_subject_line_breaks_and_controls_are_removed() -> None:
    raw = simple("From: a@b.pl\nSubject: =?utf-8?Q?Linia=0D=0Adruga?=\n continued\x07\n")
    assert parse_message(raw).subject == "Linia druga continued"


def test_raw_8bit_utf8_headers_rfc6532() -> None:
    raw = simple("From: Łukasz Żak <lukasz@żabka.pl>\nSubject: Zamówienie – pilne\n")
    msg = parse_message(raw)
    assert msg.subject == "Zamówienie – pilne"
    assert msg.from_ == (Address("Łukasz Żak", "lukasz@żabka.pl"),)


def test_raw_cp1250_subject() -> None:
    raw = b"From: a@b.pl\r\nSubject: " + "Płatność".encode("cp1250") + b"\r\n\r\nx\r\n"
    assert parse_message(raw).subject == "Płatność"


@pytest.mark.parametrize(
    "value",
    [
        "alice@example.org(<bob@example.net>",
        "alice@example.org)<bob@example.net>",
        'alice@example.org"<bob@example.net>',
        "alice@example.org, (bob@example.net",
    ],
)
def test_cve_2023_27043_shapes_never_yield_the_hidden_address(value: str) -> None:
    msg = parse_message(simple(f"From: {value}\nSubject: x\n"))
    assert "bob@example.net" not in {a.email for a in msg.from_}
    assert all(a.email == "alice@example.org" for a in msg.from_)


def test_quoted_address_lookalike_display_name_is_just_a_name() -> None:
    msg = parse_message(simple('From: "bob@example.net" <alice@example.org>\nSubject: x\n'))
    assert msg.from_ == (Address("bob@example.net", "alice@example.org"),)


def test_unparseable_addresses_are_left_out_with_a_note() -> None:
    msg = parse_message(
        simple("From: ((((\nTo: undisclosed-recipients:;\nCc: nobody\nSubject: x\n")
    )
    assert msg.from_ == () and msg.to == () and msg.cc == ()
    assert "From header not parseable as addresses; ignored" in msg.notes


def test_multiple_from_headers_are_all_kept() -> None:
    msg = parse_message(simple("From: a@one.pl\nFrom: b@two.pl\nSubject: x\n"))
    assert [a.email for a in msg.from_] == ["a@one.pl", "b@two.pl"]


def test_display_name_encoded_word_cannot_inject_an_address() -> None:
    # the encoded word decodes to "<evil@x.pl>" but is decoded only after parsing
    msg = parse_message(simple("From: =?utf-8?q?=3Cevil=40x=2Epl=3E?= <real@klient.pl>\n"))
    assert msg.from_ == (Address("<evil@x.pl>", "real@klient.pl"),)


def test_deeply_nested_comments_in_address_header() -> None:
    msg = parse_message(simple("From: " + "(" * 5000 + "a@b.pl" + ")" * 5000 + "\n"))
    assert msg.from_ == ()


def test_many_recipients_parse() -> None:
    to = ", ".join(f"user{i}@klient.pl" for i in range(3000))
    msg = parse_message(simple(f"From: a@b.pl\nTo: {to}\n"))
    assert len(msg.to) == 3000


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Tue, 15 Oct 2024 09:11:58 -0000", dt.datetime(2024, 10, 15, 9, 11, 58, tzinfo=dt.UTC)),
        ("15 Oct 2024 09:11:58 +0200", dt.datetime(2024, 10, 15, 7, 11, 58, tzinfo=dt.UTC)),
        ("yesterday", None),
        ("Tue, 99 Foo 99999999999 99:99:99 +9999", None),
    ],
)
def test_date_is_aware_or_none(value: str, expected: dt.datetime | None) -> None:
    msg = parse_message(simple(f"From: a@b.pl\nDate: {value}\n"))
    assert msg.date == expected
    if msg.date is not None:
        assert msg.date.tzinfo is not None


def test_message_ids_without_brackets_and_junk() -> None:
    msg = parse_message(
        simple(
            "From: a@b.pl\nMessage-ID: <x1@b.pl>\n"
            "In-Reply-To: <p1@b.pl> (comment) junk\n"
            "References: <r1@b.pl>\n <r2@b.pl> <r1@b.pl>\n"
        )
    )
    assert msg.message_id == "x1@b.pl"
    assert msg.in_reply_to == ("p1@b.pl",)
    assert msg.references == ("r1@b.pl", "r2@b.pl")
    assert parse_message(simple("From: a@b.pl\nMessage-ID: bare@b.pl\n")).message_id == "bare@b.pl"


# --- bodies ----------------------------------------------------------------------------------


def test_html_only_mail_has_no_text() -> None:
    raw = crlf("From: a@b.pl\nContent-Type: text/html; charset=utf-8\n\n<p>Tylko HTML</p>")
    msg = parse_message(raw)
    assert msg.text is None
    assert msg.html == "<p>Tylko HTML</p>"


def test_empty_plain_alternative_next_to_html_counts_as_missing() -> None:
    raw = crlf(
        "From: a@b.pl\nContent-Type: multipart/alternative; boundary=A\n\n"
        "--A\nContent-Type: text/plain\n\n \n--A\nContent-Type: text/html\n\n<p>x</p>\n--A--\n"
    )
    msg = parse_message(raw)
    assert msg.text is None and msg.html == "<p>x</p>"


def test_qp_soft_break_inside_a_utf8_sequence() -> None:
    raw = crlf(
        "From: a@b.pl\nContent-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: quoted-printable\n\n"
        "Za=C5=BC=C3=\n=B3=C5=82=C4=\n=87 g=C4=99=C5=9Bl=C4=85 ja=C5=BA=C5=84\n"
    )
    assert parse_message(raw).text == "Zażółć gęślą jaźń\n"


def test_8bit_body_without_charset_is_detected() -> None:
    raw = b"From: a@b.pl\r\nContent-Type: text/plain\r\n\r\n" + "Środa, żółw".encode("cp1250")
    msg = parse_message(raw)
    assert msg.text == "Środa, żółw"
    assert msg.notes == ("no charset declared; decoded as windows-1250",)


def test_inline_text_parts_after_the_body_are_appended() -> None:
    msg = parse_message(
        mixed(
            BODY_PART,
            file_part("Content-Type: image/png\nContent-Disposition: inline; filename=a.png"),
            "Content-Type: text/plain; charset=utf-8\n\nciąg dalszy",
        )
    )
    assert msg.text == "Treść wiadomości\nciąg dalszy"
    assert [a.filename for a in msg.attachments] == ["a.png"]
    assert msg.attachments[0].inline


def test_text_attachment_with_name_is_not_the_body() -> None:
    msg = parse_message(mixed(BODY_PART, 'Content-Type: text/plain; name="log.txt"\n\nlinia logu'))
    assert msg.text == "Treść wiadomości"
    assert [(a.filename, a.data) for a in msg.attachments] == [("log.txt", b"linia logu")]


def test_forwarded_message_is_kept_as_eml_not_expanded() -> None:
    inner = (
        "From: x@y.pl\nSubject: Oryginalna wiadomość\nContent-Type: multipart/mixed; boundary=I\n\n"
        "--I\nContent-Type: text/plain\n\ninner body\n--I\n"
        "Content-Type: application/pdf; name=inner.pdf\n\n%PDF\n--I--"
    )
    msg = parse_message(mixed(BODY_PART, f"Content-Type: message/rfc822\n\n{inner}"))
    assert msg.text == "Treść wiadomości"
    [eml] = msg.attachments
    assert eml.filename == "Oryginalna wiadomość.eml"
    assert eml.content_type == "message/rfc822"
    assert b"inner body" in eml.data and b"Subject: Oryginalna" in eml.data


def test_related_root_chosen_by_start_parameter() -> None:
    raw = crlf(
        'From: a@b.pl\nContent-Type: multipart/related; boundary=R; start="<root@x>"\n\n'
        "--R\nContent-Type: image/gif\nContent-ID: <img@x>\n\nGIF89a\n"
        '--R\nContent-Type: text/html\nContent-ID: <root@x>\n\n<img src="cid:img@x">\n--R--\n'
    )
    msg = parse_message(raw)
    assert msg.html == '<img src="cid:img@x">'
    assert [(a.content_id, a.inline) for a in msg.attachments] == [("img@x", True)]


# --- attachment names and policy -------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            "Content-Type: application/pdf\n"
            "Content-Disposition: attachment;"
            " filename*=utf-8''faktura_%C5%BC%C3%B3%C5%82%C4%87.pdf",
            "faktura_żółć.pdf",
        ),
        (
            "Content-Type: application/pdf\nContent-Disposition: attachment;\n"
            " filename*0*=utf-8''faktura_%C5%BC;\n filename*1*=%C3%B3%C5%82%C4%87.pdf",
            "faktura_żółć.pdf",
        ),
        (
            "Content-Type: application/pdf\n"
            "Content-Disposition: attachment; filename*=iso-8859-2''p%B3atno%B6%E6.pdf",
            "płatność.pdf",
        ),
        (  # Outlook and Gmail: an encoded word inside the quoted string
            "Content-Type: application/pdf\n"
            'Content-Disposition: attachment; filename="=?UTF-8?B?ZmFrdHVyYV/FvMOzxYLEhy5wZGY=?="',
            "faktura_żółć.pdf",
        ),
        (  # unquoted encoded word: the modern parser gives up, compat32 does not
            "Content-Type: application/pdf\n"
            "Content-Disposition: attachment; filename==?UTF-8?Q?umowa=5Fkupna.pdf?=",
            "umowa_kupna.pdf",
        ),
        ('Content-Type: application/pdf; name="z_typu.pdf"', "z_typu.pdf"),
        (
            "Content-Type: application/pdf\n"
            'Content-Disposition: attachment; filename="../../etc/passwd"',
            "passwd",
        ),
        (
            "Content-Type: application/pdf\n"
            "Content-Disposition: attachment; filename*=utf-8''C%3A%5CWindows%5Cx.pdf",
            "x.pdf",
        ),
        ('Content-Type: application/pdf; name="/var/tmp/x.pdf"', "x.pdf"),
        (
            "Content-Type: application/pdf\n"
            "Content-Disposition: attachment; filename*=utf-8''%2Fetc%2Fshadow%00.pdf",
            "shadow.pdf",
        ),
        (
            "Content-Type: application/octet-stream\n"
            "Content-Disposition: attachment; filename*=utf-8''faktura%E2%80%AEfdp.exe",
            "fakturafdp.exe",
        ),
        ("Content-Type: application/pdf\nContent-Disposition: attachment", "attachment-1.pdf"),
        (
            'Content-Type: image/jpeg\nContent-Disposition: attachment; filename="..."',
            "attachment-1.jpg",
        ),
        (  # crashes the modern header parser (IndexError); compat32 takes over
            "Content-Type: application/pdf\nContent-Disposition: attachment; filename*",
            "attachment-1.pdf",
        ),
    ],
)
def test_attachment_file_names_are_decoded_and_safe(headers: str, expected: str) -> None:
    msg = parse_message(mixed(BODY_PART, file_part(headers)))
    [attachment] = msg.attachments
    assert attachment.filename == expected
    assert attachment.data == b"%PDF-1.4 test"


def test_content_type_that_crashes_the_modern_parser_falls_back_to_compat32() -> None:
    # well-formed enough to reach the modern parser, which raises IndexError on it
    msg = parse_message(
        mixed(BODY_PART, file_part('Content-Type: application/pdf; name*="utf-8\'"'))
    )
    assert msg.text == "Treść wiadomości"
    assert [a.content_type for a in msg.attachments] == ["application/pdf"]
    assert "modern parser failed (IndexError); parsed with compat32" in msg.notes


def test_disposition_that_crashes_the_modern_parser_falls_back_per_header() -> None:
    part = 'Content-Type: application/pdf\nContent-Disposition: attachment; filename*="utf-8\'"'
    msg = parse_message(mixed(BODY_PART, file_part(part)))
    assert [(a.filename, a.inline) for a in msg.attachments] == [("utf-8'", False)]
    assert msg.notes == ()


@pytest.mark.parametrize(
    "header",
    [
        "Content-Type: application/pdf; name=" + "a " * 400,  # bare words: superlinear
        'Content-Type: application/pdf; name="' + "słowo " * 300 + '"',
        "Content-Type: application/pdf; (comment) name=a.pdf",
    ],
)
def test_unusual_mime_headers_are_parsed_with_compat32(header: str) -> None:
    msg = parse_message(mixed(BODY_PART, *[file_part(header)] * 200))
    assert len(msg.attachments) == 100  # the default attachment limit
    assert "unusual Content-Type/-Disposition headers; parsed with compat32" in msg.notes


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("Content-Type: application/pdf; name=" + "a" * 5000, "Content-Type header of"),
        ("Content-Type: application/pdf; name=" + ";" * 100, "more than 64 parameters"),
        ("Content-Disposition: attachment; filename=" + "(" * 5000, "Content-Disposition header"),
    ],
)
def test_monstrous_mime_headers_are_refused(header: str, reason: str) -> None:
    with pytest.raises(MalformedMessage, match=reason):
        parse_message(mixed(BODY_PART, file_part(header)))


def test_dangerous_attachments_are_flagged() -> None:
    msg = parse_message(
        mixed(
            BODY_PART,
            file_part('Content-Type: application/octet-stream; name="faktura.pdf.exe"'),
            file_part('Content-Type: application/pdf; name="faktura.pdf"'),
            file_part('Content-Type: text/plain; name="skrypt.txt.vbs"'),
        )
    )
    assert [(a.filename, a.dangerous) for a in msg.attachments] == [
        ("faktura.pdf.exe", True),
        ("faktura.pdf", False),
        ("skrypt.txt.vbs", True),
    ]


def test_blocked_types_oversized_and_too_many_are_skipped() -> None:
    limits = Limits(max_attachment_bytes=100, max_attachments=2, blocked_types=(".exe", "scr"))
    msg = parse_message(
        mixed(
            BODY_PART,
            file_part('Content-Type: application/octet-stream; name="setup.EXE"'),
            file_part('Content-Type: application/octet-stream; name="x.scr"'),
            file_part('Content-Type: application/pdf; name="big.pdf"', b"x" * 101),
            file_part('Content-Type: application/pdf; name="1.pdf"'),
            file_part('Content-Type: application/pdf; name="2.pdf"'),
            file_part('Content-Type: application/pdf; name="3.pdf"'),
        ),
        limits,
    )
    assert [a.filename for a in msg.attachments] == ["1.pdf", "2.pdf"]
    assert [(s.filename, s.size, s.reason) for s in msg.skipped] == [
        ("setup.EXE", 13, "blocked type .exe"),
        ("x.scr", 13, "blocked type .scr"),
        ("big.pdf", 101, "101 bytes exceeds the limit of 100"),
        ("3.pdf", 13, "more than 2 attachments"),
    ]


# --- hostile structure -----------------------------------------------------------------------


def nested_multipart(depth: int) -> bytes:
    head = "From: a@b.pl\n"
    tail = ""
    for level in range(depth):
        head += f'Content-Type: multipart/mixed; boundary="b{level}"\n\n--b{level}\n'
        tail = f"\n--b{level}--\n" + tail
    return crlf(head + "Content-Type: text/plain\n\nx" + tail)


def test_moderate_nesting_is_fine() -> None:
    assert parse_message(nested_multipart(20)).text == "x"


@pytest.mark.parametrize("depth", [31, 1000])
def test_deep_multipart_nesting_is_refused(depth: int) -> None:
    with pytest.raises(MalformedMessage, match="nesting deeper than 30"):
        parse_message(nested_multipart(depth))


def test_nesting_hidden_behind_rfc2231_boundaries_is_refused() -> None:
    head = "From: a@b.pl\n"
    for level in range(200):
        head += (
            f'Content-Type: multipart/mixed;\n boundary*0="x"; boundary*1="{level}"\n\n--x{level}\n'
        )
    with pytest.raises(MalformedMessage, match="nesting deeper than 30"):
        parse_message(crlf(head + "Content-Type: text/plain\n\nx"))


@pytest.mark.parametrize("depth", [40, 1000])
def test_deep_message_rfc822_nesting_is_refused(depth: int) -> None:
    raw = crlf("From: a@b.pl\n" + "Content-Type: message/rfc822\n\n" * depth + "Subject: x\n\nhi")
    with pytest.raises(MalformedMessage, match=r"nest|MIME parts"):
        parse_message(raw)


def test_ten_thousand_parts_are_refused() -> None:
    raw = crlf(
        "From: a@b.pl\nContent-Type: multipart/mixed; boundary=B\n\n"
        + "--B\nContent-Type: text/plain\n\nx\n" * 10_000
        + "--B--\n"
    )
    with pytest.raises(MalformedMessage, match="more than 1000 MIME parts"):
        parse_message(raw)


def test_parts_the_prescan_does_not_count_hit_the_parser_budget() -> None:
    # 600 delimiters pass the prescan, but each attached message is two parts to the parser
    raw = crlf(
        "From: a@b.pl\nContent-Type: multipart/mixed; boundary=B\n\n"
        + "--B\nContent-Type: message/rfc822\n\nSubject: x\n\nbody\n" * 600
        + "--B--\n"
    )
    with pytest.raises(MalformedMessage, match="more than 1000 MIME parts"):
        parse_message(raw)


def test_message_over_the_size_limit() -> None:
    with pytest.raises(MalformedMessage, match="exceeds the limit of 1000"):
        parse_message(simple("From: a@b.pl\n", "x" * 2000), Limits(max_message_bytes=1000))


def test_huge_headers_are_refused_before_parsing() -> None:
    junk = "".join(f"X-Junk-{i}: {'y' * 200}\n" for i in range(2000))
    with pytest.raises(MalformedMessage, match="headers"):
        parse_message(simple("From: a@b.pl\n" + junk))
    with pytest.raises(MalformedMessage, match="headers exceed"):
        parse_message(b"X-Only-Headers: " + b"z" * 300_000)


def test_multipart_without_boundary_is_read_as_text() -> None:
    raw = crlf("From: a@b.pl\nContent-Type: multipart/mixed\n\nJust some text")
    msg = parse_message(raw)
    assert msg.text == "Just some text"
    assert "multipart/mixed without a usable boundary; kept as text" in msg.notes


def test_boundary_that_never_appears() -> None:
    raw = crlf("From: a@b.pl\nContent-Type: multipart/mixed; boundary=NOPE\n\nBody text")
    assert parse_message(raw).text == "Body text"


def test_broken_base64_is_decoded_leniently_with_a_note() -> None:
    payload = base64.b64encode(b"%PDF-1.4 important").decode()
    broken = payload[:8] + "!!**" + payload[8:] + "A"  # junk and a 4n+1 length
    msg = parse_message(
        mixed(
            BODY_PART,
            "Content-Type: application/pdf; name=a.pdf\nContent-Transfer-Encoding: base64\n\n"
            + broken,
        )
    )
    assert msg.attachments[0].data.startswith(b"%PDF-1.4 important")
    assert "broken base64 in application/pdf decoded leniently" in msg.notes


def test_single_five_megabyte_base64_line() -> None:
    payload = bytes(range(256)) * (4 * 1024 * 15)  # 3.75 MiB → 5 MiB of base64, one line
    part = (
        "Content-Type: application/octet-stream; name=big.bin\n"
        "Content-Transfer-Encoding: base64\n\n" + base64.b64encode(payload).decode()
    )
    msg = parse_message(mixed(BODY_PART, part))
    assert msg.attachments[0].data == payload


def test_random_mutations_never_crash() -> None:
    import random

    seeds = [(DATA / name).read_bytes() for name in sorted(p.name for p in DATA.iterdir())]
    rng = random.Random(2024)
    reasons: list[str] = []
    for _ in range(150):
        raw = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 20)):
            pos = rng.randrange(len(raw))
            raw[pos : pos + rng.randint(0, 5)] = rng.randbytes(rng.randint(0, 5))
        try:
            msg = parse_message(bytes(raw))
        except MalformedMessage as exc:
            reasons.append(exc.reason)
        else:
            assert isinstance(msg.subject, str)
    assert all(reasons)
