"""The machine's sound devices as PortAudio sees them, and a device chosen by name or index."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal

from ..errors import AudioError

log = logging.getLogger(__name__)

Kind = Literal["input", "output"]


@dataclass(frozen=True)
class AudioDevice:
    """One PortAudio device."""

    index: int
    """Its number in `assistant audio devices` (valid until devices are plugged or unplugged)."""
    name: str
    """Its name, e.g. `pulse`, `default`, `USB PnP Sound Device: Audio (hw:1,0)`."""
    inputs: int
    """Input channels (0: not a microphone)."""
    outputs: int
    """Output channels (0: not a speaker)."""
    default_rate: float
    """The sample rate the device prefers, Hz."""
    is_default_input: bool
    """The system's default microphone."""
    is_default_output: bool
    """The system's default speaker."""


def sounddevice() -> ModuleType:
    """The sounddevice module; an AudioError naming the package to install when PortAudio is missing."""
    try:
        import sounddevice as sd
    except OSError as err:
        raise AudioError(
            f"PortAudio, the sound library, is not installed ({err})", hint="apt-get install libportaudio2"
        ) from err
    return sd


def rescan() -> None:
    """Forget PortAudio's device list and enumerate again (after a sound server started, or a device was plugged)."""
    sd = sounddevice()
    sd._terminate()
    sd._initialize()


def list_devices() -> list[AudioDevice]:
    """Every device, inputs and outputs, in PortAudio's order."""
    sd = sounddevice()
    try:
        infos: list[dict[str, Any]] = list(sd.query_devices())
        default_in, default_out = _defaults(sd)
    except sd.PortAudioError as err:
        raise AudioError(f"cannot list sound devices: {err}") from err
    return [
        AudioDevice(
            index=i,
            name=str(info["name"]),
            inputs=int(info["max_input_channels"]),
            outputs=int(info["max_output_channels"]),
            default_rate=float(info["default_samplerate"]),
            is_default_input=i == default_in,
            is_default_output=i == default_out,
        )
        for i, info in enumerate(infos)
    ]


def _defaults(sd: ModuleType) -> tuple[int, int]:
    device = sd.default.device
    return int(device[0]), int(device[1])


def resolve_device(spec: str | int | None, kind: Kind) -> int | None:
    """The index of the device `spec` names (its index, or part of its name, any case); None = system default."""
    if spec is None:
        return None
    devices = list_devices()
    if isinstance(spec, str) and spec.strip().isdigit():
        spec = int(spec)
    if isinstance(spec, int):
        found = [d for d in devices if d.index == spec]
    else:
        wanted = spec.strip().lower()
        exact = [d for d in devices if d.name.lower() == wanted and _channels(d, kind)]
        found = exact or [d for d in devices if wanted in d.name.lower() and _channels(d, kind)]
    if not found:
        raise _not_found(spec, kind, devices)
    device = found[0]
    if not _channels(device, kind):
        raise _not_found(spec, kind, devices, f"device {device.index} ({device.name}) has no {kind} channels")
    if len(found) > 1:
        log.info("%r matches %d %s devices; using %d (%s)", spec, len(found), kind, device.index, device.name)
    return device.index


def _channels(device: AudioDevice, kind: Kind) -> int:
    return device.inputs if kind == "input" else device.outputs


def _not_found(spec: str | int, kind: Kind, devices: list[AudioDevice], why: str = "") -> AudioError:
    usable = [f"{d.index}: {d.name}" for d in devices if _channels(d, kind)]
    listing = "; ".join(usable) if usable else f"none (is a sound server running? no {kind} device found)"
    reason = why or f"no {kind} device matches {spec!r}"
    return AudioError(f"{reason}. {kind.capitalize()} devices: {listing}", hint="see `assistant audio devices`")
