"""Phonetic keys: words that sound alike share a key ("jonsen" / "johnson" → JNSN, "smyth" / "smith" → SM0).

Metaphone (jellyfish's implementation) is built for English spelling; on French names and
transcription errors it still groups the same consonant skeletons, which is all a matcher asks of it:
a sound-alike must also be spelt nearly alike (see `assistant.lang.fuzzy`).
"""

from __future__ import annotations

import jellyfish


def sound_keys(word: str) -> tuple[str, ...]:
    """The phonetic keys of a folded word (none for an empty or all-vowel key)."""
    key = jellyfish.metaphone(word) if word else ""
    return (key,) if key else ()
