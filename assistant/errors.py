"""One root error type with a stable code, so the CLI and the voice loop can report any failure in one line."""

from __future__ import annotations


class AssistantError(Exception):
    """Root of every error the assistant raises on purpose.

    `code` is stable (scripts and tests match on it); the message says what went
    wrong and, where there is one, the command or edit that fixes it.
    """

    code = "assistant_error"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(AssistantError):
    """config.yml (or an override) is malformed: names the key path and what was expected."""

    code = "config_invalid"


class StorageError(AssistantError):
    """The household database cannot be opened, migrated or written."""

    code = "storage_failed"


class HistoryImportError(AssistantError):
    """An order-history file was rejected; nothing from it was imported."""

    code = "history_import_failed"

    def __init__(self, message: str, problems: list[str] | None = None, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.problems = problems or []


class NLUError(AssistantError):
    """The NLU service could not be trained, started, reached or understood."""

    code = "nlu_failed"


class NLUNotReady(NLUError):
    """The NLU service is up but still loading its models."""

    code = "nlu_loading"


class SkillError(AssistantError):
    """A skill is malformed (bad NLU data, missing handler or template) or failed while handling a turn."""

    code = "skill_failed"


class RetailerError(AssistantError):
    """A retailer call failed. `retry_safe` says whether the same call may be sent again."""

    code = "retailer_failed"

    def __init__(self, message: str, *, retry_safe: bool = False, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retry_safe = retry_safe


class RetailerUnavailable(RetailerError):
    """The retailer did not answer in time or refused the connection."""

    code = "retailer_unavailable"


class OrderError(AssistantError):
    """An order cannot move to the requested state (e.g. placing one that was never confirmed)."""

    code = "order_invalid"


class SpeechError(AssistantError):
    """Speech-to-text or text-to-speech failed: an engine error, or audio that cannot be read."""

    code = "speech_failed"


class ModelError(AssistantError):
    """A speech model is not installed; the message names the command that installs it."""

    code = "model_missing"


class ModelCorrupt(ModelError):
    """A model's files do not match their checksums or cannot be loaded; the message names the fix."""

    code = "model_corrupt"


class DownloadError(AssistantError):
    """A model download failed (network, HTTP status, disk); what was downloaded is kept to resume."""

    code = "download_failed"


class AudioError(AssistantError):
    """A microphone or speaker cannot be found, opened or kept running; the message names the fix."""

    code = "audio_failed"
