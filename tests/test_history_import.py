"""History import: all or nothing, every bad row named by line, re-imports and overlapping exports add only
what is new. Through `import_history` on a real SQLite file, and through the real CLI in a subprocess."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from assistant.config import PROJECT_ROOT
from assistant.errors import HistoryImportError
from assistant.history import HistoryProduct, household_products, import_history
from assistant.storage.db import open_db
from tests.household import FixedClock

DATA = Path(__file__).parent / "data" / "import"
HEADER = "order_date,order_id,sku,product_name,brand,quantity,unit_price,currency,retailer\n"
GOOD = "2026-09-04,R-1,COF-1,Coffee beans 1 kg,Lavazza,1,14.90,EUR,corner\n"


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return open_db(tmp_path / "home" / "assistant.sqlite")


def write(tmp_path: Path, body: str, name: str = "history.csv") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def rejected(engine: Engine, path: Path) -> HistoryImportError:
    """Import `path`, expect a refusal, and check that nothing at all was written."""
    with pytest.raises(HistoryImportError) as info:
        import_history(engine, path, clock=FixedClock())
    with sqlite3.connect(engine.url.database) as conn:  # type: ignore[arg-type]
        counts = [conn.execute(f'select count(*) from "{t}"').fetchone()[0] for t in ("order", "orderline", "product")]
    assert counts == [0, 0, 0]
    return info.value


def by_sku(engine: Engine) -> dict[str, HistoryProduct]:
    return {p.sku: p for p in household_products(engine)}


def test_a_good_file_is_imported_with_quoted_commas_and_offsets(engine: Engine) -> None:
    summary = import_history(engine, DATA / "household.csv", clock=FixedClock())
    assert summary.message() == "Imported 3 orders (5 lines, 3 products) from household.csv"
    products = by_sku(engine)
    oat = products["OAT-BARISTA-1L"]
    assert oat.name == "Oatly Oat Drink Barista, 1 L"
    assert (oat.times_ordered, oat.last_quantity, oat.last_unit_price_minor, oat.currency) == (2, 4, 245, "EUR")
    assert oat.last_ordered == datetime(2026, 10, 2, 16, 30, tzinfo=UTC)  # 18:30+02:00, stored as aware UTC
    coffee = products["LAV-BEANS-1KG"]
    assert (coffee.times_ordered, coffee.last_unit_price_minor, coffee.brand) == (2, 1450, "Lavazza")
    assert list(products) == ["OAT-BARISTA-1L", "LAV-BEANS-1KG", "PERSIL-BIO-40"]  # most often, then most recent


def test_the_same_file_twice_adds_nothing(engine: Engine) -> None:
    import_history(engine, DATA / "household.csv", clock=FixedClock())
    again = import_history(engine, DATA / "household.csv", clock=FixedClock())
    assert again.lines == 0
    assert again.message() == "household.csv was already imported on 2026-11-20: nothing added"
    assert by_sku(engine)["LAV-BEANS-1KG"].times_ordered == 2


def test_an_overlapping_newer_export_adds_only_new_rows_and_the_latest_name_wins(engine: Engine) -> None:
    import_history(engine, DATA / "household.csv", clock=FixedClock())
    summary = import_history(engine, DATA / "newer_export.csv", clock=FixedClock())
    assert (summary.orders, summary.lines, summary.skipped) == (1, 2, 3)
    assert "2 lines" in summary.message() and "3 rows were already there" in summary.message()
    coffee = by_sku(engine)["LAV-BEANS-1KG"]
    assert coffee.times_ordered == 3
    assert coffee.name == "Lavazza Qualità Rossa coffee beans 1kg (new pack)"
    assert (coffee.last_quantity, coffee.last_unit_price_minor) == (2, 1420)
    # An older export imported afterwards changes neither counts nor names.
    home = Path(str(engine.url.database)).parent
    older = write(home, HEADER + "2026-08-01,R-100,LAV-BEANS-1KG,Old name,Lavazza,1,13.00,EUR,corner\n")
    import_history(engine, older, clock=FixedClock())
    coffee = by_sku(engine)["LAV-BEANS-1KG"]
    assert (coffee.times_ordered, coffee.name) == (4, "Lavazza Qualità Rossa coffee beans 1kg (new pack)")


def test_one_bad_row_among_good_rows_imports_nothing(engine: Engine) -> None:
    err = rejected(engine, DATA / "one_bad_row.csv")
    assert err.problems == ["line 4: quantity must be a whole number of at least 1, got '1.5'"]
    assert "nothing was imported" in err.message


DATE = "order_date must be a date like 2026-08-02 (or an ISO date-time), got "
QUANTITY = "quantity must be a whole number of at least 1, got "
CURRENCY = "currency must be an ISO 4217 code such as EUR, GBP or USD, got "


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("2026-13-01,R-1,S,Name,B,1,1.00,EUR,shop", DATE + "'2026-13-01'"),
        ("04/09/2026,R-1,S,Name,B,1,1.00,EUR,shop", DATE + "'04/09/2026'"),
        ("2026-11-21,R-1,S,Name,B,1,1.00,EUR,shop", "order_date 2026-11-21 is in the future"),
        ("2026-11-20T10:00:00Z,R-1,S,Name,B,1,1.00,EUR,shop", "order_date 2026-11-20T10:00:00Z is in the future"),
        ("2026-01-01,R-1,S,Name,B,-2,1.00,EUR,shop", QUANTITY + "'-2'"),
        ("2026-01-01,R-1,S,Name,B,0,1.00,EUR,shop", QUANTITY + "'0'"),
        ("2026-01-01,R-1,S,Name,B,two,1.00,EUR,shop", QUANTITY + "'two'"),
        ("2026-01-01,R-1,S,Name,B,1,abc,EUR,shop", "unit_price: expected a decimal amount like 14.90, got 'abc'"),
        ("2026-01-01,R-1,S,Name,B,1,-1.00,EUR,shop", "unit_price: amount must not be negative, got '-1.00'"),
        ("2026-01-01,R-1,S,Name,B,1,1.999,EUR,shop", "unit_price: EUR amounts have at most 2 decimals, got '1.999'"),
        ("2026-01-01,R-1,S,Name,B,1,100.5,JPY,shop", "unit_price: JPY amounts have no decimals, got '100.5'"),
        ("2026-01-01,R-1,S,Name,B,1,1.00,EURO,shop", CURRENCY + "'EURO'"),
        ("2026-01-01,R-1,S,Name,B,1,1.00,XYZ,shop", CURRENCY + "'XYZ'"),
        ("2026-01-01,R-1,,Name,B,1,1.00,EUR,shop", "sku must not be empty"),
        ("2026-01-01,R-1,S,  ,B,1,1.00,EUR,shop", "product_name must not be empty"),
        (
            "2026-01-01,R-1,S,Name,B,1,1.00,EUR",
            "expected 9 fields, got 8 (a value containing a comma must be in double quotes)",
        ),
    ],
)
def test_each_kind_of_bad_row_is_named(engine: Engine, tmp_path: Path, row: str, problem: str) -> None:
    err = rejected(engine, write(tmp_path, HEADER + row + "\n"))
    assert err.problems == ["line 2: " + problem]


def test_every_bad_row_is_reported_in_line_order(engine: Engine, tmp_path: Path) -> None:
    bad = ["2026-01-01,R-2,S2,N,B,-1,1.00,EUR,shop\n", "bad-date,R-4,S4,N,B,1,x,EUR,shop\n"]
    body = HEADER + GOOD + bad[0] + GOOD.replace("R-1", "R-3") + bad[1]
    err = rejected(engine, write(tmp_path, body))
    assert err.problems == [
        "line 3: " + QUANTITY + "'-1'",
        "line 5: " + DATE + "'bad-date'",
        "line 5: unit_price: expected a decimal amount like 14.90, got 'x'",
    ]
    assert err.message.startswith("history.csv: 2 bad rows")


def test_one_order_must_keep_one_date_and_retailer_and_list_a_sku_once(engine: Engine, tmp_path: Path) -> None:
    body = (
        HEADER
        + GOOD
        + GOOD.replace("2026-09-04", "2026-09-05").replace("COF-1", "C2")
        + GOOD.replace("corner", "bigshop").replace("COF-1", "C3")
        + GOOD
    )
    err = rejected(engine, write(tmp_path, body))
    assert err.problems == [
        "line 3: order R-1 has order_date 2026-09-05 here but 2026-09-04 on line 2",
        "line 4: order R-1 has retailer bigshop here but corner on line 2",
        "line 5: sku COF-1 appears twice in order R-1 (also on line 2); put the total quantity on one line",
    ]


def test_a_file_contradicting_an_earlier_import_is_refused_whole(engine: Engine, tmp_path: Path) -> None:
    import_history(engine, write(tmp_path, HEADER + GOOD, "first.csv"), clock=FixedClock())
    body = HEADER + GOOD.replace("2026-09-04", "2026-09-06") + "2026-10-01,R-9,NEW,New thing,B,1,1.00,EUR,corner\n"
    with pytest.raises(HistoryImportError) as info:
        import_history(engine, write(tmp_path, body, "second.csv"), clock=FixedClock())
    assert info.value.problems[0].startswith("line 2: order R-1 from corner was imported before with 2026-09-04")
    assert set(by_sku(engine)) == {"COF-1"}  # the good new row of the refused file was not kept either


def test_missing_columns_are_named(engine: Engine, tmp_path: Path) -> None:
    header = "order_date,order_id,sku,product_name,quantity,unit_price,currency\n"
    err = rejected(engine, write(tmp_path, header + GOOD))
    assert "missing columns brand, retailer" in err.message


def test_a_file_that_is_not_utf8_says_so_with_the_lines(engine: Engine) -> None:
    err = rejected(engine, DATA / "latin1.csv")
    assert "latin1.csv is not UTF-8 text" in err.message
    assert "save it as UTF-8" in str(err)
    assert err.problems == [
        "line 2: not UTF-8 (byte 0xe9 at column 28)",
        "line 3: not UTF-8 (byte 0xe9 at column 26)",
    ]


def test_a_utf8_bom_and_crlf_line_ends_are_accepted(engine: Engine) -> None:
    summary = import_history(engine, DATA / "bom_crlf.csv", clock=FixedClock())
    assert summary.lines == 1
    assert by_sku(engine)["CAFE-1"].name == "Café moulu 250 g"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("", "is empty"),
        ("\n  \n", "is empty"),
        (HEADER, "has a header but no order rows"),
    ],
)
def test_empty_files_are_refused(engine: Engine, tmp_path: Path, body: str, expected: str) -> None:
    assert expected in rejected(engine, write(tmp_path, body)).message


def test_a_missing_file_is_named(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(HistoryImportError, match="no such file"):
        import_history(engine, tmp_path / "nope.csv")


# --- through the real command line --------------------------------------------------
def cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=PROJECT_ROOT,
        env={**os.environ, "ASSISTANT_HOME": str(home)},
    )


def test_cli_import_list_and_reimport(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = cli(home, "history", "import", str(DATA / "household.csv"))
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "Imported 3 orders (5 lines, 3 products) from household.csv"
    again = cli(home, "history", "import", str(DATA / "household.csv"))
    assert again.returncode == 0, again.stderr
    assert "already imported on" in again.stdout and "nothing added" in again.stdout
    listed = json.loads(cli(home, "history", "list", "--json").stdout)
    counts = {p["sku"]: p["times_ordered"] for p in listed}
    assert counts == {"LAV-BEANS-1KG": 2, "OAT-BARISTA-1L": 2, "PERSIL-BIO-40": 1}
    skipped = cli(home, "history", "import", "--if-empty", str(DATA / "newer_export.csv"))
    assert skipped.returncode == 0 and "already has an order history; nothing imported" in skipped.stdout
    assert len(json.loads(cli(home, "history", "list", "--json").stdout)) == 3


def test_cli_bad_file_fails_with_every_line_and_imports_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = cli(home, "history", "import", str(DATA / "one_bad_row.csv"))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: one_bad_row.csv: 1 bad row; nothing was imported (fix the lines listed and import the file again)",
        "  line 4: quantity must be a whole number of at least 1, got '1.5'",
    ]
    assert "No order history" in cli(home, "history", "list").stdout
    empty = cli(home, "history", "import", "--if-empty", str(DATA / "household.csv"))
    assert empty.returncode == 0 and empty.stdout.startswith("Imported 3 orders")
