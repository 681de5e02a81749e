"""Checksums of stored folders: every flipped byte of a saved Market is a DataError naming
its file, the manifest's own digest included; nothing damaged ever loads."""

from __future__ import annotations

import json
import re
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.data.checksums import (
    PLACEHOLDER,
    read_manifest,
    sha256_hex,
    verified_bytes,
    write_manifest,
)
from workbench.data.market import TABLES, Market
from workbench.data.store import load_market, save_market
from workbench.errors import DataError

#: Random one-byte flips per stored file.
FLIPS = 50
STORED = [*(f"{t}.parquet" for t in TABLES), "meta.json"]


def flip(raw: bytes, offset: int, mask: int) -> bytes:
    """``raw`` with the byte at ``offset`` XOR-ed with ``mask`` (1..255: always a change)."""
    out = bytearray(raw)
    out[offset] ^= mask
    return bytes(out)


def silent_loads(folder: Path, name: str, changes: list[tuple[int, int]]) -> list[str]:
    """Apply each (offset, mask) flip to ``folder/name`` in turn (the others undone) and
    return a line for every load that did not fail with a DataError naming that file."""
    file = folder / name
    raw = file.read_bytes()
    named = re.compile(rf"^{re.escape(str(file))}: ")
    missed = []
    for offset, mask in changes:
        file.write_bytes(flip(raw, offset, mask))
        try:
            load_market(folder)
        except DataError as exc:
            if not named.match(str(exc)):
                missed.append(f"byte {offset} ^ {mask:#04x}: DataError naming another file: "
                              f"{exc}")
            continue
        missed.append(f"byte {offset} ^ {mask:#04x}: loaded without an error")
    file.write_bytes(raw)
    return missed


@pytest.mark.parametrize("name", STORED)
def test_random_byte_flips_in_each_stored_file_never_load(tiny: Market, tmp_path: Path,
                                                          name: str):
    folder = save_market(tiny, tmp_path / "m")
    size = (folder / name).stat().st_size
    assert size > FLIPS  # (the smallest, an empty table's Parquet file, is about 1 KB)
    rng = np.random.default_rng(zlib.crc32(name.encode()))  # fixed, one stream per file
    offsets = rng.choice(size, size=FLIPS, replace=False)
    masks = rng.integers(1, 256, size=FLIPS)
    assert silent_loads(folder, name, list(zip(offsets.tolist(), masks.tolist(),
                                               strict=True))) == []
    back = load_market(folder)  # undone: loads as saved
    pd.testing.assert_frame_equal(back.bars, tiny.bars)


def test_every_digit_of_every_recorded_digest_is_checked(tiny: Market, tmp_path: Path):
    folder = save_market(tiny, tmp_path / "m")
    raw = (folder / "meta.json").read_bytes()
    record = json.loads(raw)["checksums"]
    assert set(record) == set(STORED) | {n.name for n in folder.glob("panel.*.npy")}
    assert all(record[n] == sha256_hex((folder / n).read_bytes()) for n in STORED[:-1])
    # still JSON, still 64 hex digits: the hardest flips, one hex digit for another
    changes = []
    for name in STORED:
        start = raw.index(f'"{name}": "{record[name]}"'.encode()) + len(name) + 5
        assert raw[start:start + 64] == record[name].encode()
        for offset in range(start, start + 64):
            changes.append((offset, raw[offset] ^ (ord("a") if raw[offset] != ord("a")
                                                   else ord("b"))))
    assert silent_loads(folder, "meta.json", changes) == []


def test_a_manifest_that_lost_its_record_is_not_taken_for_an_old_one(tiny: Market,
                                                                     tmp_path: Path):
    folder = save_market(tiny, tmp_path / "m")
    meta_file = folder / "meta.json"
    raw = meta_file.read_bytes()
    meta_file.write_bytes(raw.replace(b'"checksums"', b'"checksumr"'))
    with pytest.raises(DataError, match=r"meta\.json: format_version 2 records the checksums "
                                        r"of the folder's files under 'checksums', but this "
                                        "manifest has none"):
        load_market(folder)
    meta_file.write_bytes(raw.replace(b'"format_version": 2', b'"format_version": 1'))
    with pytest.raises(DataError, match=r"meta\.json: does not match the checksum it recorded"):
        load_market(folder)


def test_a_table_file_added_after_saving_or_removed_is_refused(tiny: Market, tmp_path: Path):
    folder = save_market(tiny, tmp_path / "m")
    meta = json.loads((folder / "meta.json").read_text())
    files = [f"{t}.parquet" for t in TABLES if t != "corporate_actions"]
    write_manifest(folder / "meta.json", meta, files)  # as if the table came later
    with pytest.raises(DataError, match=r"corporate_actions\.parquet: not among the files "
                                        "meta.json records checksums for"):
        load_market(folder)
    (folder / "corporate_actions.parquet").unlink()
    assert load_market(folder).corporate_actions.empty  # a later optional table: empty
    (folder / "index_members.parquet").unlink()
    with pytest.raises(DataError, match=r"m: missing index_members\.parquet, which meta\.json "
                                        "records; the folder is incomplete"):
        load_market(folder)


def test_the_manifest_digest_is_the_sha256_of_its_bytes_with_the_digest_as_zeros(
        tmp_path: Path):
    (tmp_path / "a.bin").write_bytes(b"abc")
    write_manifest(tmp_path / "m.json", {"format_version": 2, "checksums": "stale"},
                   ["a.bin"])
    raw = (tmp_path / "m.json").read_bytes()
    doc = json.loads(raw)
    own = doc["checksums"]["m.json"]
    # by hand: the text with the own digest blanked, through hashlib's SHA-256
    blank = raw.replace(own.encode(), PLACEHOLDER.encode())
    assert own == sha256_hex(blank)
    assert doc["checksums"]["a.bin"] == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")  # FIPS 180-2
    got, record = read_manifest(tmp_path / "m.json", sealed_from=2, fix="fix it")
    assert got == doc and record == {"a.bin": doc["checksums"]["a.bin"]}
    assert verified_bytes(tmp_path / "a.bin", record["a.bin"], manifest="m.json",
                          fix="fix it") == b"abc"
    (tmp_path / "a.bin").write_bytes(b"abd")
    with pytest.raises(DataError, match=r"a\.bin: its content does not match the SHA-256 "
                                        r"that m\.json recorded .*: fix it"):
        verified_bytes(tmp_path / "a.bin", record["a.bin"], manifest="m.json", fix="fix it")


@pytest.mark.parametrize(("text", "message"), [
    (b'{"format_version": 1}', None),
    (b'{"name": "hand-made"}', None),
    (b'{"format_version": 2}', "records the checksums of the folder's files"),
    (b'{"format_version": 2, "checksums": {"m.json": "xyz"}}', "not a map of file names"),
    (b'{"format_version": 2, "checksums": {}}', "records no checksum of m.json itself"),
    (b'[1, 2]', "holds a JSON list, not an object"),
    (b'{"format_version": 2,', "not valid JSON"),
    (b'{"name": "\xff"}', "not valid JSON"),
])
def test_manifests_without_checksums_load_only_when_older(tmp_path: Path, text: bytes,
                                                          message: str | None):
    (tmp_path / "m.json").write_bytes(text)
    if message is None:
        assert read_manifest(tmp_path / "m.json", sealed_from=2, fix="x")[1] is None
    else:
        with pytest.raises(DataError, match=re.escape(message)):
            read_manifest(tmp_path / "m.json", sealed_from=2, fix="x")
