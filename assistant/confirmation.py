"""What counts as an explicit "yes" to a confirmation question.

The intent classifier alone is not enough to spend money on: a linear model over word and character
features gives unfamiliar words to whichever class their letters resemble ("yellow submarine" scored
0.87 as `core.affirm`, "get greek yogurt" 0.49). So a yes must also be made only of words that the
framework's own `affirm` examples use (assistant/locales/<lang>/nlu.yml), plus a few fillers. "Yes
please", "oui vas-y" and "sure, go ahead" pass; anything with a word no affirmation uses is asked again.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from .lang.text import fold
from .nlu.data import plain_text, read_items

log = logging.getLogger(__name__)

#: Hesitations and politeness a recogniser or a typist adds around a yes.
FILLERS = {
    "en": frozenset({"uh", "um", "erm", "er", "hmm", "well", "oh", "so", "then", "thanks", "thank", "you", "please"}),
    "fr": frozenset({"euh", "heu", "bah", "ben", "bon", "alors", "merci", "stp", "svp", "donc"}),
}
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def words(text: str) -> list[str]:
    """Folded words; apostrophes and hyphens split ("that's" → that, s; "vas-y" → vas, y)."""
    return _WORD.findall(fold(text))


@cache
def _vocabulary(path: Path) -> frozenset[str]:
    found: set[str] = set()
    for item, _line in read_items(path):
        if item.kind == "intent" and item.name == "affirm":
            for example in item.examples:
                found.update(words(plain_text(example)))
    if not found:
        log.warning("%s has no `affirm` examples: no answer will count as an explicit yes", path)
    return frozenset(found)


class ExplicitYes:
    """Decides whether an answer the NLU read as "yes" is worded as an explicit yes."""

    def __init__(self, locales: Path, langs: Iterable[str]) -> None:
        self._allowed = {
            lang: _vocabulary(locales / lang / "nlu.yml") | FILLERS.get(lang, frozenset()) for lang in langs
        }

    def __call__(self, text: str, lang: str) -> bool:
        said = words(text)
        allowed = self._allowed.get(lang, frozenset())
        unknown = [w for w in said if w not in allowed]
        if unknown:
            log.info("not taken as an explicit yes: %r (words no affirmation uses: %s)", text, unknown)
        return bool(said) and not unknown
