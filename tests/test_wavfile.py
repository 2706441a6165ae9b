"""Reading any WAV file as the pipeline's 16 kHz mono int16: widths, float, channels, rates, bad files."""

from __future__ import annotations

import struct
import wave
from pathlib import Path

import numpy as np
import pytest

from assistant.errors import SpeechError
from assistant.stt.wavfile import read_wav

SECONDS = 1.5
TONE_HZ = 440.0


def tone(rate: int, channels: int) -> np.ndarray:
    """A 440 Hz tone at half scale, (samples, channels); the second channel in phase."""
    t = np.arange(int(SECONDS * rate)) / rate
    mono = 0.5 * np.sin(2 * np.pi * TONE_HZ * t)
    return np.repeat(mono[:, None], channels, axis=1)


def write_int_wav(path: Path, samples: np.ndarray, rate: int, bits: int) -> Path:
    scaled = samples * (2 ** (bits - 1) - 1)
    if bits == 8:
        raw = (scaled + 128).astype(np.uint8).tobytes()
    elif bits == 24:
        ints = scaled.astype("<i4").reshape(-1)
        raw = b"".join(int(v).to_bytes(3, "little", signed=True) for v in ints)
    else:
        raw = scaled.astype(f"<i{bits // 8}").tobytes()
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(samples.shape[1])
        wav.setsampwidth(bits // 8)
        wav.setframerate(rate)
        wav.writeframes(raw)
    return path


def write_float_wav(path: Path, samples: np.ndarray, rate: int, bits: int = 32, extensible: bool = False) -> Path:
    """IEEE float WAV (format 3), or WAVE_FORMAT_EXTENSIBLE with the float sub-format."""
    channels = samples.shape[1]
    data = samples.astype(f"<f{bits // 8}").tobytes()
    align = channels * bits // 8
    fmt = struct.pack("<HHIIHH", 0xFFFE if extensible else 3, channels, rate, rate * align, align, bits)
    if extensible:
        guid = struct.pack("<H", 3) + b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
        fmt += struct.pack("<HHI", 22, bits, 0) + guid
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path


def dominant_hz(pcm: bytes) -> float:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / 16_000)[np.argmax(spectrum)])


def check_pipeline_audio(pcm: bytes) -> None:
    samples = np.frombuffer(pcm, dtype="<i2")
    assert len(pcm) % 2 == 0
    assert len(samples) / 16_000 == pytest.approx(SECONDS, abs=0.002)
    assert dominant_hz(pcm) == pytest.approx(TONE_HZ, abs=2)
    assert np.abs(samples).max() / 32768 == pytest.approx(0.5, abs=0.03)  # level kept, not clipped


@pytest.mark.parametrize("bits", [8, 16, 24, 32])
@pytest.mark.parametrize(("rate", "channels"), [(16_000, 1), (22_050, 1), (44_100, 2), (48_000, 2)])
def test_integer_wavs_read_as_16k_mono(tmp_path: Path, bits: int, rate: int, channels: int) -> None:
    path = write_int_wav(tmp_path / "in.wav", tone(rate, channels), rate, bits)
    check_pipeline_audio(read_wav(path))


@pytest.mark.parametrize(("bits", "extensible"), [(32, False), (64, False), (32, True)])
def test_float_wavs_read_as_16k_mono(tmp_path: Path, bits: int, extensible: bool) -> None:
    path = write_float_wav(tmp_path / "in.wav", tone(44_100, 2), 44_100, bits, extensible)
    check_pipeline_audio(read_wav(path))


def test_stereo_is_averaged(tmp_path: Path) -> None:
    left_only = tone(16_000, 2)
    left_only[:, 1] = 0.0
    samples = np.frombuffer(read_wav(write_int_wav(tmp_path / "in.wav", left_only, 16_000, 16)), dtype="<i2")
    assert np.abs(samples).max() / 32768 == pytest.approx(0.25, abs=0.01)


def test_resampling_removes_what_lies_above_the_new_nyquist(tmp_path: Path) -> None:
    rate = 44_100
    t = np.arange(int(SECONDS * rate)) / rate
    high = (0.5 * np.sin(2 * np.pi * 12_000 * t))[:, None]  # above 8 kHz: must not fold back to 4 kHz
    samples = np.frombuffer(read_wav(write_int_wav(tmp_path / "in.wav", high, rate, 16)), dtype="<i2")
    assert np.sqrt(np.mean((samples / 32768.0) ** 2)) < 0.01


def test_a_file_that_is_not_wav_is_refused_with_the_fix(tmp_path: Path) -> None:
    mp3 = tmp_path / "order.mp3"
    mp3.write_bytes(b"ID3\x04\x00" + bytes(200))
    with pytest.raises(SpeechError, match=r"order\.mp3 is not a WAV file \(convert it with: sox") as err:
        read_wav(mp3)
    assert "\n" not in str(err.value)


def test_a_missing_file_and_a_wav_without_audio_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SpeechError, match="cannot read"):
        read_wav(tmp_path / "nope.wav")
    header_only = tmp_path / "empty.wav"
    header_only.write_bytes(b"RIFF" + struct.pack("<I", 4) + b"WAVE")
    with pytest.raises(SpeechError, match="no audio in this WAV file"):
        read_wav(header_only)


def test_an_unsupported_encoding_names_the_conversion(tmp_path: Path) -> None:
    path = write_float_wav(tmp_path / "alaw.wav", tone(8_000, 1), 8_000)
    data = bytearray(path.read_bytes())
    data[20:22] = struct.pack("<H", 6)  # A-law
    path.write_bytes(bytes(data))
    with pytest.raises(SpeechError, match=r"unsupported WAV encoding 6.*sox alaw\.wav -r 16000"):
        read_wav(path)
