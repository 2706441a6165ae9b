"""Speech-to-text: Vosk and faster-whisper adapters, biased toward the household's words."""

from .build import PerLanguageSTT, build_stt, plan_engines
from .vocabulary import household_vocabulary
from .vosk import VoskSTT
from .whisper import WhisperSTT

__all__ = ["PerLanguageSTT", "VoskSTT", "WhisperSTT", "build_stt", "household_vocabulary", "plan_engines"]
