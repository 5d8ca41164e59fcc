"""The new part of an e-mail reply: what the customer wrote, without quotes and signatures.

Replies to task notifications come from Outlook (desktop, OWA, mobile), Gmail (web, Android,
iOS), Thunderbird and Apple Mail, mostly in Polish. Existing parsers are English-only or cut at
any body line that merely looks like a header (``Data: 2024-01-05``), so the rules live here:

1. HTML first: the quoting clients mark their quote (``div.gmail_quote``, ``moz-cite-prefix``,
   ``blockquote type=cite``, Outlook's ``#divRplyFwdMsg`` / grey separator border ...); the rest
   is rendered to text and still goes through the text rules.
2. Plain text: localised reply headers ("W dniu ... napisał(a):", Outlook's "Od:/Wysłano:"
   block, "-----Original Message-----"), ``>`` quotes, interleaved answers.
3. Signatures: the ``-- `` delimiter, mobile footers, and (conservatively) the short block
   under a closing greeting.

Nothing is thrown away: whatever is cut lands in ``quoted`` or ``signature``, and a body that is
only a forward (or only a quote) keeps that content as ``text``, so no task note is ever empty.
"""

from __future__ import annotations

import html as html_lib
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from mail_gateway.html_text import html_to_text, normalize_text

__all__ = ["Reply", "extract_reply"]


@dataclass(frozen=True)
class Reply:
    """The split of one reply body; ``text`` + ``quoted`` + ``signature`` cover the body."""

    text: str
    quoted: str
    signature: str
    method: str


# --------------------------------------------------------------------------- limits
_MAX_HEADER_LINE = 300  # a physical line longer than this is prose, never a reply header
_MAX_ATTRIBUTION = 400  # an attribution joined from its wrapped lines
_MAX_WEAK_ATTRIBUTION = 200
_MAX_ATTRIBUTION_LINES = 3  # Gmail wraps once; Evolution wraps a long name twice
_MAX_KEY_LENGTH = 24  # "Odpowiedź do" is the longest header key we know
_MAX_HEADER_BLOCK = 16
_MAX_CONTINUATION = 3  # wrapped To:/Cc: lists
_FOOTER_WINDOW = 8  # mobile footers are near the end of the new text
_MAX_FOOTER = 120
_MAX_DELIMITED_SIGNATURE = 15  # a bare "--" only counts with a short tail
_GREETING_WINDOW = 12
_MAX_SIGNATURE_LINES = 6
_MAX_SIGNATURE_LINE = 72
_MAX_SIGNATURE_WORDS = 10

# --------------------------------------------------------------------------- plain-text rules
_QUOTE_LINE = re.compile(r" {0,3}>")
_QUOTE_PREFIX = re.compile(r" {0,3}> ?")
# Colon or U+2236 RATIO (Evolution writes "11∶04").
_TIME = re.compile(r"\d{1,2} ?[:\u2236] ?\d{2}")
_EMAIL = re.compile(r"[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+")
_ATTRIBUTION_VERB = re.compile(
    r"(napisał\(a\)|napisała|napisał|napisali|pisze|wrote|schrieb|a écrit|escribió|ha scritto)"
    r" ?:$",
    re.IGNORECASE,
)
# How the first line of a *wrapped* attribution starts; a single line needs no lead, but a
# lead makes a span win over a shorter one ("... Jan Kowalski <" + "jan@firma.pl> wrote:").
_ATTRIBUTION_LEAD = re.compile(
    r"(?:(?:W\s+dniu|Dnia|On|Wiadomość\s+napisana|Użytkownik|Am|Le|El)\s|-{2,}"
    r"|\d{1,4}[./-]\d{1,2}[./-]\d{2,4}\s"
    r"|(?:pon|wt|wto|śr|śro|czw|pt|pią|sob|niedz|ndz|nie|mon|tue|wed|thu|fri|sat|sun)\.?,\s)",
    re.IGNORECASE,
)
# A wrapped attribution never breaks after the end of a sentence.
_SENTENCE_END = (".", "!", "?")
# Old Gmail: "2014-03-20 8:48 GMT+01:00 Jan Kowalski <jan@firma.pl>:".
_GMAIL_ISO = re.compile(r"\d{4}-\d{2}-\d{2} \d{1,2}:\d{2} GMT[+-]\d{1,2}:\d{2} [^\n]{1,200}>:$")
_ORIGINAL_SEPARATOR = re.compile(
    r"-{2,} ?(?:original message|wiadomość oryginalna|oryginalna wiadomość"
    r"|ursprüngliche nachricht|message d'origine) ?-{2,}",
    re.IGNORECASE,
)
_FORWARD_SEPARATOR = re.compile(
    r"-{2,} ?(?:forwarded message|wiadomość przekazana dalej|przekazana wiadomość"
    r"|wiadomość przekazana|weitergeleitete nachricht|message transféré) ?-{2,}"
    r"|(?:begin forwarded message|początek przekazywanej wiadomości"
    r"|początek przekazanej wiadomości|przekazana wiadomość) ?:",
    re.IGNORECASE,
)
_UNDERSCORES = re.compile(r"_{10,}")
_HEADER_KEYS: dict[str, str] = {
    "od": "from", "from": "from", "nadawca": "from", "von": "from", "de": "from",
    "wysłano": "sent", "wysłane": "sent", "sent": "sent", "data": "sent", "date": "sent",
    "gesendet": "sent", "envoyé": "sent",
    "do": "to", "to": "to", "an": "to", "à": "to", "adresat": "to",
    "dw": "cc", "udw": "cc", "cc": "cc", "bcc": "cc", "kopia": "cc", "ukryta kopia": "cc",
    "kopie": "cc",
    "temat": "subject", "subject": "subject", "betreff": "subject", "objet": "subject",
    "odpowiedź do": "reply-to", "odpowiedz do": "reply-to", "reply-to": "reply-to",
    "ważność": "importance", "priorytet": "importance", "importance": "importance",
}  # fmt: skip
_CONTINUED_KEYS = frozenset({"to", "cc"})
_FOOTER = re.compile(
    r"(?:wysłan[eoay]|sent|envoyé|gesendet) (?:z|ze|from|with|using|via|przy użyciu|za pomocą|von)"
    r" .{2,80}"
    r"|(?:get|pobierz|uzyskaj) (?:aplikację )?outlook (?:for|dla) (?:systemu )?(?:ios|android)"
    r"(?: ?<[^>\s]{1,200}>)?",
    re.IGNORECASE,
)
_FOOTER_DEVICE = re.compile(
    r"iphone|ipad|ipod|galaxy|samsung|android|outlook|\bpoczta\b|\bmail\b|blackberry|huawei"
    r"|xiaomi|redmi|motorola|nokia|smartfon|telefon|urządzeni|tablet|aplikacj|mobile|komórk"
    r"|\bios\b|windows|yahoo|proton|spark|bluemail|aquamail|gmail|\bapp\b",
    re.IGNORECASE,
)
_GREETING = re.compile(
    r"(?:pozdrawiam(?: serdecznie| ciepło| gorąco)?|(?:serdecznie|ciepło) pozdrawiam|pozdrowienia"
    r"|pozdr\.?|z poważaniem|z wyrazami szacunku|z pozdrowieniami|łączę pozdrowienia"
    r"|(?:dziękuję|dzięki),? pozdrawiam|(?:best|kind|warm|warmest) regards|regards|best wishes"
    r"|best|cheers|sincerely|yours sincerely|yours truly)[ ,.!]*",
    re.IGNORECASE,
)
# Words that make a line after the greeting a request, not a business card.
_CONTENT_HINT = re.compile(r"\?|:$|^p\.? ?p?\.? ?s\b|proszę|prosimy|please|\bczy\b", re.IGNORECASE)
_SIGNATURE_DELIMITER = "-- "


@dataclass(frozen=True)
class _Attribution:
    """A reply header line (possibly wrapped); ``strong`` ones cut even without ``>`` below."""

    end: int
    rule: str
    strong: bool


@dataclass
class _Chunk:
    quoted: bool
    lines: list[str]


@dataclass(frozen=True)
class _Parts:
    """What the plain-text rules made of one body, before the never-empty fallback."""

    text: str
    quoted: str
    signature: str
    rule: str | None
    signature_rule: str | None
    interleaved: bool


def _is_quote(line: str) -> bool:
    return _QUOTE_LINE.match(line) is not None


def _next_nonblank(lines: Sequence[str], start: int) -> int:
    index = start
    while index < len(lines) and not lines[index].strip():
        index += 1
    return index


def _attribution_rule(folded: str, verb: str) -> str:
    if verb == "wrote":
        return "header-en"
    if verb == "pisze":
        return "header-pl-thunderbird"
    if folded.startswith("dnia "):
        return "header-pl-webmail"
    if verb == "napisał(a)":
        return "header-pl-gmail"
    if verb.startswith("napisa"):
        return "header-pl"
    return "header-other"


def _classify_attribution(candidate: str) -> tuple[str, bool] | None:
    """Name the reply header ``candidate`` is and whether it is strong; None if it is prose.

    Strong means it carries a time or an address, as every client's header does; a line like
    "Jan napisał:" only counts when ``>`` lines follow it.
    """
    if len(candidate) > _MAX_ATTRIBUTION or not candidate.endswith(":"):
        return None
    strong = bool(_TIME.search(candidate) or _EMAIL.search(candidate))
    folded = candidate.casefold()
    if folded.startswith("wiadomość napisana przez ") and " w dniu " in folded:
        return "header-pl-apple", strong
    if _GMAIL_ISO.match(candidate):
        return "header-gmail", True
    verb = _ATTRIBUTION_VERB.search(candidate)
    if verb is None or (not strong and len(candidate) > _MAX_WEAK_ATTRIBUTION):
        return None
    return _attribution_rule(folded, verb.group(1).casefold()), strong


def _joinable(line: str) -> bool:
    return bool(line.strip()) and len(line) <= _MAX_HEADER_LINE and not _is_quote(line)


def _attribution_ending_at(lines: Sequence[str], end: int) -> tuple[int, _Attribution] | None:
    """Find the attribution whose last line is ``end``, unwrapping up to three lines.

    Prefers strong over weak, then a span that starts with a known lead, then the shortest.
    """
    best: tuple[bool, bool, int] | None = None
    found_at: tuple[int, _Attribution] | None = None
    for size in range(1, _MAX_ATTRIBUTION_LINES + 1):
        start = end - size + 1
        if start < 0 or not _joinable(lines[start]):
            break
        if size > 1 and lines[start].rstrip().endswith(_SENTENCE_END):
            break
        has_lead = _ATTRIBUTION_LEAD.match(lines[start].strip()) is not None
        if size > 1 and not has_lead:
            continue
        found = _classify_attribution(" ".join(line.strip() for line in lines[start : end + 1]))
        if found is None:
            continue
        rank = (found[1], has_lead, -size)
        if best is None or rank > best:
            best = rank
            found_at = (start, _Attribution(end, found[0], strong=found[1]))
    return found_at


def _attribution_spans(lines: Sequence[str]) -> dict[int, _Attribution]:
    """Map the first line of every attribution to its extent; a cheap pass over line ends."""
    spans: dict[int, _Attribution] = {}
    for end, line in enumerate(lines):
        if not line.endswith(":") or not _joinable(line):
            continue
        found = _attribution_ending_at(lines, end)
        if found is not None:
            spans[found[0]] = found[1]
    return spans


def _header_field(line: str) -> tuple[str, str, str] | None:
    """Split ``Key: value`` (also Outlook's bold ``*Od:*``) when the key is a header key."""
    colon = line.find(":", 0, _MAX_KEY_LENGTH)
    if colon <= 0:
        return None
    key = line[:colon].strip(" \t*").casefold()
    canonical = _HEADER_KEYS.get(key)
    if canonical is None:
        return None
    return key, canonical, line[colon + 1 :].strip(" \t*")


def _is_header_block(fields: dict[str, str], *, after_separator: bool) -> bool:
    """Two distinct keys, one of them a sender with a name or address, and one more sign.

    "Od: poniedziałku / Do: piątku" (opening hours) has the two keys but no address, no date
    and no third key, so a customer's own text is never mistaken for a quoted header.
    """
    sender = fields.get("from")
    if sender is None or len(fields) < 2 or not any(ch.isalnum() for ch in sender):
        return False
    if len(fields) >= 3 or after_separator or "@" in sender:
        return True
    return any(ch.isdigit() for ch in fields.get("sent", ""))


_Field = tuple[str, str, str] | None


def _header_block(
    lines: Sequence[str], fields: Sequence[_Field], start: int, *, after_separator: bool
) -> str | None:
    """Rule name when an Outlook-style header block starts at ``start``.

    ``fields`` holds ``_header_field`` of every line, parsed once per body.
    """
    found: dict[str, str] = {}
    sender_key = ""
    last = ""
    continuation = 0
    for index in range(start, min(len(lines), start + _MAX_HEADER_BLOCK)):
        parsed = fields[index]
        if parsed is not None:
            key, canonical, value = parsed
            if canonical == "from" and not sender_key:
                sender_key = key
            found.setdefault(canonical, value)
            last, continuation = canonical, 0
        elif (
            last in _CONTINUED_KEYS and continuation < _MAX_CONTINUATION and _joinable(lines[index])
        ):
            continuation += 1
        else:
            break
    if not _is_header_block(found, after_separator=after_separator):
        return None
    if sender_key == "od":
        return "header-pl-outlook"
    return "header-en-outlook" if sender_key == "from" else "header-outlook"


def _cut_rule(lines: Sequence[str], fields: Sequence[_Field], index: int) -> str | None:
    """Rule name when everything from ``index`` on is a quoted or forwarded message."""
    stripped = lines[index].strip()
    if _ORIGINAL_SEPARATOR.fullmatch(stripped):
        return "separator-original"
    if _FORWARD_SEPARATOR.fullmatch(stripped):
        return "separator-forward"
    if _UNDERSCORES.fullmatch(stripped):
        following = _next_nonblank(lines, index + 1)
        if following > index + 2 or following >= len(lines):
            return None
        return _header_block(lines, fields, following, after_separator=True)
    return _header_block(lines, fields, index, after_separator=False)


class _Segmenter:
    """One pass over the lines, sorting them into new-text and quoted chunks."""

    def __init__(self, lines: Sequence[str]) -> None:
        self.lines = lines
        self.chunks: list[_Chunk] = []
        self.rule: str | None = None
        self._attributions = _attribution_spans(lines)
        self._fields = [_header_field(line) for line in lines]

    def run(self) -> None:
        index = 0
        while index < len(self.lines):
            index = self._step(index)

    def _step(self, index: int) -> int:
        lines = self.lines
        line = lines[index]
        if not line.strip():
            self._add_blank()
            return index + 1
        if _is_quote(line):
            self._add(quoted=True, lines=[line], rule="quote-marks")
            return index + 1
        cut = _cut_rule(lines, self._fields, index)
        if cut is not None:
            self._add(quoted=True, lines=lines[index:], rule=cut)
            return len(lines)
        attribution = self._attributions.get(index)
        if attribution is not None:
            after = _next_nonblank(lines, attribution.end + 1)
            if after < len(lines) and _is_quote(lines[after]):
                self._add(quoted=True, lines=lines[index:after], rule=attribution.rule)
                return after
            if attribution.strong:
                self._add(quoted=True, lines=lines[index:], rule=attribution.rule)
                return len(lines)
        self._add(quoted=False, lines=[line], rule=None)
        return index + 1

    def _add_blank(self) -> None:
        if self.chunks:
            self.chunks[-1].lines.append("")
        else:
            self.chunks.append(_Chunk(quoted=False, lines=[""]))

    def _add(self, *, quoted: bool, lines: Sequence[str], rule: str | None) -> None:
        if quoted and self.rule is None:
            self.rule = rule
        if self.chunks and self.chunks[-1].quoted == quoted:
            self.chunks[-1].lines.extend(lines)
        else:
            self.chunks.append(_Chunk(quoted=quoted, lines=list(lines)))


def _join(parts: Sequence[str]) -> str:
    return "\n\n".join(part for part in (p.strip("\n") for p in parts) if part.strip())


def _is_footer(line: str) -> bool:
    stripped = line.strip()
    return (
        len(stripped) <= _MAX_FOOTER
        and _FOOTER.fullmatch(stripped) is not None
        and _FOOTER_DEVICE.search(stripped) is not None
    )


def _starts_signature(line: str) -> bool:
    return line.strip() == "--" or _is_footer(line)


def _is_interleaved(chunks: Sequence[_Chunk]) -> bool:
    """True when real text (not just a signature) follows a quote: an inline or bottom reply."""
    seen_quote = False
    for chunk in chunks:
        if chunk.quoted:
            seen_quote = True
            continue
        first = next((line for line in chunk.lines if line.strip()), "")
        if seen_quote and first and not _starts_signature(first):
            return True
    return False


def _remove_footers(lines: list[str]) -> tuple[list[str], list[str]]:
    """Take out "Wysłane z iPhone'a"-style lines near the end; they are never content."""
    nonblank = [index for index, line in enumerate(lines) if line.strip()]
    footers = {index for index in nonblank[-_FOOTER_WINDOW:] if _is_footer(lines[index])}
    if not footers:
        return lines, []
    kept = [line for index, line in enumerate(lines) if index not in footers]
    return kept, [lines[index].strip() for index in sorted(footers)]


def _cut_delimited(lines: list[str]) -> tuple[list[str], list[str]]:
    """Cut at ``-- `` (RFC 3676), or at a bare ``--`` followed by a short block."""
    for index, line in enumerate(lines):
        if line == _SIGNATURE_DELIMITER:
            return lines[:index], lines[index:]
    for index in range(len(lines) - 1, -1, -1):
        if lines[index].strip() == "--":
            tail = [line for line in lines[index + 1 :] if line.strip()]
            if 0 < len(tail) <= _MAX_DELIMITED_SIGNATURE:
                return lines[:index], lines[index:]
            break
    return lines, []


def _is_signature_block(tail: Sequence[str]) -> bool:
    """A business card: a few short lines, no question, no request, no paragraph break."""
    nonblank = [line.strip() for line in tail if line.strip()]
    if not 0 < len(nonblank) <= _MAX_SIGNATURE_LINES:
        return False
    if "\n\n\n" in "\n".join(tail).strip("\n"):
        return False
    return all(
        len(line) <= _MAX_SIGNATURE_LINE
        and len(line.split()) <= _MAX_SIGNATURE_WORDS
        and _CONTENT_HINT.search(line) is None
        for line in nonblank
    )


def _cut_after_greeting(lines: list[str]) -> tuple[list[str], list[str]]:
    """Move the name/title/phone block under "Pozdrawiam" to the signature; keep the greeting."""
    lowest = max(-1, len(lines) - 1 - _GREETING_WINDOW)
    for index in range(len(lines) - 1, lowest, -1):
        if _GREETING.fullmatch(lines[index].strip()):
            tail = lines[index + 1 :]
            if _is_signature_block(tail):
                return lines[: index + 1], tail
            break
    return lines, []


def _cut_signature(text: str) -> tuple[str, str, str | None]:
    """Split ``text`` into body and signature; the rule name says which rule cut first."""
    lines = text.split("\n")
    lines, footers = _remove_footers(lines)
    lines, delimited = _cut_delimited(lines)
    lines, card = _cut_after_greeting(lines)
    rule = None
    if delimited:
        rule = "sig:dash-dash"
    elif footers:
        rule = "sig:mobile"
    elif card:
        rule = "sig:greeting"
    signature = _join(["\n".join(card), "\n".join(delimited), "\n".join(footers)])
    return normalize_text("\n".join(lines)), normalize_text(signature), rule


def _split_plain(body: str) -> _Parts:
    """Apply the plain-text rules to one body (a text/plain part or rendered HTML)."""
    normalized = normalize_text(body)
    if not normalized:
        return _Parts("", "", "", None, None, interleaved=False)
    segmenter = _Segmenter(normalized.split("\n"))
    segmenter.run()
    chunks = segmenter.chunks
    text = _join(["\n".join(chunk.lines) for chunk in chunks if not chunk.quoted])
    quoted = _join(["\n".join(chunk.lines) for chunk in chunks if chunk.quoted])
    text, signature, signature_rule = _cut_signature(text)
    return _Parts(
        text=text,
        quoted=quoted,
        signature=signature,
        rule=segmenter.rule,
        signature_rule=signature_rule,
        interleaved=_is_interleaved(chunks),
    )


def _text_method(parts: _Parts) -> str:
    if parts.interleaved:
        return "text:interleaved"
    if parts.rule is not None:
        return f"text:{parts.rule}"
    return parts.signature_rule or "none"


def _dequote(text: str) -> str:
    """Strip one ``>`` level when the quote is a clean ``>`` block (header lines above it)."""
    lines = text.split("\n")
    first = next((index for index, line in enumerate(lines) if _is_quote(line)), None)
    if first is None or any(line.strip() and not _is_quote(line) for line in lines[first:]):
        return text
    unquoted = [_QUOTE_PREFIX.sub("", line, count=1) for line in lines[first:]]
    return "\n".join([*lines[:first], *unquoted])


def _finish(
    text: str, quoted: Sequence[str], signature: Sequence[str], method: str, source: str
) -> Reply:
    """Assemble the reply; never leave ``text`` empty when the body had content (forwards)."""
    quoted_text = _join(quoted)
    signature_text = _join(signature)
    if text:
        return Reply(text, quoted_text, signature_text, method)
    if quoted_text:
        return Reply(normalize_text(_dequote(quoted_text)), "", signature_text, f"{source}:forward")
    if signature_text:
        return Reply(signature_text, "", "", "none")
    return Reply("", "", "", "none")


def _from_text(body: str) -> Reply:
    parts = _split_plain(body)
    return _finish(parts.text, [parts.quoted], [parts.signature], _text_method(parts), "text")


# --------------------------------------------------------------------------- HTML structure
_VOID_TAGS = frozenset(
    {
        "area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr", "img",
        "input", "keygen", "link", "meta", "param", "source", "track", "wbr",
    }
)  # fmt: skip
_CLOSES_PARAGRAPH = frozenset(
    {
        "address", "article", "aside", "blockquote", "div", "dl", "fieldset", "footer", "form",
        "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "main", "nav", "ol", "p", "pre",
        "section", "table", "ul",
    }
)  # fmt: skip
_QUOTE_CLASSES = {
    "gmail_quote": "gmail_quote",
    "gmail_quote_container": "gmail_quote",
    "gmail_attr": "gmail_quote",
    "moz-cite-prefix": "moz-cite-prefix",
    "protonmail_quote": "protonmail_quote",
}
_SIGNATURE_CLASSES = {
    "gmail_signature": "gmail_signature",
    "gmail_signature_prefix": "gmail_signature",
    "moz-signature": "moz-signature",
}
# Markers after which the whole rest of the document is the quoted message.
_TAIL_IDS = {
    "divRplyFwdMsg": "divRplyFwdMsg",
    "appendonsend": "appendonsend",
    "mail-editor-reference-message-container": "mail-editor-reference-message-container",
    "OLK_SRC_BODY_SECTION": "outlook-mac",
}
_TAIL_CLASSES = {"OutlookMessageHeader": "outlook-header"}
_SIGNATURE_IDS = {"Signature": "outlook-signature", "ms-outlook-mobile-signature": "outlook-mobile"}
# Outlook's separator above the "Od:/Wysłano:" block: a grey top border (2013+: #E1E1E1,
# 2007/2010: #B5C4DF), sometimes re-serialised as rgb().
_OUTLOOK_BORDER = re.compile(
    r"border-top\s*:[^;\"]{0,40}?(?:#e1e1e1|#b5c4df|rgb\(\s*225,\s*225,\s*225\s*\)"
    r"|rgb\(\s*181,\s*196,\s*223\s*\))",
    re.IGNORECASE,
)
_QUOTE_MARK = "\ue000"
_SIGNATURE_MARK = "\ue001"
_MARKS = re.compile(f"([{_QUOTE_MARK}{_SIGNATURE_MARK}])")
# Comments (unterminated ones run to the end), declarations, then tags; see _MarkerScanner.
_TOKEN = re.compile(r"<!--.*?(?:-->|\Z)|<[!?][^>]*>|<(/?)([a-zA-Z][^\s/>]*)([^>]*)>", re.DOTALL)
_ATTRIBUTE = re.compile(r"""([^\s"'=<>/]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
_MAX_ATTRIBUTES = 10_000  # characters of one tag's attributes worth looking at
_RAW_TEXT_END = {
    tag: re.compile(rf"</{tag}\s*>", re.IGNORECASE)
    for tag in ("script", "style", "textarea", "title", "xmp")
}
_TAG = re.compile(r"<[^<>]{0,2000}>")


@dataclass(frozen=True)
class _Marker:
    kind: str  # "quote" or "signature"
    name: str
    tail: bool = False  # the rest of the document belongs to it, not just the element


@dataclass(frozen=True)
class _Range:
    start: int
    end: int
    kind: str
    name: str


@dataclass(frozen=True)
class _OpenRange:
    depth: int
    start: int
    marker: _Marker


def _class_marker(classes: Sequence[str]) -> _Marker | None:
    for cls in classes:
        if cls in _QUOTE_CLASSES:
            return _Marker("quote", _QUOTE_CLASSES[cls])
        if cls.startswith("yahoo_quoted"):
            return _Marker("quote", "yahoo_quoted")
        if cls in _TAIL_CLASSES:
            return _Marker("quote", _TAIL_CLASSES[cls], tail=True)
    return None


def _quote_marker(tag: str, values: dict[str, str], classes: Sequence[str]) -> _Marker | None:
    marker = _class_marker(classes)
    if marker is not None:
        return marker
    element_id = values.get("id", "")
    if element_id.startswith("yahoo_quoted"):
        return _Marker("quote", "yahoo_quoted")
    if element_id in _TAIL_IDS:
        return _Marker("quote", _TAIL_IDS[element_id], tail=True)
    if tag == "blockquote" and values.get("type", "").strip().lower() == "cite":
        return _Marker("quote", "blockquote-cite")
    if tag == "div" and _OUTLOOK_BORDER.search(values.get("style", "")):
        return _Marker("quote", "outlook-separator", tail=True)
    return None


def _classify_element(tag: str, values: dict[str, str]) -> _Marker | None:
    """The quote or signature marker this element is, if any."""
    classes = values.get("class", "").split()
    marker = _quote_marker(tag, values, classes)
    if marker is not None:
        return marker
    for cls in classes:
        if cls in _SIGNATURE_CLASSES:
            return _Marker("signature", _SIGNATURE_CLASSES[cls])
    element_id = values.get("id", "")
    if element_id in _SIGNATURE_IDS:
        return _Marker("signature", _SIGNATURE_IDS[element_id])
    return None


def _attributes(source: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for match in _ATTRIBUTE.finditer(source, 0, _MAX_ATTRIBUTES):
        name, double, single, bare = match.groups()
        value = next((part for part in (double, single, bare) if part is not None), "")
        values.setdefault(name.lower(), html_lib.unescape(value))
    return values


class _MarkerScanner:
    """Finds the source ranges of quote and signature elements, without building a tree.

    A regex tokenizer instead of ``html.parser``: that one is quadratic on unterminated tags
    (``"<a " * 20_000`` takes a minute) and asserts on odd declarations. Tokens are only sought
    up to the last ``>``, so every candidate either matches or fails at once: linear time.
    A stack of open tag names (with the implicit closes that matter for ``<p>``, ``<li>`` and
    table cells) finds where a marked element ends; offsets index the original string.
    """

    def __init__(self, html: str) -> None:
        self._html = html
        self._stack: list[str] = []
        self._counts: Counter[str] = Counter()
        self._open: _OpenRange | None = None
        self._last_hr: tuple[int, int] | None = None
        self._done = False
        self.ranges: list[_Range] = []

    def scan(self) -> list[_Range]:
        html = self._html
        limit = html.rfind(">") + 1
        position = 0
        while not self._done:
            match = _TOKEN.search(html, position, limit)
            if match is None:
                break
            position = match.end()
            closing, name, attributes = match.groups()
            if name is None:  # comment, doctype, conditional comment, processing instruction
                continue
            tag = name.lower()
            if closing:
                self._end_tag(tag, match.end())
                continue
            self._start_tag(tag, _attributes(attributes), match.start(), match.end())
            if tag in _RAW_TEXT_END:  # markup inside <script>/<style> is not markup
                raw_end = _RAW_TEXT_END[tag].search(html, position)
                position = len(html) if raw_end is None else raw_end.start()
        if self._open is not None:
            self._close_range(len(html))
        return self.ranges

    def _start_tag(self, tag: str, values: dict[str, str], start: int, end: int) -> None:
        self._implicit_close(tag, start)
        if self._open is None:
            marker = _classify_element(tag, values)
            if marker is not None:
                self._begin(marker, start)
                if self._done:
                    return
        if tag == "hr":
            self._last_hr = (start, end)
        if tag not in _VOID_TAGS:
            self._stack.append(tag)
            self._counts[tag] += 1

    def _end_tag(self, tag: str, end: int) -> None:
        if not self._counts[tag]:
            return
        index = len(self._stack) - 1
        while self._stack[index] != tag:
            index -= 1
        self._pop_to(index, end)

    def _implicit_close(self, tag: str, position: int) -> None:
        top = self._stack[-1] if self._stack else ""
        if (
            (top == "p" and tag in _CLOSES_PARAGRAPH)
            or (top == "li" and tag == "li")
            or (top in {"td", "th"} and tag in {"td", "th", "tr"})
        ):
            self._pop_to(len(self._stack) - 1, position)
            if tag == "tr" and self._stack and self._stack[-1] == "tr":
                self._pop_to(len(self._stack) - 1, position)

    def _pop_to(self, index: int, position: int) -> None:
        for tag in self._stack[index:]:
            self._counts[tag] -= 1
        del self._stack[index:]
        if self._open is not None and len(self._stack) <= self._open.depth:
            self._close_range(position)

    def _begin(self, marker: _Marker, start: int) -> None:
        if not marker.tail:
            self._open = _OpenRange(len(self._stack), start, marker)
            return
        hr = self._last_hr
        if hr is not None and not self._html[hr[1] : start].strip():
            start = hr[0]  # the <hr> Outlook draws above its header belongs to the quote
        self.ranges.append(_Range(start, len(self._html), marker.kind, marker.name))
        self._done = True

    def _close_range(self, end: int) -> None:
        opened = self._open
        if opened is not None:
            self.ranges.append(_Range(opened.start, end, opened.marker.kind, opened.marker.name))
        self._open = None


@dataclass
class _HtmlSplit:
    new_text: str
    interleaved: bool
    quotes: list[str] = field(default_factory=list)
    signatures: list[str] = field(default_factory=list)


def _has_text(fragment: str) -> bool:
    return bool(html_lib.unescape(_TAG.sub("", fragment)).strip())


def _gmail_parts(html: str, container: _Range) -> list[_Range]:
    """The ranges that stand for one ``div.gmail_quote`` container.

    Answering inline in Gmail splits its blockquote and leaves the answers *inside* the
    container, between ``blockquote.gmail_quote`` elements: then only the attribution and the
    blockquotes are quoted. A forward keeps its content outside any blockquote, so a container
    whose attribution is a forward separator stays whole.
    """
    opening = html.find(">", container.start, container.end) + 1
    if opening <= 0:
        return [container]
    inner = [
        _Range(opening + found.start, opening + found.end, found.kind, container.name)
        for found in _MarkerScanner(html[opening : container.end]).scan()
        if found.kind == "quote"
    ]
    if not inner or _FORWARD_SEPARATOR.search(_TAG.sub("", html[inner[0].start : inner[0].end])):
        return [container]
    bounds = [opening, *(edge for found in inner for edge in (found.start, found.end))]
    bounds.append(container.end)
    gaps = (html[bounds[index] : bounds[index + 1]] for index in range(0, len(bounds), 2))
    return inner if any(_has_text(gap) for gap in gaps) else [container]


def _refine_gmail(html: str, ranges: Sequence[_Range]) -> list[_Range]:
    refined: list[_Range] = []
    for found in ranges:
        is_container = found.kind == "quote" and found.name == "gmail_quote"
        refined.extend(_gmail_parts(html, found) if is_container else [found])
    return refined


def _merge_adjacent(html: str, ranges: Sequence[_Range]) -> list[_Range]:
    """Join ranges of one kind with only markup between them (Apple's two blockquotes, Gmail's
    "-- " prefix and signature), so each renders as one block."""
    merged: list[_Range] = []
    for found in ranges:
        previous = merged[-1] if merged else None
        if (
            previous is not None
            and previous.kind == found.kind
            and not _has_text(html[previous.end : found.start])
        ):
            merged[-1] = _Range(previous.start, found.end, previous.kind, previous.name)
        else:
            merged.append(found)
    return merged


def _split_trailing_attribution(piece: str) -> tuple[str, str]:
    """Split off an attribution that ends the text right before a quote element.

    In HTML the quote's position is known, so even a header without a time ("On Monday, Jan
    wrote:") is one when a quote element follows it directly.
    """
    lines = normalize_text(piece).split("\n")
    found = _attribution_ending_at(lines, len(lines) - 1) if lines[-1].endswith(":") else None
    if found is None:
        return piece, ""
    return "\n".join(lines[: found[0]]), "\n".join(lines[found[0] :])


def _split_html(html: str, ranges: Sequence[_Range]) -> _HtmlSplit:
    """Render the document with each range replaced by a mark, and each range on its own."""
    pieces: list[str] = []
    position = 0
    for found in ranges:
        pieces.append(html[position : found.start])
        mark = _QUOTE_MARK if found.kind == "quote" else _SIGNATURE_MARK
        pieces.append(f"<div>{mark}</div>")
        position = found.end
    pieces.append(html[position:])
    texts: list[str] = []
    headers: list[str] = []
    seen_quote = interleaved = text_before = False
    for piece in _MARKS.split(html_to_text("".join(pieces))):
        if piece == _QUOTE_MARK and text_before:
            texts[-1], header = _split_trailing_attribution(texts[-1])
            headers.append(header)
        if piece in {_QUOTE_MARK, _SIGNATURE_MARK}:
            seen_quote = seen_quote or piece == _QUOTE_MARK
            text_before = False
        elif piece.strip():
            first = next(line for line in piece.split("\n") if line.strip())
            interleaved = interleaved or (seen_quote and not _starts_signature(first))
            texts.append(piece)
            text_before = True
    split = _HtmlSplit(new_text=_join(texts), interleaved=interleaved, quotes=headers)
    for found in ranges:
        rendered = html_to_text(html[found.start : found.end])
        (split.quotes if found.kind == "quote" else split.signatures).append(rendered)
    return split


def _html_method(ranges: Sequence[_Range], split: _HtmlSplit, parts: _Parts) -> str:
    quote = next((found for found in ranges if found.kind == "quote"), None)
    if quote is not None:
        return "html:interleaved" if split.interleaved else f"html:{quote.name}"
    if parts.rule is not None or parts.interleaved:
        return _text_method(parts)
    if ranges:
        return f"html:{ranges[0].name}"
    return parts.signature_rule or "none"


def _from_html(html: str) -> Reply:
    html = html.replace(_QUOTE_MARK, "").replace(_SIGNATURE_MARK, "")
    ranges = _merge_adjacent(html, _refine_gmail(html, _MarkerScanner(html).scan()))
    split = _split_html(html, ranges)
    parts = _split_plain(split.new_text)
    return _finish(
        parts.text,
        [parts.quoted, *split.quotes],
        [*split.signatures, parts.signature],
        _html_method(ranges, split, parts),
        "html",
    )


def extract_reply(text: str | None, html: str | None) -> Reply:
    """Prefer HTML structure when html is given; else plain text.

    The HTML part wins because its quote markers are exact; the text part is used when there is
    no HTML or the HTML renders to nothing (an image-only body).
    """
    if html is not None and html.strip():
        reply = _from_html(html)
        if reply.text or not (text and text.strip()):
            return reply
    return _from_text(text or "")
