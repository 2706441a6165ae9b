"""`assistant listen --from-file`: the whole voice pipeline on recorded speech, as a user runs it.

Speech comes from real engines (the packaged Piper voice, espeak-ng), never from text: the assistant has
to hear it (Silero VAD), transcribe it (faster-whisper tiny.en, biased by the household) and answer
aloud (Piper). Runs `python -m assistant` as a subprocess on the English demo household.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from assistant.config import PROJECT_ROOT
from assistant.nlu.client import NLUClient
from assistant.speech import HeardWord, Transcript
from assistant.stt.wavfile import read_wav, write_wav
from assistant.turn import TurnResult
from assistant.voice.cli import _show
from assistant.voice.respond import VoiceTurn
from tests.speech_helpers import espeak_speech, mix, noise, reverse, silence
from tests.speech_helpers import steady_piper_speech as piper_speech

DEMO_HISTORY = PROJECT_ROOT / "data" / "demo" / "history_en.csv"
TIMINGS = {"vad", "stt", "nlu", "skill", "tts_first_audio", "end_of_speech_to_first_audio"}

pytestmark = pytest.mark.slow


def config_file(tmp_path: Path, **sections: dict[str, object]) -> Path:
    """The project's config with absolute paths, a household in tmp_path, and overrides."""
    data = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text(encoding="utf-8"))
    data["data_dir"] = str(tmp_path / "home")
    data["skills"]["paths"] = [str(PROJECT_ROOT / "skills")]
    data["nlu"]["models_dir"] = str(PROJECT_ROOT / "models" / "nlu")
    data["nlu"]["rasa_env"] = str(PROJECT_ROOT / "nlu_service")
    data["models"]["dir"] = str(PROJECT_ROOT / "models")
    data["retailer"]["settings"]["catalogue"] = str(PROJECT_ROOT / data["retailer"]["settings"]["catalogue"])
    for name, values in sections.items():
        data[name] = {**data.get(name, {}), **values}
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def assistant(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "assistant", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=PROJECT_ROOT,
        env={**os.environ, "ASSISTANT_HOME": str(config.parent / "home")},
    )


@pytest.fixture
def household(tmp_path: Path, nlu_client: NLUClient) -> Path:
    """A config whose household has the English demo history."""
    config = config_file(tmp_path)
    imported = assistant(config, "history", "import", str(DEMO_HISTORY))
    assert imported.returncode == 0, imported.stderr
    return config


def listen(config: Path, *wavs: Path, reply: Path | None = None) -> list[dict]:  # type: ignore[type-arg]
    args = [a for w in wavs for a in ("--from-file", str(w))]
    if reply is not None:
        args += ["--reply-wav", str(reply)]
    run = assistant(config, "listen", *args, "--json")
    assert run.returncode == 0, run.stderr
    turns = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(turns) == len(wavs), run.stdout  # one JSON object per file; logs went to stderr
    return turns


def placed(config: Path) -> list[dict]:  # type: ignore[type-arg]
    run = assistant(config, "orders", "list", "--json")
    assert run.returncode == 0, run.stderr
    return [o for o in json.loads(run.stdout) if o["state"] in ("confirmed", "placed", "shipped", "delivered")]


def spoken(tmp_path: Path, name: str, pcm: bytes) -> Path:
    return write_wav(tmp_path / f"{name}.wav", silence(0.3) + pcm + silence(0.2))


def test_spoken_reorder_and_spoken_yes_place_one_order(household: Path, tmp_path: Path) -> None:
    ask = spoken(tmp_path, "ask", piper_speech("Order two packs of oat milk."))
    yes = spoken(tmp_path, "yes", piper_speech("Yes, please."))
    reply = tmp_path / "reply.wav"

    proposal, answer = listen(household, ask, yes, reply=reply)

    assert "oat milk" in proposal["transcript"]["text"].lower()
    assert proposal["transcript"]["confidence"] >= 0.6
    others = proposal["transcript"]["alternatives"]  # the recogniser's other readings, for the skill
    assert isinstance(others, list) and proposal["transcript"]["text"] not in others
    assert proposal["intent"]["name"] == "shopping.reorder"
    (event,) = [e for e in proposal["events"] if e["type"] == "order_proposed"]
    assert [(i["sku"], i["quantity"]) for i in event["items"]] == [("OATLY-BARISTA-1L", 2)]
    assert proposal["expecting"] == "confirmation"
    assert set(proposal["timings_ms"]) >= TIMINGS
    assert [e["type"] for e in answer["events"]] == ["order_placed"]
    assert [o["lines"][0]["sku"] for o in placed(household)] == ["OATLY-BARISTA-1L"]
    # Both replies were spoken: the WAV holds seconds of speech, not silence.
    audio = read_wav(reply)
    assert len(audio) / 2 / 16_000 > 3.0
    assert max(abs(int.from_bytes(audio[i : i + 2], "little", signed=True)) for i in range(0, 20000, 2)) > 0


def test_robotic_voice_is_understood_through_household_biasing(household: Path, tmp_path: Path) -> None:
    # Unbiased, tiny.en hears "we need more patted redog food" in this voice (tests/test_stt_whisper.py).
    ask = spoken(tmp_path, "ask", espeak_speech("we need more Pedigree dog food", "en-us"))
    (proposal,) = listen(household, ask)
    (event,) = [e for e in proposal["events"] if e["type"] == "order_proposed"]
    assert [i["sku"] for i in event["items"]] == ["PEDIGREE-DRY-BEEF-2.6KG"]


def test_noise_mumbling_and_its_own_voice_never_order(household: Path, tmp_path: Path) -> None:
    ask = spoken(tmp_path, "ask", piper_speech("Reorder the Oatly oat milk."))
    reply = tmp_path / "reply.wav"
    (proposal,) = listen(household, ask, reply=reply)
    assert proposal["expecting"] == "confirmation"

    own_voice = write_wav(tmp_path / "own.wav", read_wav(reply))  # the assistant hears its own question
    pink = write_wav(tmp_path / "pink.wav", noise(3.0, "pink", 0.1))
    yes = piper_speech("Yes.")
    mumbled = write_wav(tmp_path / "mumble.wav", silence(0.3) + reverse(yes) + silence(0.3))
    drowned = write_wav(tmp_path / "drowned.wav", mix(silence(0.3) + yes + silence(0.3), noise(1.5, "white", 0.5)))

    turns = listen(household, ask, own_voice, pink, mumbled, drowned)

    assert not [e for t in turns for e in t["events"] if e["type"] == "order_placed"]
    assert placed(household) == []
    # Its own question was heard and transcribed, and was not taken for an answer.
    assert "order" in turns[1]["transcript"]["text"].lower()


def test_silent_file_is_answered_not_acted_on(household: Path, tmp_path: Path) -> None:
    quiet = write_wav(tmp_path / "quiet.wav", silence(2.0))
    (turn,) = listen(household, quiet)
    assert turn["transcript"]["text"] == ""
    assert [e["type"] for e in turn["events"]] == ["not_heard"]
    assert "didn't catch" in turn["reply"]


def test_unreadable_file_gives_one_line(household: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio")
    run = assistant(household, "listen", "--from-file", str(bad), "--json")
    assert run.returncode == 1
    assert run.stderr.strip().count("\n") == 0 and "bad.wav" in run.stderr


def test_debug_lines_of_a_spoken_turn_show_the_words_and_the_other_readings(
    capsys: pytest.CaptureFixture[str],
) -> None:
    heard = Transcript(
        "order more done so",
        0.76,
        "en",
        "whisper",
        1.5,
        480.0,
        words=(HeardWord("order", 0, 5, 0.47), HeardWord("more", 6, 10, 0.96)),
        alternatives=("order more done sold", "order more done soon"),
    )
    result = TurnResult(1, "en", heard.text, None, (), "shopping", "I couldn't find it.", None, (), {"nlu": 9.0})
    debug = argparse.Namespace(json=False, debug=True)
    _show(VoiceTurn(result, heard, {"stt": 480.0}), debug)
    out = capsys.readouterr().out
    assert "you> order more done so   [whisper 0.76]" in out
    assert "words: order 0.47  more 0.96" in out
    assert "also heard: order more done sold | order more done soon" in out
    assert "stt=480.0ms" in out and "assistant> I couldn't find it." in out
    _show(VoiceTurn(result, replace(heard, alternatives=()), {}), debug)
    assert "also heard" not in capsys.readouterr().out
