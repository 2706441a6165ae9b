"""What crosses the voice path's module boundaries: audio chunks, transcripts, speech clips, and the
Protocols of its engines (speech-to-text, text-to-speech, voice activity, wake word).

Audio everywhere is signed 16-bit little-endian mono PCM (`bytes`), 16 kHz unless a field says
otherwise. Blocking engines are wrapped with `asyncio.to_thread` inside their adapters, never by callers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

#: The sample rate of the whole pipeline (microphone, VAD, wake word, speech-to-text).
SAMPLE_RATE = 16_000
#: Bytes per sample (int16).
SAMPLE_WIDTH = 2


@dataclass(frozen=True)
class AudioChunk:
    """A block of captured or decoded audio."""

    pcm: bytes
    """Signed 16-bit little-endian mono samples."""
    rate: int = SAMPLE_RATE
    """Samples per second."""
    start_s: float = 0.0
    """Where the first sample lies, in seconds since the stream began."""

    @property
    def duration_s(self) -> float:
        """Length of the chunk in seconds."""
        return len(self.pcm) / SAMPLE_WIDTH / self.rate

    @property
    def end_s(self) -> float:
        """Where the chunk ends, in seconds since the stream began."""
        return self.start_s + self.duration_s


#: A spoken word below this confidence is one the recogniser itself doubted. On the voice bench's robotic
#: and noisy voices (docs/benchmarks.md), tiny.en gave the words it misheard inside product names
#: 0.04-0.17 ("reorder the nasty biscuits", "order more depth soap", "order no dishwasher tablets") and
#: the right but unfamiliar words of products the household never bought 0.25-0.6 ("cat food" 0.38,
#: "coconut oil" 0.29, "chicken stock cubes" 0.25).
DOUBTED = 0.2


@dataclass(frozen=True)
class HeardWord:
    """One word of a transcript and how sure the engine is of it."""

    text: str
    """The word as written in the transcript."""
    start: int
    """Character offset where it starts in `Transcript.text`."""
    end: int
    """Character offset just past its end."""
    probability: float
    """The engine's confidence in this word, 0..1 (Whisper: mean token probability; Vosk: word conf)."""


@dataclass(frozen=True)
class Transcript:
    """What a speech-to-text engine heard."""

    text: str
    """The words, as the engine wrote them (empty when it heard no speech)."""
    confidence: float
    """How sure the engine is of the whole transcript, 0..1 (a purchase needs at least `listen.min_confidence`)."""
    lang: str
    """Language the engine listened for."""
    engine: str
    """`vosk` or `whisper`."""
    audio_s: float
    """Length of the audio transcribed, seconds."""
    elapsed_ms: float
    """Wall time the engine took after the last audio arrived (final) or for this partial."""
    final: bool = True
    """False for a streaming partial result."""
    words: tuple[HeardWord, ...] = ()
    """Its words with their own confidences (empty when the engine gave none). A request whose slot
    words were heard clearly may be acted on although the whole transcript scored low (see
    `Conversation.handle`)."""
    alternatives: tuple[str, ...] = ()
    """Other readings the engine found nearly as likely, best first, each with other words (Whisper: beam
    hypotheses scoring within `NBEST_MARGIN` of the one taken; empty from engines that give none). A skill
    may look at them when the transcript names nothing it knows: the shopping skill, for a product."""


@dataclass(frozen=True)
class Vocabulary:
    """Words to bias recognition toward: the household's products and brands, the skills' commands."""

    lang: str
    """Language of the words."""
    phrases: tuple[str, ...]
    """Whole phrases as people say them ("oat milk", "reorder the coffee"), most important first."""
    words: frozenset[str]
    """Every single word in `phrases`, lowercased."""
    fingerprint: str
    """Stable hash of the contents; engines rebuild their biasing only when it changes."""
    product_words: frozenset[str] = frozenset()
    """The words of the products' phrases alone (brands, "oat", "milk"), lowercased."""
    product_phrases: tuple[str, ...] = ()
    """The products' phrases alone, as people say them ("Oatly oat milk", "oat milk", "Oatly")."""


@dataclass(frozen=True)
class SpeechClip:
    """Synthesised speech for one sentence of a reply."""

    pcm: bytes
    """Signed 16-bit little-endian mono samples."""
    rate: int
    """The voice's sample rate (Piper voices: 16 or 22.05 kHz)."""
    text: str
    """The sentence spoken."""
    elapsed_ms: float
    """Time synthesis of this sentence took."""


class TranscriptStream(Protocol):
    """One utterance being recognised while it is spoken."""

    async def feed(self, chunk: AudioChunk) -> Transcript | None:
        """Add audio; may return a partial transcript (`final=False`)."""
        ...

    async def finish(self) -> Transcript:
        """No more audio: the final transcript."""
        ...


@runtime_checkable
class SpeechToText(Protocol):
    """A speech-to-text engine for one or more languages."""

    name: str
    """`vosk` or `whisper`."""

    def languages(self) -> tuple[str, ...]:
        """Languages it has a model for."""
        ...

    def set_vocabulary(self, vocabulary: Vocabulary) -> None:
        """Bias recognition in `vocabulary.lang` toward these words (cheap when the fingerprint is unchanged)."""
        ...

    def stream(self, lang: str) -> TranscriptStream:
        """Start recognising one utterance in `lang`."""
        ...

    async def transcribe(self, pcm: bytes, lang: str) -> Transcript:
        """Recognise a whole utterance at once (16 kHz int16 mono)."""
        ...


@runtime_checkable
class TextToSpeech(Protocol):
    """A text-to-speech engine with a voice per language."""

    def synthesize(self, text: str, lang: str) -> AsyncIterator[SpeechClip]:
        """Speech for `text`, one clip per sentence, the first as soon as it is ready."""
        ...


class VoiceActivity(Protocol):
    """Speech probability of audio blocks."""

    def __call__(self, chunk: AudioChunk) -> float:
        """Probability 0..1 that the chunk holds speech."""
        ...

    def reset(self) -> None:
        """Forget state between utterances."""
        ...


class WakeWordDetector(Protocol):
    """Spots a wake word in a continuous stream of audio."""

    name: str
    """What it listens for, e.g. `hey_jarvis`."""

    def process(self, chunk: AudioChunk) -> bool:
        """Feed audio; True when the wake word was just heard."""
        ...

    def reset(self) -> None:
        """Forget state (after a detection, or after the assistant spoke)."""
        ...
