"""Bad list files through the real CLI: one clear line naming the file, the
line or field and what was expected; exit 2; the active snapshots untouched."""

from __future__ import annotations

import shutil

import pytest

from clearance.store import open_store, verify

from .conftest import LISTS, run_cli

SDN = LISTS / "us-ofac-sdn" / "2021-07"
UN = LISTS / "un-sc" / "2026-02" / "consolidated.xml"


def _state():
    store = open_store(initialise=False)
    state = {s.source: (s.id, s.content_hash) for s in store.active_snapshots()}
    store.engine.dispose()
    return state


def _sdn_copy(tmp_path):
    folder = tmp_path / "sdn"
    shutil.copytree(SDN, folder)
    for f in folder.iterdir():
        f.chmod(0o644)
    return folder


def _assert_refused(args, *fragments):
    before = _state()
    result = run_cli("lists", "import", *args)
    assert result.returncode == 2, result.stdout + result.stderr
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1, message
    for fragment in fragments:
        assert fragment in message, message
    assert "Traceback" not in result.stderr
    assert _state() == before
    assert verify(open_store(initialise=False)) == []
    return message


def test_truncated_csv(copy_of_bundled, tmp_path):
    folder = _sdn_copy(tmp_path)
    data = (folder / "sdn.csv").read_bytes()
    cut = data.index(b'"', len(data) // 2) + 5  # inside a quoted field
    (folder / "sdn.csv").write_bytes(data[:cut])
    _assert_refused([str(folder), "--source", "us-ofac-sdn"], "sdn.csv", "line")


def test_wrong_column_count(copy_of_bundled, tmp_path):
    folder = _sdn_copy(tmp_path)
    lines = (folder / "sdn.csv").read_bytes().split(b"\n")
    lines[10] = b'99999999,"EXTRA COLUMNS INC.",-0- ,"SDGT",-0- '
    (folder / "sdn.csv").write_bytes(b"\n".join(lines))
    _assert_refused([str(folder), "--source", "us-ofac-sdn"], "sdn.csv", "line 11", "expected 12")


def test_non_utf8_bytes(copy_of_bundled, tmp_path):
    folder = _sdn_copy(tmp_path)
    lines = (folder / "alt.csv").read_bytes().split(b"\n")
    lines[4] = lines[4].replace(b"aka", b"a\xe9a", 1)
    (folder / "alt.csv").write_bytes(b"\n".join(lines))
    _assert_refused([str(folder), "--source", "us-ofac-sdn"], "alt.csv", "line 5", "not valid utf-8")


def test_bom_and_eof_marker_are_tolerated(copy_of_bundled, tmp_path):
    folder = _sdn_copy(tmp_path)
    main = folder / "sdn.csv"
    main.write_bytes(b"\xef\xbb\xbf" + main.read_bytes().rstrip(b"\x1a") + b"\x1a")
    before = _state()
    result = run_cli("lists", "import", str(folder), "--source", "us-ofac-sdn")
    assert result.returncode == 0, result.stderr
    # Same entities as the active snapshot: no new version for a cosmetic change.
    assert _state() == before
    assert "no new version" in result.stdout


def test_missing_file_of_a_set(copy_of_bundled, tmp_path):
    folder = _sdn_copy(tmp_path)
    (folder / "alt.csv").unlink()
    _assert_refused([str(folder), "--source", "us-ofac-sdn"], "alt.csv")


def test_empty_file(copy_of_bundled, tmp_path):
    empty = tmp_path / "dpl.txt"
    empty.write_bytes(b"")
    _assert_refused([str(empty), "--source", "us-bis-dpl"], "dpl.txt", "empty")


def test_missing_path(copy_of_bundled, tmp_path):
    _assert_refused([str(tmp_path / "nowhere"), "--source", "us-ofac-sdn"], "nowhere")


def test_huge_single_line(copy_of_bundled, tmp_path):
    huge = tmp_path / "dpl.txt"
    header = (LISTS / "us-bis-dpl" / "2022-09" / "dpl.txt").read_bytes().split(b"\n")[0]
    with huge.open("wb") as fh:
        fh.write(header + b"\n\"")
        block = b"A" * (1 << 20)
        for _ in range(100):
            fh.write(block)
        fh.write(b"\"\n")
    _assert_refused([str(huge), "--source", "us-bis-dpl"], "dpl.txt", "line 2", "expected records under")


XML_BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL><FIRST_NAME>&lol4;</FIRST_NAME></INDIVIDUAL></INDIVIDUALS></CONSOLIDATED_LIST>
"""

XML_EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE foo [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL><FIRST_NAME>&xxe;</FIRST_NAME></INDIVIDUAL></INDIVIDUALS></CONSOLIDATED_LIST>
"""


@pytest.mark.parametrize("content", [XML_BOMB, XML_EXTERNAL], ids=["bomb", "external-entity"])
def test_hostile_xml(copy_of_bundled, tmp_path, content):
    path = tmp_path / "consolidated.xml"
    path.write_text(content, encoding="utf-8")
    message = _assert_refused([str(path), "--source", "un-sc"], "consolidated.xml")
    assert "root:" not in message  # /etc/passwd was not read


def test_truncated_xml(copy_of_bundled, tmp_path):
    path = tmp_path / "consolidated.xml"
    data = UN.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    _assert_refused([str(path), "--source", "un-sc"], "consolidated.xml", "line")


def test_unknown_user_list_format(copy_of_bundled, tmp_path):
    path = tmp_path / "list.docx"
    path.write_bytes(b"PK\x03\x04junk")
    _assert_refused([str(path), "--source", "my-list"], "list.docx", "expected")
