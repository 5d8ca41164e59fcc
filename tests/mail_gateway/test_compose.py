"""Templates compile at start; automatic replies cannot carry injected headers."""

from __future__ import annotations

from email import message_from_bytes, policy

from mail_gateway.compose import automatic_reply, check_templates


def test_every_template_compiles() -> None:
    names = check_templates()
    assert {"acknowledgement.txt", "notification.txt", "notification.html"} <= set(names)


def test_line_breaks_in_task_data_never_become_headers() -> None:
    _, raw = automatic_reply(
        sender="Hermes <hermes@hermes.test>",
        to="anna@klient.pl",
        reply_to="hermes+abc@hermes.test",
        subject="[REK/2026/0001] Reklamacja\r\nBcc: ofiara@example.com",
        template="acknowledgement.txt",
        context={"number": "REK/2026/0001", "subject": "x\r\nBcc: y", "register": "Reklamacje"},
        domain="hermes.test",
        task_id=1,
        in_reply_to=None,
    )
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed["Bcc"] is None
    assert parsed["Subject"] == "[REK/2026/0001] Reklamacja Bcc: ofiara@example.com"
    assert parsed["Auto-Submitted"] == "auto-replied" and parsed["X-Hermes-Loop"]
