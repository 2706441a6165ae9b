"""What the NLU hands to the dialogue manager."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Entity:
    """A slot value found in the text."""

    entity: str
    """Entity type, e.g. `product`, `quantity`."""
    value: str
    """The value as written (or normalised by the extractor)."""
    start: int
    """Character offset where it starts in the text."""
    end: int
    """Character offset just past its end."""
    confidence: float | None = None
    """Extractor confidence, when it gives one."""

    def as_json(self) -> dict[str, Any]:
        return {"entity": self.entity, "value": self.value, "start": self.start, "end": self.end}


@dataclass(frozen=True)
class IntentScore:
    """One candidate intent."""

    name: str
    """Intent name, e.g. `shopping.reorder`."""
    confidence: float
    """Classifier confidence, 0..1."""


@dataclass(frozen=True)
class ParseResult:
    """The NLU's reading of one utterance."""

    text: str
    """The utterance as given."""
    lang: str
    """Language code of the model that parsed it."""
    intent: IntentScore | None
    """Best intent, or None when the model found nothing."""
    entities: tuple[Entity, ...] = ()
    """Entities found, in text order."""
    ranking: tuple[IntentScore, ...] = field(default_factory=tuple)
    """Other intents, best first."""

    def entity(self, name: str) -> Entity | None:
        """The first entity of this type, if any."""
        return next((e for e in self.entities if e.entity == name), None)
