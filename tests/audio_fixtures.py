"""pytest plugin (loaded by conftest.py): a real microphone and speaker without hardware.

`virtual_audio` makes sure PulseAudio runs (starting it if needed), with a null sink `vspk` as the
default speaker and its monitor `vspk.monitor` as the default microphone: whatever is played into the
sink (by `paplay` or by `Speaker`) is what `Microphone` records, through PortAudio -> ALSA -> pulse.
PulseAudio and the sink are left running at the end of the session: other test sessions may share them.
Tests that use the fixture are marked `audio` automatically.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SINK = "vspk"
INSTALL = "apt-get install pulseaudio libasound2-plugins"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "virtual_audio" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.audio)


@dataclass
class VirtualAudio:
    """The null sink: play into it, record its monitor with `Microphone()` (the default input)."""

    sink: str
    """Name of the PulseAudio sink everything is played into."""
    workdir: Path
    """Where `play_pcm` writes its WAV files."""
    started_server: bool = False
    """This session started PulseAudio."""
    _count: int = field(default=0, repr=False)

    def play_wav(self, path: Path | str) -> subprocess.Popen[bytes]:
        """Start playing a WAV file into the sink; wait on the returned process to know it ended."""
        return subprocess.Popen(
            ["paplay", f"--device={self.sink}", str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )

    def play_pcm(self, pcm: bytes, rate: int = 16_000) -> subprocess.Popen[bytes]:
        """Start playing int16 mono PCM into the sink."""
        self._count += 1
        path = self.workdir / f"play{self._count}.wav"
        from assistant.stt.wavfile import write_wav

        return self.play_wav(write_wav(path, pcm, rate))


def _pactl(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["pactl", *args], capture_output=True, text=True, check=check, timeout=10)


def _server_up() -> bool:
    return _pactl("info", check=False).returncode == 0


def _start_server() -> None:
    started = subprocess.run(
        ["pulseaudio", "-D", "--exit-idle-time=-1", "--disallow-exit"], capture_output=True, text=True, timeout=20
    )
    deadline = time.monotonic() + 10
    while not _server_up():
        if time.monotonic() > deadline:
            pytest.fail(f"PulseAudio did not start: {started.stderr.strip()[-500:]}")
        time.sleep(0.1)


def _ensure_sink(sink: str) -> None:
    sinks = _pactl("list", "short", "sinks").stdout
    if not any(line.split("\t")[1:2] == [sink] for line in sinks.splitlines()):
        _pactl("load-module", "module-null-sink", f"sink_name={sink}")
    _pactl("set-default-sink", sink)
    _pactl("set-default-source", f"{sink}.monitor")
    # A test machine is not a desktop: no idle suspend (it eats the start of a stream), no corking by
    # role, no volumes remembered from an earlier stream; full volume, unmuted, both ways.
    for module in ("module-suspend-on-idle", "module-role-cork", "module-stream-restore"):
        _pactl("unload-module", module, check=False)
    _pactl("set-sink-mute", sink, "0")
    _pactl("set-sink-volume", sink, "100%")
    _pactl("set-source-mute", f"{sink}.monitor", "0")
    _pactl("set-source-volume", f"{sink}.monitor", "100%")


@pytest.fixture(scope="session")
def virtual_audio() -> Iterator[VirtualAudio]:
    missing = [tool for tool in ("pulseaudio", "pactl", "paplay") if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"audio tests need {', '.join(missing)}: {INSTALL}")
    started = not _server_up()
    if started:
        _start_server()
    _ensure_sink(SINK)
    if "sounddevice" in sys.modules:
        # PortAudio lists devices once, when it initialises: make it see the server and the sink.
        from assistant.audio.devices import rescan

        rescan()
    with tempfile.TemporaryDirectory(prefix="virtual-audio-") as tmp:
        yield VirtualAudio(SINK, Path(tmp), started)
