"""Voice-path benchmark: synthesised spoken commands through `assistant listen --from-file`.

Every command of bench/data/voice_<lang>.yml is spoken by two of several voices (the packaged Piper
voice at two speeds, espeak-ng's robotic voices), every fourth sample with pink noise at 15 dB SNR,
then the whole batch goes through ONE `assistant listen --from-file ... --json` process on a copy of
the demo household, as a user would run it: Silero VAD, faster-whisper biased by the household, Rasa,
the shopping skill, Piper. Each command is answered "No." (Piper), as a user turning the proposal down
would, so the next command starts a fresh conversation; `--back-to-back` says the commands one after
the other instead, each while the previous proposal is still open. Each turn's JSON gives the
transcript, the proposed product and the stage timings; the process's peak memory comes from wait4().

Then commands for 20 products the household never bought, by the same voices: no household product
may be proposed for them (the bias toward the household's words must not pull them in).

Then the false-accept check: after each of a few proposals, the answer is noise, mumbling (reversed
speech), speech drowned in noise, or the assistant's own reply played back. Orders placed must be 0.

    uv run --frozen python bench/voice.py [--lang en] [--limit N] [--back-to-back] [--json] [--verbose]

"Clean" = Piper voices without noise. End of speech → first audio includes the endpointer's trailing
silence (config listen.trailing_silence_ms).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from assistant.stt.wavfile import read_wav, write_wav  # noqa: E402
from tests.speech_helpers import espeak_speech, mix, noise, normalise, piper_speech, reverse, silence  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"
RATE = 16_000
VOICES = ("piper", "espeak:en-us", "piper-fast", "espeak:en-gb", "espeak:en-us+f3")


@dataclass(frozen=True)
class Sample:
    """One synthesised command."""

    text: str
    """What was said."""
    sku: str
    """The product that must be proposed."""
    voice: str
    """Which voice said it."""
    noisy: bool
    """Pink noise added at 15 dB SNR."""
    path: Path
    """The WAV file."""

    @property
    def clean(self) -> bool:
        return self.voice.startswith("piper") and not self.noisy


def speak(text: str, voice: str) -> bytes:
    if voice == "piper":
        return piper_speech(text)
    if voice == "piper-fast":
        return piper_speech(text, length_scale=0.8)
    return espeak_speech(text, voice.split(":", 1)[1])


def with_noise(pcm: bytes, snr_db: float = 15.0, seed: int = 0) -> bytes:
    speech = np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768
    level = float(np.sqrt(np.mean(speech**2))) / (10 ** (snr_db / 20))
    return mix(pcm, noise(len(pcm) / 2 / RATE, "pink", level, seed=seed))


def make_samples(lang: str, folder: Path, limit: int | None, kind: str = "commands") -> list[Sample]:
    """Two voices for each of the first `limit` entries of `kind` in voice_<lang>.yml: `commands` (with
    the product to propose) or `not_bought` (plain sentences: nothing of the household's may be proposed)."""
    entries = yaml.safe_load((DATA / f"voice_{lang}.yml").read_text(encoding="utf-8"))[kind]
    samples = []
    for k, entry in enumerate(entries[:limit]):
        cmd = entry if isinstance(entry, dict) else {"text": entry, "sku": ""}
        for j in range(2):
            n = 2 * k + j
            voice, noisy = VOICES[n % len(VOICES)], n % 4 == 3
            pcm = speak(cmd["text"], voice)
            pcm = silence(0.3) + (with_noise(pcm, seed=n) if noisy else pcm) + silence(0.2)
            path = write_wav(folder / f"{kind}{n:03d}.wav", pcm)
            samples.append(Sample(cmd["text"], cmd["sku"], voice, noisy, path))
    return samples


def wer(reference: str, hypothesis: str) -> tuple[int, int]:
    """Word edits and reference length."""
    ref, hyp = normalise(reference).split(), normalise(hypothesis).split()
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[len(hyp)], len(ref)


def run_listen(config: Path, wavs: list[Path], reply: Path | None = None) -> tuple[list[dict[str, Any]], float]:
    """The JSON turns of one `assistant listen --from-file ...` process, and its peak RSS in MiB."""
    args = [a for w in wavs for a in ("--from-file", str(w))]
    if reply is not None:
        args += ["--reply-wav", str(reply)]
    cmd = [sys.executable, "-m", "assistant", "--config", str(config), "listen", *args, "--json", "--realtime"]
    env = {**os.environ, "ASSISTANT_HOME": str(config.parent / "home")}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=ROOT, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode:
            sys.exit(f"assistant listen failed ({proc.returncode}):\n{err.read().decode()[-3000:]}")
        turns = [json.loads(line) for line in out.read().decode().splitlines()]
    return turns, usage.ru_maxrss / 1024


def household(folder: Path, lang: str) -> Path:
    from tests.test_voice_listen import config_file

    config = config_file(folder)
    env = {**os.environ, "ASSISTANT_HOME": str(folder / "home")}
    history = ROOT / "data" / "demo" / f"history_{lang}.csv"
    subprocess.run(
        [sys.executable, "-m", "assistant", "--config", str(config), "history", "import", str(history)],
        check=True,
        capture_output=True,
        cwd=ROOT,
        env=env,
    )
    return config


def proposed(turn: dict[str, Any]) -> list[str]:
    """The products proposed, or found but out of stock at the shop (the demo shop has no crisps): either
    way the assistant understood which product was meant."""
    found = [i["sku"] for e in turn["events"] if e["type"] == "order_proposed" for i in e["items"]]
    return found + [e["sku"] for e in turn["events"] if e["type"] == "out_of_stock"]


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def summarise(samples: list[Sample], turns: list[dict[str, Any]]) -> dict[str, Any]:
    rows = list(zip(samples, turns, strict=True))
    edits = [wer(s.text, t["transcript"]["text"]) for s, t in rows]
    right = [proposed(t) == [s.sku] for s, t in rows]
    timing = {
        k: [t["timings_ms"][k] for _, t in rows if k in t["timings_ms"]]
        for k in ("stt", "nlu", "skill", "tts_first_audio", "end_of_speech_to_first_audio", "vad")
    }
    rtf = [t["timings_ms"]["stt"] / 1000 / t["transcript"]["audio_s"] for _, t in rows if t["transcript"]["audio_s"]]
    by_voice = {}
    for voice in sorted({s.voice for s in samples}):
        picked = [r for (s, _), r in zip(rows, right, strict=True) if s.voice == voice]
        by_voice[voice] = f"{sum(picked)}/{len(picked)}"
    clean = [r for (s, _), r in zip(rows, right, strict=True) if s.clean]
    noisy = [r for (s, _), r in zip(rows, right, strict=True) if s.noisy]
    return {
        "samples": len(rows),
        "accuracy": sum(right) / len(right),
        "accuracy_clean": sum(clean) / len(clean) if clean else float("nan"),
        "accuracy_noisy": sum(noisy) / len(noisy) if noisy else float("nan"),
        "by_voice": by_voice,
        "wer": sum(e for e, _ in edits) / max(1, sum(n for _, n in edits)),
        "stt_rtf_p50": pct(rtf, 50),
        "stt_ms_p50": pct(timing["stt"], 50),
        "tts_first_audio_ms_p50": pct(timing["tts_first_audio"], 50),
        "tts_first_audio_ms_p95": pct(timing["tts_first_audio"], 95),
        "e2fa_ms_p50": pct(timing["end_of_speech_to_first_audio"], 50),
        "e2fa_ms_p95": pct(timing["end_of_speech_to_first_audio"], 95),
        "nlu_ms_p50": pct(timing["nlu"], 50),
        "skill_ms_p50": pct(timing["skill"], 50),
        "vad_ms_p50": pct(timing["vad"], 50),
        "misses": [
            {
                "said": s.text,
                "voice": s.voice,
                "noisy": s.noisy,
                "heard": t["transcript"]["text"],
                "confidence": t["transcript"]["confidence"],
                "proposed": proposed(t),
                "reply": t["reply"],
            }
            for (s, t), r in zip(rows, right, strict=True)
            if not r
        ],
    }


def false_accepts(config: Path, folder: Path, samples: list[Sample]) -> dict[str, int]:
    """Proposals answered by noise, mumbling, drowned speech and the assistant's own voice."""
    yes = speak("Yes, please.", "piper")
    answers = {
        "pink_noise": noise(2.0, "pink", 0.1, seed=7),
        "mumble": silence(0.3) + reverse(yes) + silence(0.3),
        "drowned": mix(silence(0.3) + yes + silence(0.3), noise(2.0, "white", 0.5, seed=8)),
    }
    placed = tried = 0
    for k, sample in enumerate(s for s in samples if s.clean):
        if k >= 4:
            break
        reply = folder / f"reply{k}.wav"
        run_listen(config, [sample.path], reply)
        wavs = [write_wav(folder / f"{name}{k}.wav", pcm) for name, pcm in answers.items()]
        wavs.append(write_wav(folder / f"own{k}.wav", read_wav(reply)))
        turns, _ = run_listen(config, [sample.path, *wavs])
        tried += len(wavs)
        placed += sum(e["type"] == "order_placed" for t in turns for e in t["events"])
    return {"answers": tried, "orders_placed": placed}


def never_bought(config: Path, samples: list[Sample]) -> dict[str, Any]:
    """Commands for products the household never bought, in one process: how many got a household
    product proposed (the rest should be "I couldn't find …" or a question)."""
    turns, _ = run_listen(config, [s.path for s in samples])
    wrong = [
        {"said": s.text, "voice": s.voice, "heard": t["transcript"]["text"], "proposed": proposed(t)}
        for s, t in zip(samples, turns, strict=True)
        if proposed(t)
    ]
    return {"samples": len(samples), "proposed": len(wrong), "examples": wrong}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lang", default="en", choices=["en"], help="only English: no French voice/STT is packaged")
    parser.add_argument("--limit", type=int, help="only the first N commands")
    parser.add_argument(
        "--back-to-back",
        action="store_true",
        help='say each command while the previous proposal is open, instead of answering it "No."',
    )
    parser.add_argument("--save-turns", type=Path, metavar="FILE", help="write every turn's JSON to FILE")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--verbose", action="store_true", help="list every miss")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-voice-"))
    try:
        print("synthesising commands…", file=sys.stderr)
        samples = make_samples(args.lang, work, args.limit)
        config = household(work, args.lang)
        print(f"running assistant listen on {len(samples)} files…", file=sys.stderr)
        if args.back_to_back:
            turns, rss = run_listen(config, [s.path for s in samples])
            all_turns, answers = turns, []
        else:
            no = write_wav(work / "no.wav", silence(0.3) + speak("No.", "piper") + silence(0.2))
            all_turns, rss = run_listen(config, [w for s in samples for w in (s.path, no)])
            turns, answers = all_turns[0::2], all_turns[1::2]
        if args.save_turns:  # every turn of the run, answers included, one JSON object per line
            args.save_turns.write_text("".join(json.dumps(t) + "\n" for t in all_turns), encoding="utf-8")
        result = summarise(samples, turns)
        result["protocol"] = "back to back" if args.back_to_back else 'each command answered "No."'
        result["orders_placed"] = sum(e["type"] == "order_placed" for t in turns + answers for e in t["events"])
        result["left_open_by_no"] = sum(t["expecting"] is not None for t in answers) if answers else None
        result["peak_rss_mib"] = rss
        print("false-accept check…", file=sys.stderr)
        result["false_accepts"] = false_accepts(config, work, samples)
        print("products never bought…", file=sys.stderr)
        result["never_bought"] = never_bought(config, make_samples(args.lang, work, args.limit, "not_bought"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result["machine"] = f"{platform.machine()}, {os.cpu_count()} cores"
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print_table(result, args.verbose)
    return 0


def print_table(r: dict[str, Any], verbose: bool) -> None:
    rows = [
        ("samples (commands × voices)", f"{r['samples']} ({r['protocol']})"),
        (
            "right product proposed: all / clean / noisy",
            f"{r['accuracy']:.3f} / {r['accuracy_clean']:.3f} / {r['accuracy_noisy']:.3f}",
        ),
        ("… by voice", ", ".join(f"{v} {n}" for v, n in r["by_voice"].items())),
        ("word error rate", f"{r['wer']:.3f}"),
        ("STT real-time factor p50 (ms p50)", f"{r['stt_rtf_p50']:.3f} ({r['stt_ms_p50']:.0f} ms)"),
        (
            "TTS time to first audio p50 / p95",
            f"{r['tts_first_audio_ms_p50']:.0f} / {r['tts_first_audio_ms_p95']:.0f} ms",
        ),
        ("end of speech → first audio p50 / p95", f"{r['e2fa_ms_p50']:.0f} / {r['e2fa_ms_p95']:.0f} ms"),
        (
            "  of which nlu / skill / vad p50",
            f"{r['nlu_ms_p50']:.0f} / {r['skill_ms_p50']:.0f} / {r['vad_ms_p50']:.0f} ms",
        ),
        ("peak RSS of assistant listen", f"{r['peak_rss_mib']:.0f} MiB"),
        ("orders placed during the commands", f"{r['orders_placed']}"),
        ('questions a "No." left open', f"{r['left_open_by_no'] if r['left_open_by_no'] is not None else 'n/a'}"),
        (
            "household product proposed for one never bought",
            f"{r['never_bought']['proposed']} of {r['never_bought']['samples']}",
        ),
        (
            "orders from noise / mumble / own voice",
            f"{r['false_accepts']['orders_placed']} of {r['false_accepts']['answers']} answers",
        ),
    ]
    width = max(len(k) for k, _ in rows)
    print(f"| {'measure':<{width}} | result |\n|{'-' * (width + 2)}|---:|")
    for k, v in rows:
        print(f"| {k:<{width}} | {v} |")
    if verbose:
        for miss in r["misses"]:
            print(f"miss: {miss}")
        for wrong in r["never_bought"]["examples"]:
            print(f"never bought, yet proposed: {wrong}")
    print(f"machine: {r['machine']}")


if __name__ == "__main__":
    sys.exit(main())
