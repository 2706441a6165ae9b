"""An order is confirmed only by an explicit yes: a confident `core.affirm` worded as affirmations are."""

from __future__ import annotations

import pytest

from assistant.confirmation import ExplicitYes
from assistant.loader import CORE_LOCALES


@pytest.fixture(scope="module")
def explicit_yes() -> ExplicitYes:
    return ExplicitYes(CORE_LOCALES, ["en", "fr"])


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("en", "yes"),
        ("en", "Yes, please."),
        ("en", "uh yes"),
        ("en", "sure, go ahead!"),
        ("en", "yes thank you"),
        ("en", "do it"),
        ("fr", "oui"),
        ("fr", "Oui, s'il te plaît."),
        ("fr", "oui vas-y"),
        ("fr", "d'accord"),
        ("fr", "ça marche"),
    ],
)
def test_affirmations_are_explicit(explicit_yes: ExplicitYes, lang: str, text: str) -> None:
    assert explicit_yes(text, lang)


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        # Each of these was read as core.affirm by the light pipeline (0.45 to 0.88) in a probe.
        ("en", "yellow submarine"),
        ("en", "get greek yogurt"),
        ("en", "eggs"),
        ("en", "yesterday's order"),
        ("en", "wait"),
        ("fr", "attends"),
        ("fr", "prends le yaourt"),
        ("en", ""),
        ("en", "yes but not the coffee"),
    ],
)
def test_other_words_are_not_a_yes(explicit_yes: ExplicitYes, lang: str, text: str) -> None:
    assert not explicit_yes(text, lang)


def test_languages_do_not_mix(explicit_yes: ExplicitYes) -> None:
    assert not explicit_yes("oui", "en")
    assert not explicit_yes("yes please", "fr")
