"""Text-to-speech with Piper (onnxruntime on CPU), a sentence at a time so playback starts early.

A reply is cut into sentences (`sentences.py`); each is synthesised in a worker thread and its clip is
yielded as soon as it is ready, while the next sentence is already being synthesised, so a speaker that
plays clip 1 before asking for clip 2 hears no gap. A long first sentence is also cut at a comma: on two
cores Piper needs about 320 ms for "Lavazza Qualità Rossa beans, 1 kg, €14.90, arriving Tuesday." but
about 110 ms for "Lavazza Qualità Rossa beans,".

Voices are loaded on first use and stay loaded; a language whose voice is not installed fails (with the
`assistant models pull` command) only when something is said in it. Clips of recent sentences are kept
in an LRU cache, and fixed prompts can be pinned in it (`cache_prompts`), so they come back at once:
`assistant listen` pins the first piece of every response template that holds no value ("You usually
get", "I couldn't find", "Sorry, I didn't catch that.").
"""

from __future__ import annotations

import asyncio
import logging
import string
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ModelCorrupt, ModelError, SpeechError
from ..speech import SpeechClip
from ..stt.wavfile import write_wav
from .sentences import first_clause, split_sentences

if TYPE_CHECKING:
    from ..config import Config
    from ..modelstore.store import ModelStore

log = logging.getLogger(__name__)

#: A voice: its .onnx path, or a function that finds it (raising ModelError when it is not installed).
VoiceSource = Path | Callable[[], Path]
#: What `warm_up` says to get onnxruntime's first-run allocations out of the way.
WARM_UP_TEXT = "Okay."
#: A first sentence longer than this is cut at a comma (None: never).
FIRST_CLAUSE_CHARS = 40
#: What stands in for a template's values in `openings`: a name long enough to be cut off as one is.
STAND_IN = "Standin Standin Standin Standin Standin Standin"
_FORMAT = string.Formatter()

CacheKey = tuple[str, str, float]


class ClipCache:
    """Recent clips by (lang, sentence, speed), least recently used dropped first; pinned ones kept."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._recent: OrderedDict[CacheKey, SpeechClip] = OrderedDict()
        self._pinned: dict[CacheKey, SpeechClip] = {}

    def get(self, key: CacheKey) -> SpeechClip | None:
        if key in self._pinned:
            return self._pinned[key]
        clip = self._recent.get(key)
        if clip is not None:
            self._recent.move_to_end(key)
        return clip

    def put(self, key: CacheKey, clip: SpeechClip, *, pin: bool = False) -> None:
        if pin:
            self._pinned[key] = clip
            self._recent.pop(key, None)
            return
        if self.size <= 0 or key in self._pinned:
            return
        self._recent[key] = clip
        self._recent.move_to_end(key)
        while len(self._recent) > self.size:
            self._recent.popitem(last=False)

    def __len__(self) -> int:
        return len(self._recent) + len(self._pinned)


class _Voice:
    """One Piper voice, loaded once; one synthesis at a time (the CPU threads are onnxruntime's)."""

    def __init__(self, lang: str, source: VoiceSource) -> None:
        self.lang = lang
        self.source = source
        self.piper: Any = None
        self.lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self.piper is not None

    def path(self) -> Path:
        return self.source if isinstance(self.source, Path) else self.source()

    def load(self) -> Any:
        with self.lock:
            if self.piper is None:
                self.piper = self._load(self.path())
            return self.piper

    def _load(self, path: Path) -> Any:
        from piper import PiperVoice

        config = Path(f"{path}.json")
        if not path.is_file() or not config.is_file():
            missing = path if not path.is_file() else config
            raise ModelCorrupt(f"Piper voice file {missing} is missing (fix: assistant models verify)")
        started = time.perf_counter()
        try:
            voice = PiperVoice.load(path, config)
        except Exception as err:  # onnxruntime raises its own pybind error types, json raises ValueError
            raise ModelCorrupt(f"Piper voice {path} cannot be loaded ({err}) (fix: assistant models verify)") from err
        log.info("Piper voice %s loaded in %.0f ms", path.name, (time.perf_counter() - started) * 1000)
        return voice

    def speak(self, sentence: str, speed: float) -> SpeechClip:
        """Synthesise one sentence (blocking; call it in a worker thread)."""
        from piper import SynthesisConfig

        voice = self.load()
        with self.lock:
            started = time.perf_counter()
            try:
                scale = voice.config.length_scale / speed
                chunks = list(voice.synthesize(sentence, syn_config=SynthesisConfig(length_scale=scale)))
                pcm = b"".join(chunk.audio_int16_bytes for chunk in chunks)
            except Exception as err:  # onnxruntime's pybind errors, espeak's RuntimeError, KeyError, ValueError
                raise SpeechError(f"Piper failed to speak {sentence!r}: {err}") from err
            elapsed_ms = (time.perf_counter() - started) * 1000
        return SpeechClip(pcm, voice.config.sample_rate, sentence, elapsed_ms)


class PiperTTS:
    """Text-to-speech with a Piper voice per language (implements `TextToSpeech`)."""

    def __init__(
        self,
        voices: Mapping[str, VoiceSource],
        speed: float = 1.0,
        cache_size: int = 64,
        *,
        first_clause_chars: int | None = FIRST_CLAUSE_CHARS,
    ) -> None:
        self._voices = {lang: _Voice(lang, source) for lang, source in voices.items()}
        self.speed = speed
        self.cache = ClipCache(cache_size)
        self.first_clause_chars = first_clause_chars

    @classmethod
    def from_config(cls, config: Config, store: ModelStore | None = None, **kwargs: Any) -> PiperTTS:
        """The voices of `tts.voices`, each looked up in the model store when its language is first spoken."""
        from ..modelstore.store import ModelStore

        found = store or ModelStore.from_config(config)

        def locate(name: str) -> Callable[[], Path]:
            return lambda: found.require("piper", name).path

        voices = {lang: locate(name) for lang, name in config.tts.voices.items()}
        return cls(voices, config.tts.speed, **kwargs)

    def languages(self) -> tuple[str, ...]:
        """Languages a voice is configured for (installed or not)."""
        return tuple(self._voices)

    def sentences(self, text: str, lang: str) -> list[str]:
        """The pieces `text` is spoken in, one clip each."""
        pieces = split_sentences(text, lang)
        return first_clause(pieces, self.first_clause_chars) if self.first_clause_chars else pieces

    async def load(self, lang: str) -> None:
        """Load the voice for `lang` now (in a worker thread) instead of at its first sentence."""
        await asyncio.to_thread(self._voice(lang).load)

    async def warm_up(self, langs: Iterable[str] | None = None) -> None:
        """Load the voices and speak a word with each (not cached), so the first reply runs warm.

        Without `langs`, every configured language whose voice is installed; a named language whose
        voice is missing raises ModelError."""
        for lang in langs if langs is not None else self._installed_languages():
            voice = self._voice(lang)
            await asyncio.to_thread(voice.speak, WARM_UP_TEXT, self.speed)

    async def cache_prompts(self, texts: Iterable[str], lang: str) -> None:
        """Synthesise fixed phrases now and keep them (never evicted), so saying them costs nothing."""
        voice = self._voice(lang)
        for text in texts:
            for sentence in self.sentences(text, lang):
                key = (lang, sentence, self.speed)
                clip = self.cache.get(key)
                if clip is None:
                    clip = await asyncio.to_thread(voice.speak, sentence, self.speed)
                self.cache.put(key, clip, pin=True)

    def openings(self, templates: Iterable[str], lang: str) -> list[str]:
        """The first piece each template is spoken with, when that piece holds no filled-in value: "You
        usually get" ({name} follows), "Sorry, I didn't catch that." Pinned by `cache_prompts` at start-up,
        the first words of most replies then cost nothing to synthesise. The values stand in as long
        names, so a template is cut where a real reply would be."""
        found: dict[str, None] = {}
        for template in templates:
            parts = _FORMAT.parse(template)
            filled = "".join(text + (STAND_IN if name is not None else "") for text, name, _, _ in parts)
            pieces = self.sentences(filled, lang)
            if pieces and STAND_IN.split()[0] not in pieces[0]:
                found[pieces[0]] = None
        return list(found)

    async def synthesize(self, text: str, lang: str, *, speed: float | None = None) -> AsyncIterator[SpeechClip]:
        """One clip per sentence, each yielded as soon as it is ready; the next one is synthesised meanwhile."""
        sentences = self.sentences(text, lang)
        if not sentences:
            return
        voice = self._voice(lang)
        rate = speed or self.speed
        pending = self._start(voice, sentences[0], rate)
        try:
            for following in [*sentences[1:], None]:
                clip = await pending
                if following is not None:
                    pending = self._start(voice, following, rate)
                yield clip
        finally:
            _discard(pending)

    def _start(self, voice: _Voice, sentence: str, speed: float) -> asyncio.Task[SpeechClip]:
        return asyncio.ensure_future(self._clip(voice, sentence, speed))

    async def _clip(self, voice: _Voice, sentence: str, speed: float) -> SpeechClip:
        started = time.perf_counter()
        key = (voice.lang, sentence, speed)
        cached = self.cache.get(key)
        if cached is not None:
            return replace(cached, elapsed_ms=(time.perf_counter() - started) * 1000)
        clip = await asyncio.to_thread(voice.speak, sentence, speed)
        self.cache.put(key, clip)
        return clip

    def _voice(self, lang: str) -> _Voice:
        try:
            return self._voices[lang]
        except KeyError:
            raise ModelError(
                f"no Piper voice configured for language {lang!r} (have: {', '.join(self._voices) or 'none'})",
                hint=f"set tts.voices.{lang} in config.yml; see: assistant models list",
            ) from None

    def _installed_languages(self) -> list[str]:
        langs = []
        for lang, voice in self._voices.items():
            try:
                voice.path()
                langs.append(lang)
            except ModelError as err:
                log.info("not warming the %s voice: %s", lang, err)
        return langs


def _discard(task: asyncio.Task[SpeechClip]) -> None:
    """Stop a synthesis nobody will consume (the thread finishes it; its result is dropped)."""
    if not task.done():
        task.cancel()
    elif not task.cancelled():
        task.exception()  # retrieved, so asyncio does not log it as unhandled


def clips_to_wav(clips: Iterable[SpeechClip], path: Path) -> Path:
    """The clips, one after the other, as one WAV file (they must share a sample rate)."""
    clips = list(clips)
    rates = {clip.rate for clip in clips}
    if len(rates) > 1:
        raise SpeechError(f"cannot write clips of different sample rates {sorted(rates)} to one WAV file")
    return write_wav(path, b"".join(clip.pcm for clip in clips), rates.pop() if rates else 22_050)
