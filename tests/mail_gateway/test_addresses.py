"""Signed reply addresses, subject tags and subject normalisation."""

from __future__ import annotations

import pytest

from mail_gateway.addresses import (
    BadToken,
    RecipientKind,
    ReplyAddresses,
    ReplyToken,
    new_message_id,
    normalise_subject,
    task_numbers_in,
)

REPLIES = ReplyAddresses(b"test-secret", "hermes", "hermes.test")
TOKEN = ReplyToken(4242, RecipientKind.EMPLOYEE, 17, public=False)


def test_an_address_round_trips_and_survives_case_folding() -> None:
    address = REPLIES.address(TOKEN)
    local = address.partition("@")[0]
    assert len(local) <= 64 and address.endswith("@hermes.test")
    assert REPLIES.parse(address) == TOKEN
    assert REPLIES.parse(address.upper()) == TOKEN  # some MTAs fold the local part


def test_visibility_and_recipient_are_part_of_the_signed_payload() -> None:
    public = ReplyToken(4242, RecipientKind.CONTACT, 17, public=True)
    assert REPLIES.address(public) != REPLIES.address(TOKEN)
    assert REPLIES.parse(REPLIES.address(public)) == public


@pytest.mark.parametrize("position", [7, 20, -1])
def test_any_changed_character_is_rejected(position: int) -> None:
    address = REPLIES.address(TOKEN)
    local, _, domain = address.partition("@")
    chars = list(local)
    chars[position] = "a" if chars[position] != "a" else "b"
    with pytest.raises(BadToken):
        REPLIES.parse("".join(chars) + "@" + domain)


def test_another_secret_or_a_truncated_token_does_not_verify() -> None:
    other = ReplyAddresses(b"other-secret", "hermes", "hermes.test")
    with pytest.raises(BadToken):
        other.parse(REPLIES.address(TOKEN))
    local, _, domain = REPLIES.address(TOKEN).partition("@")
    with pytest.raises(BadToken):
        REPLIES.parse(local[:-4] + "@" + domain)


@pytest.mark.parametrize(
    "address",
    ["jkowalski@firma.pl", "hermes@hermes.test", "other+abc@hermes.test", "hermes+x@evil.test"],
)
def test_other_addresses_are_not_reply_addresses(address: str) -> None:
    assert REPLIES.parse(address) is None


def test_message_ids_are_unique_and_name_the_task() -> None:
    first, second = new_message_id("hermes.test", 5), new_message_id("hermes.test", 5)
    assert first != second and first.startswith("task-5.") and first.endswith("@hermes.test")


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Re: RE: Odp: Reklamacja", "Reklamacja"),
        ("ODP: PD: Fwd: [REK/2026/0042] Reklamacja opłaty", "Reklamacja opłaty"),
        ("AW: WG: Angebot", "Angebot"),
        ("[EXTERNAL] Re: Faktura", "Faktura"),
        ("Re[2]: Termin", "Termin"),
        ("Reklamacja: rezygnacja", "Reklamacja: rezygnacja"),
    ],
)
def test_subjects_lose_prefixes_but_not_content(subject: str, expected: str) -> None:
    assert normalise_subject(subject) == expected


def test_task_tags_are_found_leftmost_first() -> None:
    assert task_numbers_in("Re: [REK/2026/0042] i [HAN/2025/0001]") == [
        "REK/2026/0042",
        "HAN/2025/0001",
    ]
    assert task_numbers_in("Zamówienie REK/2026/0042 bez nawiasów") == []
