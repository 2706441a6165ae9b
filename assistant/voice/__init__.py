"""The voice path: microphone → wake word → endpoint → speech-to-text → conversation → Piper → speaker."""

from .loop import Mode, Status, VoiceLoop
from .respond import Responder, VoiceTurn

__all__ = ["Mode", "Responder", "Status", "VoiceLoop", "VoiceTurn"]
