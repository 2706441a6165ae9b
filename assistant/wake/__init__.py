"""How the user gets the assistant's attention: a wake word (pymicro-wakeword), a wake phrase spotted in
transcripts, or push-to-talk (a terminal key, a GPIO button); `build_wake` picks them from `wake:`."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass

from ..errors import ConfigError
from ..speech import WakeWordDetector
from ..voice_config import WakeConfig
from .micro import MicroWakeWord
from .phrase import PhraseWake
from .triggers import GpioTrigger, KeyTrigger, Triggers

log = logging.getLogger(__name__)

__all__ = ["GpioTrigger", "KeyTrigger", "MicroWakeWord", "PhraseWake", "Triggers", "WakeSetup", "build_wake"]


@dataclass(frozen=True)
class WakeSetup:
    """What can wake the assistant; any of them may be absent."""

    detector: WakeWordDetector | None
    """Wake-word model run on every audio block (`wake.model` one of pymicro-wakeword's)."""
    phrase: PhraseWake | None
    """Wake phrase spotted in the transcripts of whole utterances (`wake.model: phrase`)."""
    triggers: Triggers | None
    """Push-to-talk sources (a terminal key, a GPIO button)."""


def build_wake(config: WakeConfig, lang: str) -> WakeSetup:
    """The wake word or phrase and the push-to-talk sources that `wake.mode` asks for."""
    detector: WakeWordDetector | None = None
    phrase: PhraseWake | None = None
    triggers: Triggers | None = None
    if config.mode in ("wake_word", "both"):
        if config.model == "phrase":
            if not config.phrase or not config.phrase.strip():
                raise ConfigError("wake.phrase: required when wake.model is 'phrase'")
            phrase = PhraseWake(config.phrase, lang)
        else:
            detector = MicroWakeWord(config.model)
    if config.mode in ("push_to_talk", "both"):
        triggers = _triggers(config)
    if triggers is None and config.mode == "push_to_talk":
        raise ConfigError(
            "wake.mode: push_to_talk needs a terminal (stdin is not one) or a button (wake.gpio_pin is null)",
            hint="run `assistant listen` in a terminal, set wake.gpio_pin, or set wake.mode: wake_word",
        )
    return WakeSetup(detector, phrase, triggers)


def _triggers(config: WakeConfig) -> Triggers | None:
    found: list[KeyTrigger | GpioTrigger] = []
    if sys.stdin is not None and sys.stdin.isatty():
        found.append(KeyTrigger(config.key))
    else:
        log.warning("push-to-talk key %r ignored: standard input is not a terminal", config.key)
    if config.gpio_pin is not None:
        try:
            found.append(GpioTrigger(config.gpio_pin))
        except ConfigError:
            Triggers(*found).close()  # give the terminal its settings back before failing
            raise
    return Triggers(*found) if found else None
