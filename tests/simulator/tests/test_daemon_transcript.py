"""Transcript lines and -EncodedCommand decoding."""

from __future__ import annotations

import base64
import json
import threading
from pathlib import Path

import pytest
from hvsim.transcript import TranscriptWriter, decode_encoded_command, read_transcript


def encoded(script: str) -> str:
    return base64.b64encode(script.encode("utf-16-le")).decode()


@pytest.mark.parametrize("flag", ["-EncodedCommand", "-encodedcommand", "-enc", "-e", "-EC"])
def test_encoded_command_is_decoded_whatever_the_flag_spelling(flag: str) -> None:
    script = "$x = 1; Write-Output \u2018é\u2019"
    line = f"PowerShell -NoProfile -NonInteractive {flag} {encoded(script)}"
    assert decode_encoded_command(line) == script


@pytest.mark.parametrize("line", ["ipconfig /all", "PowerShell -EncodedCommand", "PowerShell -enc !!notbase64!!"])
def test_no_script_when_there_is_no_valid_encoded_command(line: str) -> None:
    assert decode_encoded_command(line) is None


def test_record_writes_one_json_line_per_command_with_secrets_unmasked(tmp_path: Path) -> None:
    writer = TranscriptWriter(tmp_path)
    line = f"PowerShell -EncodedCommand {encoded('& $input')}"
    writer.record("hv01", line, b'{"password": "S3cret!"}', 0, b"ok\r\n", b"", 0.0123)
    writer.record("hv01", "whoami", b"", 1, b"", "\xff".encode("latin-1"), 0.5)
    entries = read_transcript(tmp_path / "hv01.jsonl")
    assert [e["command_line"] for e in entries] == [line, "whoami"]
    assert entries[0]["script"] == "& $input"
    assert entries[0]["stdin"] == '{"password": "S3cret!"}'
    assert (entries[0]["rc"], entries[0]["stdout"], entries[0]["duration_s"]) == (0, "ok\r\n", 0.0123)
    assert entries[1]["stderr"] == "\ufffd"  # undecodable bytes do not break the transcript
    assert set(entries[0]) == {"time", "host", "user", "command_line", "script", "stdin", "rc", "stdout", "stderr", "duration_s"}
    assert entries[0]["user"] is None


def test_concurrent_records_never_interleave(tmp_path: Path) -> None:
    writer = TranscriptWriter(tmp_path)
    big = "x" * 100_000

    def work(n: int) -> None:
        for i in range(10):
            writer.record("hv01", f"cmd {n}-{i}", big.encode(), 0, b"", b"", 0.0)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = (tmp_path / "hv01.jsonl").read_text().splitlines()
    assert len(lines) == 40
    assert all(json.loads(line)["stdin"] == big for line in lines)
