"""Checksums of stored folders: a SHA-256 of every file, the manifest's own included.

A stored folder (a Market: ``meta.json`` plus Parquet tables; a backtest result:
``result.json`` plus Parquet tables) has one JSON *manifest*. Its ``"checksums"`` entry
maps each file name to the SHA-256 of the file's bytes, in hex, as ``sha256sum`` prints it,
and the manifest's own name to the SHA-256 of the manifest itself, computed with that
digest's 64 characters written as zeros (:data:`PLACEHOLDER`) and then filled in.

Loading checks every byte of every file before it is parsed, so a flipped byte anywhere —
data pages, Parquet headers and footer, schema, the manifest, or a recorded digest — is a
:class:`~workbench.errors.DataError` naming the file. Parquet's own page checksums
(CRC-32 of each data page) would not do: they leave the page headers, the footer (schema,
statistics, pandas metadata) and the manifest unchecked, and a flip there can load as
different data without any error.

A manifest written before checksums existed has no ``"checksums"`` entry and a format
version below the one that introduced them; its folder loads unverified (callers validate
it instead). A manifest of a later version without the entry has been damaged, and is
refused, so a flip in the key ``"checksums"`` cannot pass a folder off as an old one.

A single file can carry its own digest the same way (:func:`seal`, :func:`is_sealed`): the
sweep checkpoint of :mod:`workbench.research.store` keeps it in its Parquet footer.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from workbench.errors import DataError

__all__ = ["CHECKSUMS_KEY", "PLACEHOLDER", "is_sealed", "read_manifest", "seal", "sha256_file",
           "sha256_hex", "sha256_parts", "verified_bytes", "verify_file", "write_manifest"]

#: Manifest entry that holds the checksums.
CHECKSUMS_KEY = "checksums"
#: What the manifest's own digest is while the manifest is hashed: 64 zeros.
PLACEHOLDER = "0" * 64
_HEX = re.compile(r"[0-9a-f]{64}")


def sha256_hex(data: bytes) -> str:
    """SHA-256 of ``data`` in lowercase hex (what ``sha256sum`` prints).

    Examples
    --------
    >>> sha256_hex(b"abc")[:16]
    'ba7816bf8f01cfea'
    """
    return hashlib.sha256(data).hexdigest()


def sha256_file(file: Path) -> str:
    """SHA-256 of a file's bytes in lowercase hex, read through a memory map (no copy).

    Examples
    --------
    >>> import tempfile
    >>> f = Path(tempfile.mkdtemp()) / "a.bin"
    >>> _ = f.write_bytes(b"abc")
    >>> sha256_file(f) == sha256_hex(b"abc")
    True
    """
    with open(file, "rb") as fh:
        if not fh.seek(0, 2):
            return sha256_hex(b"")  # an empty file cannot be mapped
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            return hashlib.sha256(mm).hexdigest()


def sha256_parts(*parts: bytes | memoryview) -> str:
    """SHA-256 of the bytes of ``parts`` one after another, in lowercase hex.

    A file read in pieces (a header read, a body already mapped) hashes as the whole file
    does. Large parts are hashed with the GIL released, so threads hash in parallel.

    Examples
    --------
    >>> sha256_parts(b"a", memoryview(b"bc")) == sha256_hex(b"abc")
    True
    """
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
    return digest.hexdigest()


def seal(raw: bytes, *, before: bytes = b"", after: bytes = b"") -> bytes:
    """``raw`` with its own SHA-256 written into the slot ``before + PLACEHOLDER + after``.

    The digest is that of ``raw`` as given, with the slot's 64 zeros in it; the slot must
    occur exactly once. :func:`is_sealed` checks the result.

    Parameters
    ----------
    raw
        The finished bytes of a file, holding the slot once.
    before, after
        What surrounds the 64 zeros, so that the slot is found unambiguously (e.g. the
        JSON key before a digest and the closing quote after it).

    Returns
    -------
    bytes
        ``raw`` with the zeros replaced by its SHA-256 in hex; the length is unchanged.

    Raises
    ------
    ValueError
        The slot does not occur exactly once in ``raw``.

    Examples
    --------
    >>> raw = seal(b'{"sha256": "' + PLACEHOLDER.encode() + b'"}')
    >>> is_sealed(raw, raw[12:76].decode()), is_sealed(raw.replace(b"sha", b"shb"),
    ...                                                raw[12:76].decode())
    (True, False)
    """
    slot = before + PLACEHOLDER.encode() + after
    if raw.count(slot) != 1:
        raise ValueError(f"the slot {slot!r} occurs {raw.count(slot)} times, not once")
    return raw.replace(slot, before + sha256_hex(raw).encode() + after)


def is_sealed(raw: bytes, digest: str, *, before: bytes = b"", after: bytes = b"") -> bool:
    """Whether ``raw`` is what :func:`seal` made, unchanged.

    Parameters
    ----------
    raw
        The bytes of the file as read.
    digest
        The digest the file records (64 lowercase hex digits, or it is not sealed).
    before, after
        What surrounds the digest, as given to :func:`seal`.

    Returns
    -------
    bool
        True when ``before + digest + after`` occurs exactly once in ``raw`` and ``digest``
        is the SHA-256 of ``raw`` with it written as zeros.
    """
    slot = before + digest.encode() + after
    return (_HEX.fullmatch(digest) is not None and raw.count(slot) == 1
            and sha256_hex(raw.replace(slot, before + PLACEHOLDER.encode() + after)) == digest)


def _own_entry(name: str) -> tuple[bytes, bytes]:
    """What surrounds the manifest's own digest, as ``json.dumps(indent=2)`` writes it."""
    return f"{json.dumps(name)}: \"".encode(), b'"'


def write_manifest(file: Path, doc: Mapping[str, Any], files: Iterable[str]) -> None:
    """Write ``doc`` as JSON to ``file`` with the checksums of ``files`` and of itself.

    Parameters
    ----------
    file
        The manifest to write (e.g. ``folder/meta.json``); an existing one is overwritten,
        so write into a temporary folder that is then renamed into place.
    doc
        The manifest's content, JSON-ready (``default=str`` converts the rest); any
        ``"checksums"`` entry it holds is replaced.
    files
        Names of the files beside ``file`` to record; each must exist and be complete.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.bin").write_bytes(b"abc")
    >>> write_manifest(folder / "m.json", {"format_version": 2}, ["a.bin"])
    >>> doc, record = read_manifest(folder / "m.json", sealed_from=2, fix="rewrite it")
    >>> record["a.bin"][:16], doc["format_version"]
    ('ba7816bf8f01cfea', 2)
    """
    folder = file.parent
    record = {name: sha256_hex((folder / name).read_bytes()) for name in files}
    record[file.name] = PLACEHOLDER
    body = {k: v for k, v in doc.items() if k != CHECKSUMS_KEY}
    raw = (json.dumps({**body, CHECKSUMS_KEY: record}, indent=2, default=str) + "\n").encode()
    before, after = _own_entry(file.name)
    file.write_bytes(seal(raw, before=before, after=after))


def read_manifest(file: Path, *, sealed_from: int, fix: str
                  ) -> tuple[dict[str, Any], dict[str, str] | None]:
    """Parse the JSON manifest ``file`` and check it against its own checksum.

    Parameters
    ----------
    file
        The manifest (``meta.json``, ``result.json``).
    sealed_from
        The ``format_version`` from which manifests record checksums; an older manifest
        (or one without a version) may lack them.
    fix
        What the user should do about a damaged folder (a sentence, e.g. "re-import it").

    Returns
    -------
    tuple
        The manifest as a dict, and the recorded checksums of the other files
        (``{file name: sha256 hex}``), or None for a manifest written before checksums.

    Raises
    ------
    DataError
        The manifest is not JSON, does not match its checksum, or is of a version that
        records checksums but holds none (or a malformed record).
    """
    raw = file.read_bytes()
    try:
        doc = json.loads(raw)
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise DataError(f"{file}: not valid JSON ({exc}); the folder is damaged: {fix}"
                        ) from None
    if not isinstance(doc, dict):
        raise DataError(f"{file}: holds a JSON {type(doc).__name__}, not an object; the "
                        f"folder is damaged: {fix}")
    record = doc.get(CHECKSUMS_KEY)
    version = doc.get("format_version")
    if record is None:
        if version is None or (isinstance(version, int) and version < sealed_from):
            return doc, None
        raise DataError(f"{file}: format_version {version!r} records the checksums of the "
                        f"folder's files under {CHECKSUMS_KEY!r}, but this manifest has none; "
                        f"it was damaged or edited by hand: {fix}")
    if not (isinstance(record, dict) and all(
            isinstance(k, str) and isinstance(v, str) and _HEX.fullmatch(v)
            for k, v in record.items())):
        raise DataError(f"{file}: its {CHECKSUMS_KEY!r} entry is not a map of file names to "
                        f"SHA-256 digests (64 hex digits); the folder is damaged: {fix}")
    own = record.get(file.name)
    if own is None:
        raise DataError(f"{file}: its {CHECKSUMS_KEY!r} entry records no checksum of "
                        f"{file.name} itself; the folder is damaged: {fix}")
    before, after = _own_entry(file.name)
    if not is_sealed(raw, own, before=before, after=after):
        raise DataError(f"{file}: does not match the checksum it recorded when it was "
                        f"written; it was damaged or edited by hand since: {fix}")
    return doc, {k: v for k, v in record.items() if k != file.name}


def verified_bytes(file: Path, digest: str, *, manifest: str, fix: str) -> bytes:
    """The bytes of ``file``, checked against ``digest`` (its SHA-256 in the manifest).

    Parameters
    ----------
    file
        The file to read.
    digest
        Its SHA-256 in hex, as :func:`read_manifest` returned it.
    manifest
        Name of the manifest that recorded the digest, for the message.
    fix
        What the user should do about a damaged folder.

    Raises
    ------
    DataError
        The file is missing or its bytes differ from those written.
    """
    _present(file, manifest, fix)
    data = file.read_bytes()
    _matches(file, sha256_hex(data), digest, manifest, fix)
    return data


def verify_file(file: Path, digest: str, *, manifest: str, fix: str) -> None:
    """Check ``file`` against ``digest`` without keeping its bytes (:func:`verified_bytes`).

    For a file parsed later, or not at all: it is read through a memory map, so a large
    file costs no memory. Raises the same :class:`~workbench.errors.DataError`.
    """
    _present(file, manifest, fix)
    _matches(file, sha256_file(file), digest, manifest, fix)


def _present(file: Path, manifest: str, fix: str) -> None:
    if not file.is_file():
        raise DataError(f"{file.parent}: missing {file.name}, which {manifest} records; the "
                        f"folder is incomplete: {fix}")


def _matches(file: Path, got: str, digest: str, manifest: str, fix: str) -> None:
    if got != digest:
        raise DataError(f"{file}: its content does not match the SHA-256 that {manifest} "
                        f"recorded when the folder was written ({got[:12]}… instead of "
                        f"{digest[:12]}…): the file was damaged or changed since: {fix}")
