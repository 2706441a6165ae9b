"""`assistant audio devices`: the microphones and speakers PortAudio sees, to pick one in config.yml."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from typing import Any

from .devices import AudioDevice, list_devices


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser("audio", help="sound devices")
    sub = p.add_subparsers(dest="audio_command", metavar="COMMAND")
    devices = sub.add_parser("devices", help="list microphones and speakers (for audio.input_device/output_device)")
    devices.add_argument("--json", action="store_true", help="one JSON array of devices")
    devices.set_defaults(func=show_devices)
    p.set_defaults(func=lambda args, config: p.print_help() or 2)


def show_devices(args: argparse.Namespace, config: Any = None) -> int:
    """Print the device table (or JSON); 1 when there is no device at all."""
    devices = list_devices()
    if getattr(args, "json", False):
        print(json.dumps([asdict(d) for d in devices], indent=2))
    elif not devices:
        print("No sound device found (is PulseAudio or PipeWire running? is the user in the `audio` group?)")
    else:
        print(format_devices(devices))
    return 0 if devices else 1


def format_devices(devices: list[AudioDevice]) -> str:
    """A table: index, in/out channels, default rate, default markers, name."""
    lines = ["  #   in  out     rate  default    name"]
    for d in devices:
        marks = ",".join(m for m, on in (("in", d.is_default_input), ("out", d.is_default_output)) if on)
        lines.append(f"{d.index:>3} {d.inputs:>4} {d.outputs:>4} {d.default_rate:>8.0f}  {marks or '-':<9}  {d.name}")
    lines.append("Use the index or part of the name as audio.input_device / audio.output_device in config.yml.")
    return "\n".join(lines)
