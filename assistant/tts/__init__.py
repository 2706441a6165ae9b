"""Text-to-speech: replies cut into sentences and spoken by Piper, the first sentence as soon as it is ready."""

from .piper import ClipCache, PiperTTS, clips_to_wav, write_wav
from .sentences import first_clause, split_sentences

__all__ = ["ClipCache", "PiperTTS", "clips_to_wav", "first_clause", "split_sentences", "write_wav"]
