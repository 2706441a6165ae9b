"""The user's path through the real CLI: import a household's history, chat with `--script - --json`,
list orders after a restart. Runs `python -m assistant` as a subprocess, like a user would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.config import PROJECT_ROOT
from assistant.nlu.client import NLUClient

DATA = Path(__file__).parent / "data" / "e2e"
TURN_KEYS = {"turn", "lang", "text", "intent", "entities", "skill", "reply", "expecting", "events", "timings_ms"}


def assistant(home: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=PROJECT_ROOT,
        env={**__import__("os").environ, "ASSISTANT_HOME": str(home)},
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("lang", "lines", "sku", "quantity"),
    [
        ("en", ["reorder the tea bags", "yes"], "TET-GOLD-80", 1),
        ("en", ["order four cat food", "yes"], "WHISKAS-POUCH-12", 4),
        ("fr", ["recommande la confiture", "oui"], "BONNE-MAMAN-FRAISE", 1),
        ("fr", ["commande trois sachets pour chat felix", "oui"], "FELIX-SACHETS-12", 3),
    ],
)
def test_import_then_chat_then_list(
    lang: str, lines: list[str], sku: str, quantity: int, nlu_client: NLUClient, tmp_path: Path
) -> None:
    imported = assistant(tmp_path, "history", "import", str(DATA / f"household_{lang}.csv"))
    assert imported.returncode == 0, imported.stderr
    assert "Imported" in imported.stdout

    chat = assistant(tmp_path, "chat", "--lang", lang, "--script", "-", "--json", stdin="\n".join(lines) + "\n")
    assert chat.returncode == 0, chat.stderr
    turns = [json.loads(line) for line in chat.stdout.splitlines()]
    assert len(turns) == len(lines)  # exactly one JSON object per user line; logs went to stderr
    assert all(set(t) == TURN_KEYS for t in turns)
    proposal, placed = turns
    assert proposal["intent"]["name"] == "shopping.reorder"
    assert proposal["expecting"] == "confirmation"
    (event,) = [e for e in proposal["events"] if e["type"] == "order_proposed"]
    assert [(i["sku"], i["quantity"]) for i in event["items"]] == [(sku, quantity)]
    assert [e["type"] for e in placed["events"]] == ["order_placed"]

    listed = assistant(tmp_path, "orders", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    (order,) = json.loads(listed.stdout)
    assert order["state"] == "placed"
    assert [(line["sku"], line["quantity"]) for line in order["lines"]] == [(sku, quantity)]


def test_chat_with_a_bad_config_prints_one_line_and_fails(tmp_path: Path) -> None:
    bad = tmp_path / "config.yml"
    bad.write_text("nlu:\n  port: abc\n", encoding="utf-8")
    result = assistant(tmp_path, "--config", str(bad), "chat", "--script", "-")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "nlu.port: expected an integer, got 'abc'" in lines[0]
    assert "Traceback" not in result.stderr


def test_importing_a_bad_file_reports_lines_and_imports_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "order_date,order_id,sku,product_name,brand,quantity,unit_price,currency,retailer\n"
        "2026-13-01,X1,S1,Thing,Brand,1,1.00,EUR,shop\n"
        "2026-01-01,X1,S2,Other,Brand,-2,1.00,EUR,shop\n",
        encoding="utf-8",
    )
    result = assistant(tmp_path, "history", "import", str(bad))
    assert result.returncode != 0
    assert "line 2" in result.stderr and "line 3" in result.stderr
    listed = assistant(tmp_path, "history", "list")
    assert "Thing" not in listed.stdout
