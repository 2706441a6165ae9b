"""`assistant models pull`: download with resume, check every hash, install atomically.

Each file streams into `models/downloads/<name>/<file>.part`. An interrupted pull resumes with an
HTTP Range request (a server that ignores it sends the whole file again, and the part is restarted).
A file whose size or hash is wrong is deleted and the pull fails saying so. Zips are unpacked into a
temporary folder next to the target, the manifest is written, and the folder is renamed into place.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import httpx

from ..errors import DownloadError, ModelCorrupt, ModelError
from .catalogue import CatalogueEntry, RemoteFile
from .packaged import InstalledModel
from .store import MANIFEST, ModelStore, file_digest, pull_command

log = logging.getLogger(__name__)

_BLOCK = 1 << 16


@dataclass(frozen=True)
class Progress:
    """How far a download has got."""

    name: str
    """The file being downloaded."""
    done: int
    """Bytes on disk so far (including what an earlier attempt left)."""
    total: int
    """Expected size in bytes."""
    rate: float
    """Bytes per second over this attempt."""


ProgressFn = Callable[[Progress], None]


def pull(
    store: ModelStore,
    name: str,
    *,
    force: bool = False,
    progress: ProgressFn | None = None,
    client: httpx.Client | None = None,
) -> InstalledModel:
    """Install catalogue model `name` (nothing to do if it is installed and intact, unless `force`)."""
    entry = store.catalogue.get(name)
    if entry is None:
        known = store.packaged.get(name)
        if known is not None:
            return known
        raise ModelError(f"unknown model {name!r} (see: assistant models list)")
    target = store.folder(entry)
    if (target / MANIFEST).exists() and not force and not _size_problems(target):
        log.info("%s is already installed in %s", name, target)
        return _installed(store, name)
    workdir = store.downloads / name
    workdir.mkdir(parents=True, exist_ok=True)
    own = client is None
    http = client or httpx.Client(follow_redirects=True, timeout=httpx.Timeout(30.0, read=60.0))
    try:
        files = [_download(http, remote, workdir, progress) for remote in entry.files]
    finally:
        if own:
            http.close()
    _install(entry, files, target)
    shutil.rmtree(workdir, ignore_errors=True)
    return _installed(store, name)


def _installed(store: ModelStore, name: str) -> InstalledModel:
    model = store.installed(name)
    assert model is not None  # just installed
    return model


def _size_problems(folder: Path) -> bool:
    """Cheap check of an installed model: every manifest file present with its size."""
    try:
        files = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["files"]
        return any(
            not (folder / rel).is_file() or (folder / rel).stat().st_size != m["size"] for rel, m in files.items()
        )
    except (OSError, ValueError, KeyError, TypeError):
        return True


def _download(http: httpx.Client, remote: RemoteFile, workdir: Path, progress: ProgressFn | None) -> Path:
    """One file into `workdir`, resumed if a part is there; checked against its size and hashes."""
    final = workdir / remote.filename
    if final.exists() and final.stat().st_size == remote.size:
        return final  # downloaded and checked by an earlier, interrupted pull
    part = workdir / (remote.filename + ".part")
    have = part.stat().st_size if part.exists() else 0
    if have > remote.size:
        part.unlink()
        have = 0
    if have < remote.size:
        _fetch(http, remote, part, have, progress)
    _check(remote, part)
    os.replace(part, final)
    return final


def _fetch(http: httpx.Client, remote: RemoteFile, part: Path, have: int, progress: ProgressFn | None) -> None:
    headers = {"Range": f"bytes={have}-"} if have else {}
    try:
        with http.stream("GET", remote.url, headers=headers) as response:
            if response.status_code == 416 and have:
                return  # nothing left to send: the size check decides
            if response.status_code not in (200, 206):
                raise DownloadError(f"{remote.url}: HTTP {response.status_code}")
            if have and (response.status_code != 206 or not _range_starts_at(response, have)):
                log.info("%s: the server does not resume; downloading it again", remote.filename)
                have = 0
            _write(response, part, have, remote, progress)
    except httpx.HTTPError as err:
        raise DownloadError(
            f"downloading {remote.filename} failed ({err or type(err).__name__}); run the same command to resume"
        ) from err


def _range_starts_at(response: httpx.Response, offset: int) -> bool:
    value = response.headers.get("content-range", "")  # "bytes 100-999/1000"
    try:
        return int(value.split()[1].split("-")[0]) == offset
    except (IndexError, ValueError):
        return False


def _write(response: httpx.Response, part: Path, have: int, remote: RemoteFile, progress: ProgressFn | None) -> None:
    started, done = time.monotonic(), have
    with part.open("ab" if have else "wb") as fh:
        for block in response.iter_bytes():  # as it arrives: an interrupted pull keeps every byte received
            fh.write(block)
            done += len(block)
            if done > remote.size:
                break  # more than promised: the size check will reject it
            if progress:
                elapsed = max(time.monotonic() - started, 1e-6)
                progress(Progress(remote.filename, done, remote.size, (done - have) / elapsed))


def _check(remote: RemoteFile, part: Path) -> None:
    size = part.stat().st_size
    if size < remote.size:
        raise DownloadError(
            f"{remote.filename}: the download stopped at {size} of {remote.size} bytes; run the same command to resume"
        )
    expected = [(algo, value) for algo, value in (("sha256", remote.sha256), ("md5", remote.md5)) if value]
    wrong = [algo for algo, value in expected if file_digest(part, algo) != value] if size == remote.size else ["size"]
    if wrong:
        part.unlink()
        what = "size" if wrong == ["size"] else wrong[0].upper()
        raise ModelCorrupt(
            f"{remote.filename} does not match its {what} in the catalogue; the download was deleted "
            f"(retry, or check the mirror: {remote.url})"
        )


def _install(entry: CatalogueEntry, files: list[Path], target: Path) -> None:
    """Unpack or copy into a temporary folder beside `target`, write the manifest, rename into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{entry.name}.", dir=target.parent))
    try:
        if entry.archive_root is not None:
            _unzip(files[0], staging, entry.archive_root, entry.name)
        else:
            for path in files:
                shutil.copyfile(path, staging / path.name)
        _write_manifest(entry, staging)
        if target.exists():
            old = target.with_name(f".{target.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(target, old)
            os.replace(staging, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _unzip(archive: Path, dest: Path, root: str, name: str) -> None:
    """Extract the members under `root/` into `dest`, refusing paths that would escape it."""
    try:
        with zipfile.ZipFile(archive) as zf:
            members = [m for m in zf.infolist() if PurePosixPath(m.filename).parts[:1] == (root,)]
            if not members:
                raise ModelCorrupt(f"{archive.name} has no folder {root}/ (run: {pull_command(name, True)})")
            for member in members:
                rel = PurePosixPath(*PurePosixPath(member.filename).parts[1:])
                if not rel.parts or member.is_dir():
                    continue
                if rel.is_absolute() or ".." in rel.parts:
                    raise ModelCorrupt(f"{archive.name}: unsafe path {member.filename!r} in the archive")
                out = dest.joinpath(*rel.parts)
                out.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(member) as src, out.open("wb") as dst:
                    shutil.copyfileobj(src, dst, _BLOCK)
    except zipfile.BadZipFile as err:
        raise ModelCorrupt(f"{archive.name} is not a valid zip ({err})") from err


def _write_manifest(entry: CatalogueEntry, folder: Path) -> None:
    files = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        files[path.relative_to(folder).as_posix()] = {"size": path.stat().st_size, "sha256": file_digest(path)}
    manifest = {
        "name": entry.name,
        "kind": entry.kind,
        "langs": list(entry.langs),
        "installed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "sources": [f.url for f in entry.files],
        "files": files,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
