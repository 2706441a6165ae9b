"""The list in a real SQLite household database: its own table, merges, removal, persistence."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect

from assistant.storage.db import open_db
from skills.shopping_list.parsing import Said, display
from skills.shopping_list.store import ListStore
from tests.household import FixedClock


def store_at(path: Path, lang: str = "en") -> ListStore:
    engine = open_db(path)
    ListStore.create_table(engine)
    return ListStore(engine, lang, FixedClock())


def said(store: ListStore) -> list[str]:
    return [display(line.item, store.lang) for line in store.lines()]


def test_table_is_created_once_in_the_household_database(tmp_path: Path) -> None:
    engine = open_db(tmp_path / "household.db")
    ListStore.create_table(engine)
    ListStore.create_table(engine)  # idempotent: every start-up calls it
    assert "shopping_list_item" in inspect(engine).get_table_names()
    engine.dispose()
    open_db(tmp_path / "household.db").dispose()  # the framework still opens a database with it


def test_adding_the_same_item_merges_quantities(tmp_path: Path) -> None:
    store = store_at(tmp_path / "household.db")
    store.add([Said("milk", None), Said("eggs", 2, "dozen")])
    done = store.add([Said("Egg", 1, "dozen"), Said("milk", None), Said("lemons", 3)])
    assert [a.status for a in done] == ["more", "same", "new"]
    store.add([Said("lemon", 1)])
    assert said(store) == ["milk", "3 dozen eggs", "4 lemons"]


def test_a_quantity_added_to_a_line_without_one_counts_that_line_as_one(tmp_path: Path) -> None:
    store = store_at(tmp_path / "household.db")
    store.add([Said("bread", None)])
    store.add([Said("breads", 2, "loaves")])
    assert said(store) == ["3 loaves of bread"]


def test_french_accents_and_plurals_merge(tmp_path: Path) -> None:
    store = store_at(tmp_path / "household.db", "fr")
    store.add([Said("pâtes", 2, "paquets"), Said("œufs", None)])
    store.add([Said("pates", 1, "paquet"), Said("oeuf", 6)])
    assert said(store) == ["3 paquets de pâtes", "7 œufs"]


def test_remove_and_clear(tmp_path: Path) -> None:
    store = store_at(tmp_path / "household.db")
    store.add([Said("bread", None), Said("butter", None), Said("bananas", 5)])
    removed, missing = store.remove(["the bread", "cheese"])
    assert [line.item.name for line in removed] == ["bread"]
    assert missing == ["cheese"]
    assert said(store) == ["butter", "5 bananas"]
    assert store.clear() == 2
    assert store.lines() == []


def test_the_list_outlives_the_process(tmp_path: Path) -> None:
    store = store_at(tmp_path / "household.db")
    store.add([Said("coffee", 2, "bags")])
    store.engine.dispose()
    assert said(store_at(tmp_path / "household.db")) == ["2 bags of coffee"]
