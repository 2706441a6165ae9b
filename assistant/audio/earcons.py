"""Short tones that tell the user the assistant started or stopped listening, or failed.

Generated with numpy (no sound files to ship): two soft notes with a touch of the octave for warmth,
raised-cosine fades so they never click, at most 150 ms long.
"""

from __future__ import annotations

from functools import cache
from typing import Literal

import numpy as np

from ..speech import SpeechClip
from ..stt.wavfile import float_to_pcm

EarconKind = Literal["listening", "done", "error"]

#: (frequency Hz, seconds) of each note: rising for listening, falling for done, low for an error.
_NOTES: dict[str, tuple[tuple[float, float], ...]] = {
    "listening": ((659.3, 0.06), (987.8, 0.07)),  # E5 → B5
    "done": ((987.8, 0.06), (659.3, 0.07)),  # B5 → E5
    "error": ((261.6, 0.07), (220.0, 0.08)),  # C4 → A3
}
#: Peak level (full scale = 1): noticeable, not startling.
LEVEL = 0.3
FADE_S = 0.008


@cache
def earcon(kind: EarconKind, rate: int = 22050) -> SpeechClip:
    """The earcon `kind` as a clip at `rate` (the Piper voice's rate, so no reopening of the speaker)."""
    if kind not in _NOTES:
        raise ValueError(f"unknown earcon {kind!r}; expected one of {', '.join(_NOTES)}")
    samples = np.concatenate([_note(freq, seconds, rate) for freq, seconds in _NOTES[kind]])
    return SpeechClip(float_to_pcm(samples * LEVEL), rate, text=f"[{kind}]", elapsed_ms=0.0)


def _note(freq: float, seconds: float, rate: int) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    tone = np.sin(2 * np.pi * freq * t) + 0.2 * np.sin(4 * np.pi * freq * t)
    tone /= np.max(np.abs(tone))
    fade = min(int(FADE_S * rate), len(t) // 2)
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, fade))
    envelope = np.ones(len(t))
    envelope[:fade] = ramp
    envelope[len(t) - fade :] = ramp[::-1]
    envelope *= np.exp(-3.0 * t / seconds)  # a soft decay, like a struck note
    return (tone * envelope).astype(np.float32)
