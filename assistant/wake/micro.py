"""The wake word from pymicro-wakeword: the four models it ships (okay_nabu, hey_jarvis, alexa, hey_mycroft),
run on 10 ms feature steps of the microphone's audio, whatever the capture block size.

One spoken wake word triggers once: after a detection the model's streaming state is cleared and its
output ignored for `REFRACTORY_S` of audio (the tail of "Jarvis" must not fire it again). Time is
counted in 10 ms feature steps, not wall time, so files and live capture behave alike.
"""

from __future__ import annotations

import logging
import time

from pymicro_wakeword import MicroWakeWord as _Model
from pymicro_wakeword import MicroWakeWordFeatures, Model

from ..errors import ConfigError, SpeechError
from ..speech import SAMPLE_RATE, SAMPLE_WIDTH, AudioChunk
from ..voice_config import MICRO_WAKE_WORDS

log = logging.getLogger(__name__)

#: After a detection, the model's output is ignored for this much audio.
REFRACTORY_S = 1.0
#: The features' step: one every 10 ms of audio.
STEPS_PER_S = 100


class MicroWakeWord:
    """A micro-wake-word model spotting its wake word in a continuous 16 kHz stream."""

    def __init__(self, model: str = "hey_jarvis", *, refractory_s: float = REFRACTORY_S) -> None:
        if model not in MICRO_WAKE_WORDS:
            raise ConfigError(
                f"wake.model: unknown wake word {model!r}; expected one of {', '.join(MICRO_WAKE_WORDS)} or 'phrase'"
            )
        self.name = model
        """What it listens for, e.g. `hey_jarvis`."""
        self.refractory_s = refractory_s
        """Audio ignored after a detection, seconds."""
        self.process_ms = 0.0
        """Wall time spent in `process`, cumulative milliseconds."""
        self.audio_s = 0.0
        """Audio fed to `process`, cumulative seconds (with `process_ms`: the real-time factor)."""
        self.detections = 0
        """How many times the wake word was heard."""
        try:
            self._model = _Model.from_builtin(Model(model))
        except (OSError, ValueError, RuntimeError) as err:
            raise SpeechError(f"wake word model {model!r} cannot be loaded: {err}") from err
        self._features = MicroWakeWordFeatures()
        self._quiet_steps = 0  # 10 ms feature steps whose output is still ignored after a detection

    @property
    def wake_word(self) -> str:
        """The wake word as people say it ("Hey Jarvis")."""
        return str(self._model.wake_word)

    @property
    def rtf(self) -> float:
        """Real-time factor so far: processing time per second of audio (0.01 = 1 % of one core)."""
        return self.process_ms / 1000.0 / self.audio_s if self.audio_s else 0.0

    def process(self, chunk: AudioChunk) -> bool:
        """Feed audio of any length; True when the wake word was just heard (once per utterance)."""
        if chunk.rate != SAMPLE_RATE:
            raise SpeechError(f"the wake word expects {SAMPLE_RATE} Hz audio, got {chunk.rate} Hz")
        started = time.perf_counter()
        pcm = chunk.pcm[: len(chunk.pcm) - len(chunk.pcm) % SAMPLE_WIDTH]
        detected = False
        # The extractor keeps what is left of a chunk after its last whole 10 ms step for the next chunk.
        for features in self._features.process_streaming(pcm):
            heard = self._model.process_streaming(features)
            if self._quiet_steps > 0:
                self._quiet_steps -= 1
            elif heard:
                detected = True
                self._detected(chunk)
        self.process_ms += (time.perf_counter() - started) * 1000.0
        self.audio_s += len(pcm) / SAMPLE_WIDTH / SAMPLE_RATE
        return detected

    def reset(self) -> None:
        """Forget the audio heard so far (after a detection was handled, or after the assistant spoke)."""
        self._model.reset()
        self._features.reset()
        self._quiet_steps = 0

    def close(self) -> None:
        """Release the model."""
        self._model.close()

    def _detected(self, chunk: AudioChunk) -> None:
        self.detections += 1
        log.info("wake word %r heard (chunk ending at %.2f s)", self.name, chunk.end_s)
        # The model's streaming state still holds the wake word: clear it so it cannot fire again.
        self._model.reset()
        self._quiet_steps = round(self.refractory_s * STEPS_PER_S)
