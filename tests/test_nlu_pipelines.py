"""The `intent_crf` pipeline: its slot tagger reads the predicted intent (nlu_service/intent_crf.py).

Trains a real model through the framework into a temp models folder and serves it from a temp worker on
a free port; the household's service is never touched."""

from __future__ import annotations

from pathlib import Path

from assistant.config import PROJECT_ROOT, load_config
from assistant.nlu.data import NLUSource
from assistant.nlu.heldout import free_port
from assistant.nlu.pipelines import pipeline_config
from assistant.nlu.service import connect, stop

#: Two intents told apart only by their first word, six words before the slot: beyond the CRF's
#: window of three, so a tagger that ignores the intent cannot know which slot name to give.
FILLER = "please do this thing right now for"
ALPHA = ("Oslo", "Lima", "Quito", "Dakar", "Hanoi", "Riga", "Accra", "Doha")
BETA = ("Mango", "Kiwi", "Lemon", "Peach", "Grape", "Melon", "Plum", "Guava")


def nlu_yaml() -> str:
    lines = ['version: "3.1"', "nlu:", "- intent: alpha", "  examples: |"]
    lines += [f"    - alpha {FILLER} [{v}](place)" for v in ALPHA]
    lines += ["- intent: beta", "  examples: |"]
    lines += [f"    - beta {FILLER} [{v}](fruit)" for v in BETA]
    return "\n".join(lines) + "\n"


def test_intent_crf_pipeline_uses_the_custom_component() -> None:
    config = pipeline_config("intent_crf", "en")
    assert "intent_crf.IntentCRFEntityExtractor" in config
    assert config.index("LogisticRegressionClassifier") < config.index("IntentCRFEntityExtractor")


async def test_slot_name_follows_the_predicted_intent(tmp_path: Path) -> None:
    data = tmp_path / "en.yml"
    data.write_text(nlu_yaml(), encoding="utf-8")
    overrides = {
        "languages": ["en"],
        "nlu": {"models_dir": str(tmp_path / "models"), "port": free_port(), "pipeline": "intent_crf"},
    }
    config = load_config(PROJECT_ROOT / "config.yml", overrides=overrides)
    client = await connect(config, [NLUSource("tiny", "en", data)], lambda _: None)
    try:
        for first, slot in (("alpha", "place"), ("beta", "fruit")):
            result = await client.parse(f"{first} {FILLER} Zebra", "en")  # a value seen in neither intent
            assert result.intent is not None and result.intent.name == f"tiny.{first}"
            assert [(e.entity, e.value) for e in result.entities] == [(slot, "Zebra")], result.entities
    finally:
        await client.aclose()
        stop(config)
