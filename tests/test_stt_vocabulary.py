"""The words speech-to-text is biased toward, built from a real household database (tests/household.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.history import import_history
from assistant.storage.db import open_db
from assistant.stt import household_vocabulary
from assistant.stt.vocabulary import LEAD_CHARS, command_phrases, product_core, short_forms
from tests.household import household


def test_english_vocabulary_holds_products_brands_commands_and_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = household(tmp_path, monkeypatch)
    vocabulary = household_vocabulary(open_db(config.db_path), config, "en")
    phrases = {p.lower() for p in vocabulary.phrases}
    assert vocabulary.lang == "en"
    assert {"oat milk", "dog food", "coffee beans", "tea bags"} <= phrases  # short forms
    assert {"oatly oat milk", "pedigree dry dog food", "lavazza coffee beans"} <= phrases  # brand + name
    assert {"oatly", "pedigree", "lavazza", "tetley", "cravendale"} <= vocabulary.words  # brands
    assert {"reorder", "never mind", "cancel the order"} <= phrases  # the skills' commands
    assert {"two", "three", "twelve", "twenty"} <= phrases  # number words
    assert not any(ch.isdigit() for p in vocabulary.phrases[:60] for ch in p)  # sizes are not spoken
    assert vocabulary.phrases[:3] == ("yes", "no", "never mind")  # typical commands lead
    assert {"oat", "milk", "oatly", "pedigree", "crisps", "soap"} <= vocabulary.product_words
    assert vocabulary.product_words < vocabulary.words
    assert not {"reorder", "than", "the", "two", "yes"} & vocabulary.product_words  # commands, numbers
    assert {"Oatly oat milk", "oat milk", "Oatly", "Lavazza"} <= set(vocabulary.product_phrases)  # brands alone too
    assert not {"reorder", "yes", "two"} & set(vocabulary.product_phrases)


def test_lead_commands_follow_skills_enabled_and_leave_room_for_the_products(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = household(tmp_path, monkeypatch)
    assert config.skills.enabled.index("shopping") < config.skills.enabled.index("shopping_list")
    leads, _ = command_phrases(config, "en")
    assert leads[:4] == ["yes", "no", "never mind", "reorder"]
    assert sum(len(lead) + 2 for lead in leads) <= LEAD_CHARS
    assert not any("my list" in lead for lead in leads)  # a later skill does not crowd the products out
    prompt = household_vocabulary(open_db(config.db_path), config, "en").phrases
    assert prompt.index("Oatly oat milk") < prompt.index("add milk to my list")


def test_french_vocabulary_comes_from_the_french_history_and_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = household(tmp_path, monkeypatch, lang="fr")
    vocabulary = household_vocabulary(open_db(config.db_path), config, "fr")
    assert vocabulary.lang == "fr"
    assert {"deux", "trois", "oui"} <= vocabulary.words
    assert "reorder" not in vocabulary.words


def test_fingerprint_changes_with_the_history_and_only_then(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = household(tmp_path, monkeypatch)
    engine = open_db(config.db_path)
    before = household_vocabulary(engine, config, "en")
    again = household_vocabulary(open_db(config.db_path), config, "en")
    assert again.fingerprint == before.fingerprint and again.phrases == before.phrases

    new_order = tmp_path / "new_order.csv"
    new_order.write_text(
        "order_date,order_id,sku,product_name,brand,quantity,unit_price,currency,retailer\n"
        "2026-11-18,DH-9001,YEO-GREEK-500,Yeo Valley greek style yoghurt 500 g,Yeo Valley,2,2.10,EUR,demo\n",
        encoding="utf-8",
    )
    import_history(engine, new_order)
    after = household_vocabulary(engine, config, "en")
    assert after.fingerprint != before.fingerprint
    assert "Yeo Valley greek style yoghurt" in after.phrases and "yoghurt" in after.words


def test_short_forms_and_cores() -> None:
    assert product_core("Heinz baked beans 4 x 415 g") == "Heinz baked beans"
    assert product_core("Pedigree dry dog food with beef 2.6kg") == "Pedigree dry dog food with beef"
    assert short_forms("Pedigree dry dog food with beef 2.6kg", "Pedigree", "en") == ["dry dog food", "dog food"]
    assert short_forms("Oatly Barista oat milk 1 L", "Oatly", "en") == ["oat milk"]
    assert short_forms("Pedigree croquettes pour chien adulte au bœuf 2,6 kg", "Pedigree", "fr") == [
        "croquettes pour chien adulte",
        "croquettes",
    ]
    assert short_forms("Bananes équitables 1 kg", "", "fr") == ["Bananes équitables", "Bananes"]
