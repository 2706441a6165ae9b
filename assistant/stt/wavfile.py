"""Read any PCM or float WAV file as 16 kHz mono int16, the pipeline's format (numpy only).

WAV variants handled: 8-bit unsigned, 16/24/32-bit signed integer, 32/64-bit float, plain or
WAVE_FORMAT_EXTENSIBLE, any channel count (averaged to mono) and any rate (resampled with a windowed
sinc low-pass, so nothing above the new Nyquist folds back into the speech band).
"""

from __future__ import annotations

import math
import struct
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import SpeechError
from ..speech import SAMPLE_RATE, SAMPLE_WIDTH

_PCM, _FLOAT, _EXTENSIBLE = 1, 3, 0xFFFE


@dataclass(frozen=True)
class WavFormat:
    """The `fmt ` chunk of a WAV file."""

    encoding: int
    """1 = integer PCM, 3 = IEEE float."""
    channels: int
    """Interleaved channels."""
    rate: int
    """Samples per second."""
    bits: int
    """Bits per sample."""


def pcm_to_float(pcm: bytes) -> np.ndarray:
    """int16 little-endian bytes → float32 in [-1, 1)."""
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0


def float_to_pcm(samples: np.ndarray) -> bytes:
    """float samples in [-1, 1] → int16 little-endian bytes (clipped)."""
    return (np.clip(samples, -1.0, 32767 / 32768) * 32768.0).astype("<i2").tobytes()


def write_wav(path: Path | str, pcm: bytes, rate: int = SAMPLE_RATE) -> Path:
    """Mono int16 PCM written as a WAV file."""
    try:
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(SAMPLE_WIDTH)
            out.setframerate(rate)
            out.writeframes(pcm)
    except OSError as err:
        raise SpeechError(f"cannot write {path}: {err.strerror or err}") from err
    return Path(path)


def read_wav(path: Path, rate: int = SAMPLE_RATE) -> bytes:
    """A WAV file as mono int16 PCM at `rate`."""
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise SpeechError(f"cannot read {path}: {err.strerror or err}") from err
    fmt, payload = _parse(data, Path(path))
    samples = _decode(fmt, payload)
    if fmt.channels > 1:
        samples = samples[: len(samples) - len(samples) % fmt.channels].reshape(-1, fmt.channels).mean(axis=1)
    return float_to_pcm(resample(samples, fmt.rate, rate))


def _parse(data: bytes, path: Path) -> tuple[WavFormat, bytes]:
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise SpeechError(f"{path} is not a WAV file (convert it with: sox {path.name} -r 16000 -c 1 out.wav)")
    fmt: WavFormat | None = None
    pos = 12
    while pos + 8 <= len(data):
        chunk, size = data[pos : pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        body = data[pos + 8 : pos + 8 + size]
        if chunk == b"fmt ":
            fmt = _read_fmt(body, path)
        elif chunk == b"data":
            if fmt is None:
                break
            return fmt, body
        pos += 8 + size + (size & 1)
    raise SpeechError(f"{path}: no audio in this WAV file (missing fmt or data chunk)")


def _read_fmt(body: bytes, path: Path) -> WavFormat:
    encoding, channels, rate, _byte_rate, _align, bits = struct.unpack_from("<HHIIHH", body)
    if encoding == _EXTENSIBLE and len(body) >= 26:
        encoding = struct.unpack_from("<H", body, 24)[0]  # first two bytes of the sub-format GUID
    if encoding not in (_PCM, _FLOAT) or channels < 1 or rate < 1000:
        raise SpeechError(
            f"{path}: unsupported WAV encoding {encoding} ({channels} channels, {rate} Hz); "
            f"convert it with: sox {path.name} -r 16000 -c 1 -b 16 out.wav"
        )
    return WavFormat(encoding, channels, rate, bits)


def _decode(fmt: WavFormat, payload: bytes) -> np.ndarray:
    width = fmt.bits // 8
    payload = payload[: len(payload) - len(payload) % max(width, 1)]
    if fmt.encoding == _FLOAT and fmt.bits in (32, 64):
        return np.frombuffer(payload, dtype=f"<f{width}").astype(np.float32)
    if fmt.bits == 8:
        return (np.frombuffer(payload, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    if fmt.bits in (16, 32):
        return np.frombuffer(payload, dtype=f"<i{width}").astype(np.float32) / float(2 ** (fmt.bits - 1))
    if fmt.bits == 24:
        raw = np.frombuffer(payload, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        value = raw[:, 0] | (raw[:, 1] << 8) | (raw[:, 2] << 16)
        return (np.where(value >= 1 << 23, value - (1 << 24), value)).astype(np.float32) / float(1 << 23)
    raise SpeechError(f"unsupported WAV sample size: {fmt.bits} bits")


def resample(samples: np.ndarray, src: int, dst: int, taps: int = 16, block: int = 16_384) -> np.ndarray:
    """Band-limited resampling (Hann-windowed sinc, `taps` zero crossings each side)."""
    if src == dst or len(samples) == 0:
        return samples.astype(np.float32)
    ratio = dst / src
    cutoff = min(1.0, ratio)  # as a fraction of the input's Nyquist frequency
    half = math.ceil(taps / cutoff)
    offsets = np.arange(-half + 1, half + 1)
    n_out = round(len(samples) * ratio)
    padded = np.concatenate([np.zeros(half, np.float32), samples.astype(np.float32), np.zeros(half + 1, np.float32)])
    out = np.empty(n_out, dtype=np.float32)
    for start in range(0, n_out, block):
        t = np.arange(start, min(start + block, n_out)) / ratio
        idx = np.floor(t).astype(np.int64)[:, None] + offsets[None, :]
        dist = t[:, None] - idx
        window = 0.5 * (1.0 + np.cos(np.pi * np.clip(dist / half, -1.0, 1.0)))
        kernel = cutoff * np.sinc(cutoff * dist) * window
        out[start : start + len(t)] = (padded[idx + half] * kernel).sum(axis=1)
    return out
