from __future__ import annotations

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner
from conftest import EPOCH, GOLDEN, ROOT, WEB, WILSON

from toolkit import __version__
from toolkit.cli import main


def run(*args: str, epoch: str | None = EPOCH):
    env = {"SOURCE_DATE_EPOCH": epoch} if epoch else {}
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_version():
    result = run("--version")
    assert result.output == f"toolkit, version {__version__}\n"


def test_python_m_toolkit_works():
    out = subprocess.run(
        [sys.executable, "-m", "toolkit", "--help"], capture_output=True, text=True, check=True
    )
    assert "convert" in out.stdout


@pytest.mark.parametrize("path", [WILSON, WEB], ids=["wilson", "web"])
def test_convert_matches_golden(tmp_path, path):
    result = run("convert", str(path), "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    produced = (tmp_path / f"{path.stem}.xml").read_bytes()
    golden = GOLDEN / f"{path.stem}.convert.xml"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_bytes(produced)
    assert produced == golden.read_bytes()


def test_convert_is_reproducible(tmp_path):
    """The installed command, run twice in separate processes (other hash seed, time zone and
    working folder) with one SOURCE_DATE_EPOCH, writes identical bytes; another epoch changes
    the timestamps and nothing else."""
    import subprocess
    import sys

    def convert_in_process(out: str, seed: str, tz: str, epoch: str) -> bytes:
        env = {**os.environ, "PYTHONHASHSEED": seed, "TZ": tz, "SOURCE_DATE_EPOCH": epoch}
        (tmp_path / out).mkdir()
        subprocess.run(
            [sys.executable, "-m", "toolkit", "convert", str(WILSON), "-o", "."],
            cwd=tmp_path / out,
            env=env,
            capture_output=True,
            check=True,
        )
        return (tmp_path / out / f"{WILSON.stem}.xml").read_bytes()

    a = convert_in_process("a", "1", "UTC", "1700000000")
    b = convert_in_process("b", "2", "America/Lima", "1700000000")
    c = convert_in_process("c", "1", "UTC", "1000000000")
    assert a == b
    assert c != a
    assert c.replace(b"2001-09-09T01:46:40Z", b"2023-11-14T22:13:20Z") == a


def test_bad_inputs_are_reported_and_the_rest_converted(tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
    (tmp_path / "dir").mkdir()
    out = tmp_path / "out"
    result = run(
        "convert",
        str(tmp_path / "missing.txt"),
        str(tmp_path / "empty.txt"),
        str(WILSON),
        str(tmp_path / "binary.txt"),
        str(tmp_path / "dir"),
        "-o",
        str(out),
    )
    assert result.exit_code == 1
    errors = result.stderr.splitlines()
    assert errors == [
        f"error: {tmp_path / 'missing.txt'}: [E101] no such file; check the path",
        f"error: {tmp_path / 'empty.txt'}: [E102] the file is empty; give a text file with content",
        f"error: {tmp_path / 'binary.txt'}: [E103] this looks like a binary file, not text; "
        "convert it to plain text first",
        f"error: {tmp_path / 'dir'}: [E101] is a directory; give the files inside it, "
        "e.g. DIR/*.txt",
        "1 of 5 file(s) converted; 4 failed",
    ]
    assert [p.name for p in out.iterdir()] == [f"{WILSON.stem}.xml"]


def test_undecodable_with_forced_encoding(tmp_path):
    bad = tmp_path / "latin.txt"
    bad.write_bytes("Title\n\nCafé".encode("latin-1"))
    result = run("convert", str(bad), "--encoding", "utf-8", "-o", str(tmp_path))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        f"error: {bad}:3: [E105] byte 0xe9 at offset 10 is not valid utf-8; "
        "fix the file or pass the right --encoding"
    )


def test_bad_epoch_is_a_usage_error(tmp_path):
    result = run("convert", str(WILSON), "-o", str(tmp_path), epoch="yesterday")
    assert result.exit_code == 2
    assert "[E901] SOURCE_DATE_EPOCH='yesterday' is not a whole number" in result.stderr


def test_no_temp_files_are_left(tmp_path):
    run("convert", str(WILSON), str(WEB), "-o", str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"{WILSON.stem}.xml", f"{WEB.stem}.xml"]
    )


def test_readme_documents_every_command():
    readme = (ROOT / "README.md").read_text()
    for name, command in main.commands.items():
        assert f"toolkit {name}" in readme, f"README lacks an example of 'toolkit {name}'"
        assert command.help, f"'toolkit {name}' has no help text"
