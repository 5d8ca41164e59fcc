"""``hermes-groupware view ...`` and ``feed create --view`` as a separate process on demo data."""

from __future__ import annotations

import csv
import io
import subprocess
from pathlib import Path

from openpyxl import load_workbook
from pypdf import PdfReader

from tests.hermes_groupware.cli.conftest import SCRIPT, Run, as_json

OVERDUE_REK = ("view", "add", "Zaległe reklamacje", "--owner", "admin", "--register", "REK")


def _overdue_rek(demo: Run) -> list[str]:
    """The numbers of overdue REK tasks as ``task list`` finds them (not through views)."""
    listed = as_json(demo("task", "list", "--register", "REK", "--overdue", "--json"))
    return sorted(task["number"] for task in listed)


def test_view_life_cycle(demo: Run) -> None:
    added = as_json(
        demo(
            *OVERDUE_REK,
            "--overdue",
            "--columns",
            "number,subject,due,field:numer_partii",
            "--sort",
            "number",
            "--description",
            "Na poniedziałek",
            "--json",
        )
    )
    assert (added["owner"], added["audience"], added["version"]) == ("admin", "private", 1)
    assert added["definition"] == {"overdue": True, "registers": ["REK"]}
    assert [v["name"] for v in as_json(demo("view", "list", "--json"))] == ["Zaległe reklamacje"]

    rows = as_json(demo("view", "rows", "Zaległe reklamacje", "--json"))
    expected = _overdue_rek(demo)
    assert [row["values"]["number"] for row in rows["rows"]] == expected
    assert rows["total"] == len(expected) > 0
    assert all(row["overdue"] for row in rows["rows"])
    assert rows["columns"] == ["number", "subject", "due", "field:numer_partii"]

    shown = demo("view", "show", "Zaległe reklamacje")
    assert "overdue: True" in shown.stdout
    assert f"of {len(expected)} row(s)" in shown.stdout
    assert expected[0] in shown.stdout
    text = demo("view", "rows", "Zaległe reklamacje", "--limit", "1").stdout
    assert "OVERDUE" in text
    assert f"(1 of {len(expected)} rows)" in text

    updated = as_json(
        demo(
            "view",
            "update",
            "Zaległe reklamacje",
            "--unset",
            "overdue",
            "--sort=-due",
            "--rename",
            "Reklamacje",
            "--audience",
            "everyone",
            "--json",
        )
    )
    assert (updated["name"], updated["version"], updated["sort"]) == ("Reklamacje", 2, ["-due"])
    assert updated["definition"] == {"registers": ["REK"]}
    demo("view", "delete", "Reklamacje")
    assert "not found" in demo("view", "show", "Reklamacje", expect=3).stderr


def test_each_employee_sees_a_view_with_their_own_rights(demo: Run) -> None:
    demo(
        "view",
        "add",
        "Serwis",
        "--owner",
        "pwisniewski",
        "--register",
        "SER",
        "--audience",
        "everyone",
        "--include-closed",
    )
    demo("--as", "pwisniewski", "view", "add", "Prywatny", "--register", "SER")
    own = as_json(demo("--as", "pwisniewski", "view", "rows", "Serwis", "--json"))
    assert own["total"] > 0
    # anowak may not read the SER register: the shared view shows her nothing
    assert as_json(demo("--as", "anowak", "view", "rows", "Serwis", "--json"))["rows"] == []
    assert "not found" in demo("--as", "anowak", "view", "rows", "Prywatny", expect=3).stderr
    assert demo("--as", "anowak", "view", "delete", "Serwis", expect=4)
    listed = as_json(demo("--as", "anowak", "view", "list", "--json"))
    assert [v["name"] for v in listed] == ["Serwis"]


def test_bad_input_names_what_is_wrong(demo: Run) -> None:
    for args, word in (
        (("--columns", "number,parent"), "columns"),
        (("--sort=-field:numer_partii",), "sort"),
        (("--field", "numer_partii"), "--field"),
        (("--due-from", "jutro"), "due_from"),
        (("--share-with", "serwis"), "groups"),
    ):
        assert word in demo(*OVERDUE_REK, *args, expect=2).stderr
    assert "give the login" in demo("view", "add", "x", "--register", "REK", expect=2).stderr
    assert "unrecognized arguments: --as" in demo(*OVERDUE_REK, "--as", "x", expect=2).stderr


def test_exports_open_cleanly(demo: Run, cli_env: dict[str, str], tmp_path: Path) -> None:
    demo(*OVERDUE_REK, "--overdue", "--columns", "number,subject,due", "--sort", "number")
    expected = _overdue_rek(demo)

    csv_text = demo("view", "export", "Zaległe reklamacje", "--format", "csv", "-o", "-").stdout
    assert csv_text.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(csv_text.removeprefix("\ufeff")), delimiter=";"))
    assert table[0] == ["Numer", "Temat", "Termin"]
    assert [row[0] for row in table[1:] if row] == expected

    # without --output the file gets its dated name in the current directory
    done = subprocess.run(  # noqa: PLW1510 - the exit code is checked below
        [SCRIPT, "view", "export", "Zaległe reklamacje", "--format", "xlsx"],
        env=cli_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    path = Path(done.stdout.strip())
    assert path.parent == tmp_path
    assert path.name.startswith("widok-zalegle-reklamacje-") and path.suffix == ".xlsx"
    sheet = load_workbook(path)["Zaległe reklamacje"]
    assert [cell.value for cell in sheet[1]] == ["Numer", "Temat", "Termin"]
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == expected
    red = {sheet.cell(row=2, column=c).fill.fgColor.rgb for c in (1, 2, 3)}
    assert len(red) == 1 and red != {"00000000"}  # overdue rows have a fill

    english = tmp_path / "en.pdf"
    demo(
        "view",
        "export",
        "Zaległe reklamacje",
        "--format",
        "pdf",
        "--locale",
        "en",
        "-o",
        str(english),
    )
    text = "".join(page.extract_text() for page in PdfReader(english).pages)
    assert "View: Zaległe reklamacje" in text
    assert expected[0] in text
    html = tmp_path / "x.html"
    demo("view", "export", "Zaległe reklamacje", "--format", "html", "-o", str(html))
    assert "Widok: Zaległe reklamacje" in html.read_text(encoding="utf-8")


def test_a_feed_of_a_view(demo: Run) -> None:
    demo(*OVERDUE_REK, "--audience", "everyone")
    demo("view", "add", "Handlowe", "--owner", "admin", "--register", "HAN")
    created = as_json(
        demo(
            "feed",
            "create",
            "--name",
            "Reklamacje",
            "--owner",
            "anowak",
            "--view",
            "Zaległe reklamacje",
            "--json",
        )
    )
    feed_id = str(created["feed"]["id"])
    assert (created["feed"]["scope"], created["feed"]["scope_detail"]) == (
        "view",
        "Zaległe reklamacje",
    )
    # anowak may not use admin's private view
    stderr = demo("feed", "update", feed_id, "--view", "Handlowe", expect=2).stderr
    assert "no view 'Handlowe' that anowak may use" in stderr
    demo("view", "update", "Handlowe", "--audience", "everyone")
    updated = as_json(demo("feed", "update", feed_id, "--view", "Handlowe", "--json"))
    assert updated["feed"]["scope_detail"] == "Handlowe"
    assert "feed(s) 1 (Reklamacje)" in demo("view", "delete", "Handlowe", expect=5).stderr
    demo("view", "delete", "Zaległe reklamacje")
