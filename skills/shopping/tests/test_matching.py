"""The product matcher against the real demo households (data/demo/history_*.csv, read directly)."""

from __future__ import annotations

import csv
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bench import match as bench
from skills.shopping.matching import Candidate, MatchResult, ProductMatcher

#: Measured with bench/match.py: 0.985 (en, 130 cases), 1.000 (fr, 128 cases); a small margin so that a
#: harmless tweak does not fail the suite, while a real regression (3 more misses) does.
BENCH_ACCURACY = {"en": 0.96, "fr": 0.97}


@pytest.fixture(scope="module")
def histories() -> dict[str, list[Candidate]]:
    return {lang: bench.load_history(bench.DEMO / f"history_{lang}.csv") for lang in bench.LANGS}


@pytest.fixture(scope="module")
def matchers(histories: dict[str, list[Candidate]]) -> dict[str, ProductMatcher]:
    return {lang: ProductMatcher(candidates, lang) for lang, candidates in histories.items()}


def skus(result: MatchResult) -> list[str]:
    return [s.candidate.sku for s in result.best]


def matched(matchers: dict[str, ProductMatcher], lang: str, query: str) -> str | None:
    result = matchers[lang].match(query)
    return result.best[0].candidate.sku if result.status == "match" else None


# --- what the golden conversations and the brief require ------------------------------------------
@pytest.mark.parametrize(
    ("lang", "query", "sku"),
    [
        # plurals and lemmas
        ("en", "bags of dog food", "PEDIGREE-DRY-BEEF-2.6KG"),
        ("en", "eggs", "HAPPYEGG-FREERANGE-12"),
        ("fr", "laits d'avoine", "OATLY-AVOINE-BARISTA-1L"),
        ("fr", "croquettes pour le chien", "PEDIGREE-CROQ-BOEUF-2.6KG"),
        ("fr", "céréales", "KELLOGGS-CEREALES-500"),
        # the brand alone
        ("en", "persil", "PERSIL-NONBIO-1.4L"),
        ("fr", "du persil", "PERSIL-LIQUIDE-UNIVERSEL-2L"),
        ("en", "lavazza", "LAV-QR-BEANS-1KG"),
        ("fr", "Le Petit Marseillais", "LPM-FLEURORANGER-250"),
        # part of a name, any word order
        ("en", "dog food", "PEDIGREE-DRY-BEEF-2.6KG"),
        ("en", "food for the dog", "PEDIGREE-DRY-BEEF-2.6KG"),
        ("en", "coffee beans", "LAV-QR-BEANS-1KG"),
        ("en", "beans coffee", "LAV-QR-BEANS-1KG"),
        ("en", "oat milk", "OATLY-BARISTA-1L"),
        ("fr", "café en grains", "LAV-QR-GRAINS-1KG"),
        ("fr", "moulu carte noire", "CARTENOIRE-MOULU-250"),
        # spelling and transcription errors
        ("en", "persill", "PERSIL-NONBIO-1.4L"),
        ("en", "lavaza", "LAV-QR-BEANS-1KG"),
        ("en", "oatley", "OATLY-BARISTA-1L"),
        ("en", "pedigri dog food", "PEDIGREE-DRY-BEEF-2.6KG"),
        ("en", "lur pack", "LURPAK-SPREADABLE-500"),
        ("en", "live as a coffee beans", "LAV-QR-BEANS-1KG"),  # Whisper on "Lavazza coffee beans"
        ("en", "catch-up", "HEINZ-KETCHUP-700"),  # same sound, another first letter
        ("en", "ficili", "DECECCO-FUSILLI-500"),  # tiny.en for "fusilli": same sound, 57 % spelt alike
        ("fr", "lessive persill", "PERSIL-LIQUIDE-UNIVERSEL-2L"),
        ("fr", "croquetes pour chien", "PEDIGREE-CROQ-BOEUF-2.6KG"),
        # accents and ligatures folded, elision
        ("fr", "oeufs", "LOUE-OEUFS-12"),
        ("fr", "œufs", "LOUE-OEUFS-12"),
        ("fr", "cafe en grains", "LAV-QR-GRAINS-1KG"),
        ("en", "Qualita Rossa", "LAV-QR-BEANS-1KG"),
        ("fr", "l'huile d'olive", "PUGET-OLIVE-75CL"),
        ("fr", "maïs", "BONDUELLE-MAIS-3X140"),  # not the stop word "mais"
        # everyday names for the shop's wording, beside another word of the name
        ("en", "toilet paper", "ANDREX-CLASSIC-9"),
        ("en", "fabric softener", "COMFORT-PURE-1.2L"),
        ("en", "Philadelphia cream cheese", "PHILADELPHIA-ORIGINAL-180"),
        ("en", "kitchen towels", "PLENTY-ORIGINAL-3"),
        ("fr", "papier wc", "LOTUS-CONFORT-12"),
        ("fr", "shampoing Head and Shoulders", "HS-CLASSIQUE-270"),
        # a negated word of the name is matched only negated
        ("en", "non bio persil", "PERSIL-NONBIO-1.4L"),
        ("fr", "jus d'orange sans pulpe", "TROPICANA-ORANGE-1L"),
        # stop words and request words ignored
        ("en", "the usual persil please", "PERSIL-NONBIO-1.4L"),
        ("fr", "la même lessive", "PERSIL-LIQUIDE-UNIVERSEL-2L"),
    ],
)
def test_finds_the_product(matchers: dict[str, ProductMatcher], lang: str, query: str, sku: str) -> None:
    assert matched(matchers, lang, query) == sku


@pytest.mark.parametrize(
    ("lang", "query", "options"),
    [
        ("en", "coffee", {"LAV-QR-BEANS-1KG", "ILLY-CLASSICO-GROUND-250"}),
        ("fr", "café", {"LAV-QR-GRAINS-1KG", "CARTENOIRE-MOULU-250"}),
        ("en", "milk", {"OATLY-BARISTA-1L", "CRAVENDALE-SEMI-2L"}),
        ("fr", "lait", {"OATLY-AVOINE-BARISTA-1L", "LACTEL-DEMIECREME-1L"}),
        ("en", "beans", {"LAV-QR-BEANS-1KG", "HEINZ-BEANZ-4X415"}),
        ("en", "pasta", {"BARILLA-SPAGHETTI-500", "BARILLA-PENNE-500", "DECECCO-FUSILLI-500"}),
        ("fr", "président", {"PRESIDENT-BEURRE-250", "PRESIDENT-CAMEMBERT-250"}),
    ],
)
def test_close_products_are_offered_not_guessed(
    matchers: dict[str, ProductMatcher], lang: str, query: str, options: set[str]
) -> None:
    result = matchers[lang].match(query)
    assert result.status == "ambiguous"
    assert set(skus(result)) == options


def test_the_coffee_names_exactly_the_beans_and_the_ground_coffee(matchers: dict[str, ProductMatcher]) -> None:
    names = [s.candidate.name for s in matchers["en"].match("coffee").best]
    assert any("coffee beans 1 kg" in n for n in names) and any("ground coffee 250 g" in n for n in names)
    assert len(names) == 2


@pytest.mark.parametrize(
    ("lang", "query"),
    [
        ("en", "chainsaw"),
        ("en", "lawn mower"),
        ("en", "dog shampoo"),
        ("en", "green tea"),
        ("en", "instant coffee"),
        ("en", "soya milk"),
        ("en", "cat food"),
        ("en", "lager"),
        ("en", "batteries"),
        ("en", ""),
        ("en", "the"),
        ("en", "paper"),
        ("en", "printer paper"),
        ("en", "bio persil"),
        ("fr", "jus d'orange avec pulpe"),
        ("fr", "tondeuse"),
        ("en", "hand cream"),  # "cream" for "soft" counts only where the name has the other word
        ("en", "towels"),
        ("fr", "tronçonneuse"),
        ("fr", "shampooing pour chien"),
        ("fr", "croquettes pour chat"),
        ("fr", "café soluble"),
        ("fr", "couches"),
        ("fr", "graines"),
        ("fr", "carottes"),
        ("fr", "pâte à tartiner"),
    ],
)
def test_never_proposes_what_the_household_never_bought(
    matchers: dict[str, ProductMatcher], lang: str, query: str
) -> None:
    result = matchers[lang].match(query)
    assert result.status == "none"
    assert result.best == ()


def test_a_habit_settles_a_tie_only_when_one_product_is_clearly_the_usual(
    matchers: dict[str, ProductMatcher], histories: dict[str, list[Candidate]]
) -> None:
    # Tetley: 8 orders, last in November; Twinings Earl Grey: once, in August.
    assert matched(matchers, "en", "tea") == "TETLEY-ORIGINAL-80"
    assert matched(matchers, "fr", "thé") == "LIPTON-YELLOWLABEL-50"
    # The same two teas, both bought recently: no longer safe to guess.
    recent = [
        replace(c, last_ordered=datetime(2026, 11, 14, tzinfo=UTC)) if c.sku == "TWININGS-EARLGREY-50" else c
        for c in histories["en"]
    ]
    result = ProductMatcher(recent, "en").match("tea")
    assert result.status == "ambiguous"
    assert set(skus(result)) == {"TETLEY-ORIGINAL-80", "TWININGS-EARLGREY-50"}


def test_a_size_tells_close_products_apart(matchers: dict[str, ProductMatcher]) -> None:
    assert matched(matchers, "en", "the 1 kg coffee") == "LAV-QR-BEANS-1KG"
    assert matched(matchers, "en", "250 g coffee") == "ILLY-CLASSICO-GROUND-250"
    assert matched(matchers, "fr", "café d'un kilo") == "LAV-QR-GRAINS-1KG"


def test_ambiguity_offers_at_most_three(histories: dict[str, list[Candidate]]) -> None:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    pastas = [
        Candidate(f"P{i}", f"Barilla {shape} pasta 500 g", "Barilla", 3, now - timedelta(days=i))
        for i, shape in enumerate(["spaghetti", "penne", "fusilli", "farfalle", "linguine"])
    ]
    result = ProductMatcher(pastas, "en").match("pasta")
    assert result.status == "ambiguous"
    assert len(result.best) == 3


@pytest.mark.parametrize(
    ("query", "sku"),
    [
        ("pen pasta", "BARILLA-PENNE-500"),  # tiny.en, Piper voice: "buy the pen pasta again"
        ("deaf soap", "DOVE-ORIGINAL-SOAP-2X90"),  # "order more deaf soap"
        ("Delph soap", "DOVE-ORIGINAL-SOAP-2X90"),  # no word: one sound off (TLF / TF), same first letter
        ("nutamado soup", "HEINZ-TOMATO-SOUP-400"),  # no word: "not tomato" run together (NTMT ends in TMT)
    ],
)
def test_a_word_misheard_as_a_sound_alike_is_read_among_the_products_the_rest_names(
    matchers: dict[str, ProductMatcher], query: str, sku: str
) -> None:
    assert matched(matchers, "en", query) == sku


@pytest.mark.parametrize(
    "query",
    [
        "pen",  # nothing else in the sentence to narrow the products down
        "dog soap",  # dog (TK) does not sound like dove (TF)
        "rose soap",
        "red pasta",
        "green tea",  # green (KRN) is not grey (KR)
        "no dishwasher tablets",
        "pen dog food",  # the other words must name the product, and "pen" is no word of it
        "Buitoni pasta",  # no word, one sound off penne (PTN / PN) but another first letter
        "potato soup",  # a word (PTT) must sound exactly like tomato (TMT)
        "Dettol soap",  # no word, two sounds off dove (TTL / TF)
    ],
)
def test_only_an_exact_sound_alike_among_those_products_is_read_as_misheard(
    matchers: dict[str, ProductMatcher], query: str
) -> None:
    assert matchers["en"].match(query).status == "none"


# --- "which one?" -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("lang", "query", "answer", "sku"),
    [
        ("en", "coffee", "the beans", "LAV-QR-BEANS-1KG"),
        ("en", "coffee", "ground", "ILLY-CLASSICO-GROUND-250"),
        ("en", "coffee", "the Lavazza one", "LAV-QR-BEANS-1KG"),
        ("en", "coffee", "no, the ground one", "ILLY-CLASSICO-GROUND-250"),
        ("en", "coffee", "the 250 g one", "ILLY-CLASSICO-GROUND-250"),
        ("en", "coffee", "the beens", "LAV-QR-BEANS-1KG"),
        ("fr", "café", "en grains", "LAV-QR-GRAINS-1KG"),
        ("fr", "café", "moulu", "CARTENOIRE-MOULU-250"),
        ("fr", "café", "celui de Carte Noire", "CARTENOIRE-MOULU-250"),
        ("en", "milk", "the oat one", "OATLY-BARISTA-1L"),
        ("fr", "lait", "le demi-écrémé", "LACTEL-DEMIECREME-1L"),
    ],
)
def test_choose_by_words(matchers: dict[str, ProductMatcher], lang: str, query: str, answer: str, sku: str) -> None:
    options = [s.candidate for s in matchers[lang].match(query).best]
    chosen = matchers[lang].choose(answer, options)
    assert chosen is not None and chosen.sku == sku


@pytest.mark.parametrize(
    ("lang", "answer", "index"),
    [
        ("en", "the first one", 0),
        ("en", "the second one", 1),
        ("en", "the last one", 1),
        ("fr", "le deuxième", 1),
        ("fr", "la première", 0),
        ("en", "number 2", 1),
    ],
)
def test_choose_by_position(matchers: dict[str, ProductMatcher], lang: str, answer: str, index: int) -> None:
    options = [s.candidate for s in matchers[lang].match("coffee" if lang == "en" else "café").best]
    assert matchers[lang].choose(answer, options) == options[index]


def test_choose_by_habit(matchers: dict[str, ProductMatcher]) -> None:
    options = [s.candidate for s in matchers["en"].match("coffee").best]
    latest = max(options, key=lambda c: c.last_ordered)
    usual = max(options, key=lambda c: c.times_ordered)
    assert matchers["en"].choose("same as last time", options) == latest
    assert matchers["en"].choose("my usual", options) == usual


@pytest.mark.parametrize(
    ("lang", "answer"),
    [
        ("en", "purple monkey dishwasher"),
        ("en", "both"),
        ("en", "the coffee"),
        ("en", "the third"),
        ("en", "not the beans"),
        ("en", "I don't want the beans"),
        ("fr", "pas celui en grains"),
        ("fr", "les deux"),
        ("en", ""),
    ],
)
def test_choose_returns_none_when_unclear(matchers: dict[str, ProductMatcher], lang: str, answer: str) -> None:
    options = [s.candidate for s in matchers[lang].match("coffee" if lang == "en" else "café").best]
    assert matchers[lang].choose(answer, options) is None


# --- the benchmark and speed ------------------------------------------------------------------
@pytest.fixture(scope="module")
def bench_results() -> dict[str, dict]:  # type: ignore[type-arg]
    return bench.run()


@pytest.mark.parametrize("lang", bench.LANGS)
def test_benchmark_accuracy_and_no_false_match(bench_results: dict[str, dict], lang: str) -> None:  # type: ignore[type-arg]
    result = bench_results[lang]
    assert result["n"] >= 60
    assert result["categories"]["none"]["n"] >= 10
    misses = [(m["say"], m["expected"], m["got"]) for m in result["misses"]]
    assert result["false_matches"] == 0, misses
    assert result["accuracy"] >= BENCH_ACCURACY[lang], misses
    assert result["never_bought"]["n"] >= 150
    assert result["never_bought"]["false_matches"] == []


# --- the demo households the goldens rely on ---------------------------------------------------
def rows(lang: str) -> list[dict[str, str]]:
    with (bench.DEMO / f"history_{lang}.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("lang", bench.LANGS)
def test_demo_history_shape(lang: str) -> None:
    data = rows(lang)
    dates = sorted(r["order_date"] for r in data)
    assert len({r["sku"] for r in data}) >= 25
    assert (datetime.fromisoformat(dates[-1]) - datetime.fromisoformat(dates[0])).days >= 90
    assert dates[-1] < "2026-11-20"
    assert len([r for r in data if "Persil" in r["product_name"]]) >= 2  # bought repeatedly...
    assert len({r["sku"] for r in data if r["brand"] == "Persil"}) == 1  # ...and only one Persil product


def test_catalogue_covers_the_histories_and_more() -> None:
    with (bench.DEMO / "catalogue.csv").open(encoding="utf-8", newline="") as f:
        catalogue = {r["sku"]: r for r in csv.DictReader(f)}
    bought = {r["sku"]: r for lang in bench.LANGS for r in sorted(rows(lang), key=lambda r: r["order_date"])}
    assert set(bought) <= set(catalogue)
    assert len(set(catalogue) - set(bought)) >= 15
    for sku in (
        "LAV-QR-BEANS-1KG",
        "LAV-QR-GRAINS-1KG",
        "PERSIL-NONBIO-1.4L",
        "OATLY-BARISTA-1L",
        "PEDIGREE-DRY-BEEF-2.6KG",
        "OATLY-AVOINE-BARISTA-1L",
        "PEDIGREE-CROQ-BOEUF-2.6KG",
    ):
        assert catalogue[sku]["unit_price"] == bought[sku]["unit_price"], sku
        assert catalogue[sku]["in_stock"] == "true"
    assert catalogue["LAV-QR-BEANS-1KG"]["unit_price"] == "14.90"
    assert [s for s, r in catalogue.items() if r["in_stock"] == "false" and s in bought]
    names = " ".join(r["name"].lower() for s, r in catalogue.items() if s not in bought)
    assert "chainsaw" in names and "tondeuse" in names
