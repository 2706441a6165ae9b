"""`assistant listen` on a real input device: a PulseAudio null sink whose monitor is the microphone.

Speech is played into the sink with paplay, so the assistant records it through sounddevice → PortAudio
→ ALSA → PulseAudio, exactly as from a USB microphone. Its replies go to the same sink, so the
microphone also hears the assistant's own voice, which must never be taken for the user's.
"""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from assistant.config import PROJECT_ROOT
from assistant.stt.wavfile import write_wav
from tests.speech_helpers import silence
from tests.speech_helpers import steady_piper_speech as piper_speech
from tests.test_voice_listen import config_file, household, placed  # noqa: F401 (fixture)

pytestmark = [pytest.mark.slow, pytest.mark.audio]
DEADLINE_S = 120


class Listener:
    """A running `assistant listen --json`, its stdin a terminal (for the push-to-talk key)."""

    def __init__(self, config: Path, *args: str) -> None:
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "assistant", "--config", str(config), "listen", "--json", *args],
            stdin=slave,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=PROJECT_ROOT,
            env={**os.environ, "ASSISTANT_HOME": str(config.parent / "home")},
        )
        os.close(slave)
        self.err = b""

    def wait_for_stderr(self, text: str, times: int = 1) -> None:
        assert self.proc.stderr is not None
        deadline = time.monotonic() + DEADLINE_S
        while self.err.count(text.encode()) < times:
            assert time.monotonic() < deadline, f"no {text!r} on stderr: {self.err.decode()[-2000:]}"
            ready, _, _ = select.select([self.proc.stderr], [], [], 0.5)
            if ready:
                chunk = os.read(self.proc.stderr.fileno(), 4096)
                assert chunk, f"assistant listen exited: {self.err.decode()[-2000:]}"
                self.err += chunk

    def turn(self, within_s: float = DEADLINE_S) -> dict[str, Any] | None:
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], within_s)
        self.drain()
        if not ready and within_s < DEADLINE_S:
            return None
        assert ready, f"no turn within {within_s} s: {self.err.decode()[-2000:]}"
        line = self.proc.stdout.readline()
        assert line, f"assistant listen exited: {self.proc.stderr.read().decode()[-2000:]}"  # type: ignore[union-attr]
        return json.loads(line)

    def drain(self) -> None:
        """Read what stderr has so far (for the messages of a failure, and `stalled`)."""
        assert self.proc.stderr is not None
        while select.select([self.proc.stderr], [], [], 0)[0]:
            chunk = os.read(self.proc.stderr.fileno(), 4096)
            if not chunk:
                return
            self.err += chunk

    @property
    def stalls(self) -> int:
        """Times the sound server stalled the capture stream (the assistant said so and reopened it)."""
        return self.err.count(b"no audio from the microphone")

    def stalled_since(self, stalls: int) -> None:
        """No turn came: that is only allowed when the capture stream stalled meanwhile."""
        assert self.stalls > stalls, f"no turn within 30 s: {self.err.decode()[-2000:]}"

    def press(self, key: bytes = b" ") -> None:
        os.write(self.master, key)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        os.close(self.master)


def say(virtual_audio: Any, tmp_path: Path, name: str, text: str) -> None:
    wav = write_wav(tmp_path / f"{name}.wav", silence(0.2) + piper_speech(text) + silence(0.2))
    virtual_audio.play_wav(wav).wait(30)


@pytest.fixture
def ptt_household(tmp_path: Path, household: Path) -> Path:  # noqa: F811
    return config_file(tmp_path, wake={"mode": "push_to_talk", "key": "space"})


def test_push_to_talk_then_spoken_yes_without_wake(virtual_audio: Any, ptt_household: Path, tmp_path: Path) -> None:
    listener = Listener(ptt_household, "--turns", "2")
    try:
        listener.wait_for_stderr("Ready")
        listener.press()
        listener.wait_for_stderr("listening")
        stalls = listener.stalls
        say(virtual_audio, tmp_path, "ask", "Order two packs of oat milk.")
        proposal = listener.turn(30)
        if proposal is None:
            listener.stalled_since(stalls)
            # PulseAudio sometimes stalls a new capture stream for seconds ("no audio from the microphone
            # for 2 s: reopening it"), and what was said meanwhile is lost: like a user, press and say it again.
            listener.press()  # ignored if it is still listening: then it hears the request anyway
            say(virtual_audio, tmp_path, "ask", "Order two packs of oat milk.")
            proposal = listener.turn()
        assert proposal is not None and proposal["started_by"] == "key"
        items = [
            (i["sku"], i["quantity"]) for e in proposal["events"] if e["type"] == "order_proposed" for i in e["items"]
        ]
        assert items == [("OATLY-BARISTA-1L", 2)]
        # No key, no wake word: it is still listening for the answer.
        stalls = listener.stalls
        say(virtual_audio, tmp_path, "yes", "Yes, please.")
        answer = listener.turn(30)
        if answer is None:  # the same stall, on the answer: press and say it again
            listener.stalled_since(stalls)
            listener.press()
            say(virtual_audio, tmp_path, "yes", "Yes, please.")
            answer = listener.turn()
        assert answer is not None
        assert answer["started_by"] == "follow_up" or listener.stalls > stalls  # answered without a key
        assert [e["type"] for e in answer["events"]] == ["order_placed"]
    finally:
        listener.close()
    assert len(placed(ptt_household)) == 1


def test_its_own_voice_is_never_an_answer(virtual_audio: Any, ptt_household: Path, tmp_path: Path) -> None:
    """The proposal is spoken into the very sink the microphone records; nobody answers; no order."""
    listener = Listener(ptt_household, "--turns", "2")
    try:
        listener.wait_for_stderr("Ready")
        listener.press()
        listener.wait_for_stderr("listening")
        say(virtual_audio, tmp_path, "ask", "Reorder the oat milk.")
        proposal = listener.turn()
        assert proposal is not None and proposal["expecting"] == "confirmation"
        # The follow-up window passes with only the echo of its own question in the room.
        listener.wait_for_stderr("Ready", times=2)
    finally:
        listener.close()
    assert placed(ptt_household) == []


def test_wake_word_then_request(virtual_audio: Any, household: Path, tmp_path: Path) -> None:  # noqa: F811
    config = config_file(tmp_path, wake={"mode": "wake_word", "model": "hey_jarvis"})
    listener = Listener(config, "--turns", "1")
    try:
        listener.wait_for_stderr("Ready")
        say(virtual_audio, tmp_path, "noise", "Reorder the oat milk.")  # no wake word: ignored
        say(virtual_audio, tmp_path, "wake", "Hey Jarvis.")
        listener.wait_for_stderr("listening")
        say(virtual_audio, tmp_path, "ask", "Order two packs of oat milk.")
        proposal = listener.turn()
        assert proposal is not None and proposal["started_by"] == "wake_word"
        assert proposal["turn"] == 1  # the request said before the wake word was never a turn
        assert "oat milk" in proposal["transcript"]["text"].lower()
        assert proposal["expecting"] == "confirmation"
    finally:
        listener.close()
