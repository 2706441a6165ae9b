"""The outcome of one user utterance: what the chat REPL prints and `--json` emits."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .nlu.types import Entity, IntentScore


@dataclass(frozen=True)
class TurnResult:
    """One turn, in the stable schema of `assistant chat --json`."""

    turn: int
    """1-based turn number in this conversation."""
    lang: str
    """Conversation language."""
    text: str
    """What the user said or typed."""
    intent: IntentScore | None
    """The NLU's best intent, if any."""
    entities: tuple[Entity, ...]
    """Entities the NLU found."""
    skill: str | None
    """The skill that handled the turn (None when nothing did)."""
    reply: str
    """What the assistant answers."""
    expecting: str | None
    """`confirmation`, `choice`, `slot:<name>` while a question is open, else None."""
    events: tuple[dict[str, Any], ...] = ()
    """Structured events of the turn (order_proposed, clarification, not_found, order_placed, ...)."""
    timings_ms: dict[str, float] = field(default_factory=dict)
    """Per-stage wall time: nlu, skill, total."""

    def as_json(self) -> dict[str, Any]:
        return {
            "turn": self.turn,
            "lang": self.lang,
            "text": self.text,
            "intent": {"name": self.intent.name, "confidence": round(self.intent.confidence, 4)}
            if self.intent
            else None,
            "entities": [e.as_json() for e in self.entities],
            "skill": self.skill,
            "reply": self.reply,
            "expecting": self.expecting,
            "events": list(self.events),
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
        }
