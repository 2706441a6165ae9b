"""The voice path's sections of config.yml: audio devices, listening, wake word, speech-to-text, text-to-speech.

Validated like the rest of the config (assistant/typed.py): an unknown key or a wrong type stops the
assistant with the key's path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .errors import ConfigError

#: Wake-word models that pymicro-wakeword ships (no download needed).
MICRO_WAKE_WORDS = ("okay_nabu", "hey_jarvis", "alexa", "hey_mycroft")


@dataclass(frozen=True)
class AudioConfig:
    """Microphone and speaker."""

    input_device: str | int | None = None
    """Microphone: part of its name or its index in `assistant audio devices`; null = system default."""
    output_device: str | int | None = None
    """Speaker: part of its name or its index; null = system default."""
    earcon: bool = True
    """Play a short tone when the assistant starts and stops listening to a request."""
    block_ms: int = 30
    """Capture block length; smaller reacts sooner, larger costs less CPU."""
    output_latency_ms: int = 100
    """Speaker buffer: what plays on after a stop ("stop" cuts the reply within it). Too small a buffer
    underruns through PulseAudio/PipeWire, which can then drop whole sentences."""

    def validate(self, path: str) -> None:
        if not 10 <= self.block_ms <= 200:
            raise ConfigError(f"{path}.block_ms: expected between 10 and 200 milliseconds")
        if not 5 <= self.output_latency_ms <= 1000:
            raise ConfigError(f"{path}.output_latency_ms: expected between 5 and 1000 milliseconds")


@dataclass(frozen=True)
class ListenConfig:
    """When an utterance starts and ends, and how long an answer is waited for."""

    trailing_silence_ms: int = 500
    """Silence after speech that ends an utterance."""
    max_utterance_s: float = 10.0
    """An utterance is cut after this long even if the speaker keeps talking."""
    speech_threshold: float = 0.5
    """Voice-activity probability (0..1) above which a block counts as speech."""
    no_speech_timeout_s: float = 6.0
    """After the wake word (or while waiting for an answer), give up if nobody speaks for this long."""
    min_confidence: float = 0.6
    """Least transcript confidence to answer a question ("yes" to an order); below it, asked again."""
    min_request_confidence: float = 0.45
    """Least transcript confidence to start a request. Below `min_confidence` a request can only lead to
    a question (a proposal the user must confirm), never act by itself. When the words of the request's
    slots were heard better than the whole, the mean of the two counts (`dialogue.request_heard`)."""

    def validate(self, path: str) -> None:
        if not 100 <= self.trailing_silence_ms <= 3000:
            raise ConfigError(f"{path}.trailing_silence_ms: expected between 100 and 3000 milliseconds")
        for name in ("speech_threshold", "min_confidence", "min_request_confidence"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f"{path}.{name}: expected a number between 0 and 1")
        if self.min_request_confidence > self.min_confidence:
            raise ConfigError(f"{path}.min_request_confidence: must not exceed min_confidence ({self.min_confidence})")
        if self.max_utterance_s <= 1 or self.no_speech_timeout_s <= 0:
            raise ConfigError(f"{path}: max_utterance_s must exceed 1 s and no_speech_timeout_s must be positive")


@dataclass(frozen=True)
class WakeConfig:
    """How the user gets the assistant's attention."""

    mode: Literal["wake_word", "push_to_talk", "both"] = "wake_word"
    """Wake word, push-to-talk (keyboard key or GPIO button), or either."""
    model: str = "hey_jarvis"
    """A wake-word model that ships with pymicro-wakeword (okay_nabu, hey_jarvis, alexa, hey_mycroft),
    or `phrase` to spot `phrase` with the speech-to-text engine."""
    phrase: str | None = None
    """The wake phrase when `model: phrase`, e.g. "hey shopper"."""
    key: str = "space"
    """Push-to-talk key in the terminal running `assistant listen`."""
    gpio_pin: int | None = None
    """BCM pin number of a push button wired to the Pi (gpiozero); null = none."""

    def validate(self, path: str) -> None:
        if self.model == "phrase":
            if not self.phrase or not self.phrase.strip():
                raise ConfigError(f"{path}.phrase: required when {path}.model is 'phrase'")
        elif self.model not in MICRO_WAKE_WORDS:
            raise ConfigError(f"{path}.model: expected one of {', '.join(MICRO_WAKE_WORDS)} or 'phrase'")


@dataclass(frozen=True)
class STTConfig:
    """Speech-to-text."""

    engine: Literal["auto", "vosk", "whisper"] = "auto"
    """`auto`: Vosk when a Vosk model for the language is installed (the choice on a Pi), else faster-whisper."""
    whisper_model: str = "tiny.en"
    """faster-whisper model: `tiny.en` (ships in a package), a model name from `assistant models list`, or a folder."""
    vosk_models: dict[str, str] = field(default_factory=dict)
    """Vosk model per language: a name from `assistant models list` or a folder; default: the pulled small model."""
    bias: bool = True
    """Bias recognition toward the household's product and brand words and the skills' command words."""
    threads: int = 2
    """CPU threads for the recogniser."""


@dataclass(frozen=True)
class TTSConfig:
    """Text-to-speech with Piper."""

    voices: dict[str, str] = field(default_factory=lambda: {"en": "en_US-joe-medium", "fr": "fr_FR-siwis-medium"})
    """Piper voice per language: a name from `assistant models list` (packaged or pulled) or an .onnx path."""
    speed: float = 1.0
    """Speaking rate (1.0 = the voice's own)."""

    def validate(self, path: str) -> None:
        if not 0.5 <= self.speed <= 2.0:
            raise ConfigError(f"{path}.speed: expected between 0.5 and 2.0")


@dataclass(frozen=True)
class ModelsConfig:
    """Where downloaded speech models live."""

    dir: str = "models"
    """Folder of pulled models (relative to the config file); packaged models are found in site-packages."""
