"""Speech models: the catalogue of official ones, packaged ones, `assistant models pull | list | verify`."""

from .catalogue import CatalogueEntry, RemoteFile, load_catalogue
from .download import Progress, pull
from .packaged import InstalledModel, packaged_models
from .store import ModelStatus, ModelStore, VerifyResult, pull_command

__all__ = [
    "CatalogueEntry",
    "InstalledModel",
    "ModelStatus",
    "ModelStore",
    "Progress",
    "RemoteFile",
    "VerifyResult",
    "load_catalogue",
    "packaged_models",
    "pull",
    "pull_command",
]
