"""Encodings of CSV exports: the bytes of a file as UTF-8, and how its encoding was found.

A byte-order mark names the encoding; else zero bytes in the pattern of UTF-16; else the bytes are
UTF-8 (ASCII is checked first, far cheaper than decoding); else charset-normalizer reads the lines
with non-ASCII bytes and ranks the encodings exports are written in, with two exceptions for the
encodings custseg's users export most (see :func:`_detect`). A set ``encoding`` is used as given.
Every decode is strict: a byte that does not fit stops the read with its line and offset.

Private to :mod:`custseg.intake`: :mod:`custseg.intake.readers` hands CSV files here.
"""

from __future__ import annotations

import codecs
import math
import re
from dataclasses import dataclass
from pathlib import Path

import charset_normalizer
import numpy as np

from custseg.intake._readerror import CONFIG_HINT, ReadError

# Longest marks first: the UTF-32 LE mark starts with the UTF-16 LE one.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_DETECT_BYTES = 1 << 16  # lines with non-ASCII bytes handed to the encoding detector
_SCAN_BLOCK = 1 << 20  # bytes scanned at a time for them
_LINE_REACH = 1 << 14  # how far from a non-ASCII byte its line's ends are looked for
# charset-normalizer's readings whose garbled share is within this of the best one are equally
# plausible: on a few short values (one city name) it cannot tell GBK from Big5 or cp949, or
# cp1252 from cp437, by its measure alone.
_DETECT_TOLERANCE = 0.1
# Readings this close are a tie, which cp1252 wins (Western Excel; Łódź in cp1250 is no tie).
_DETECT_TIE = 0.05
_DETECT_LOOSE = 0.4  # the garbled share the detector accepts at a second look (its default: 0.2)
_GB_FAMILY = {"gb2312", "gbk", "gb18030"}
_CJK_ENCODINGS = {"gb18030", "big5", "cp932", "shift_jis", "euc_jp", "cp949", "euc_kr"}
# What spreadsheet programs and shop systems write: the Windows code pages, ISO 8859, the
# Chinese, Japanese and Korean standards, KOI8, Mac Roman. Not DOS, EBCDIC or other Mac code
# pages, which read a few accented letters as cleanly to the detector's measure (cp437 for
# "€12,50") but no export of this century is written in.
_EXPORT_ENCODINGS = [
    "gb18030", "big5", "cp932", "shift_jis", "euc_jp", "cp949", "euc_kr",
    "cp1250", "cp1251", "cp1252", "cp1253", "cp1254", "cp1255", "cp1256", "cp1257", "cp1258", "cp874",
    "latin_1", "iso8859_2", "iso8859_4", "iso8859_5", "iso8859_7", "iso8859_9", "iso8859_13", "iso8859_15",
    "koi8_r", "koi8_u", "mac_roman",
]
_HAN = "[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
_HAN_BESIDE_LETTER = re.compile(f"(?<=[A-Za-z]){_HAN}|{_HAN}(?=[A-Za-z])")
_HAN_CHARACTER = re.compile(_HAN)
_LONE_NON_ASCII = re.compile(r"(?<![^\x00-\x7f])[^\x00-\x7f](?![^\x00-\x7f])")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


@dataclass(frozen=True)
class Decoded:
    """A CSV file's bytes as UTF-8 without a byte-order mark, and how they were decoded."""

    data: bytes
    codec: str
    source: str  # one of ENCODING_SOURCES
    confidence: float | None = None
    alternatives: tuple[str, ...] = ()  # as plausible to the detector, giving another text


def to_utf8(path: Path, raw: bytes, encoding: str) -> Decoded:
    """The file's bytes as UTF-8 without a byte-order mark, the codec and how it was chosen."""
    if encoding != "auto":
        try:
            codec = codecs.lookup(encoding).name
        except LookupError:
            raise ReadError(
                f"{path}: unknown encoding {encoding!r}; use 'auto' or a Python codec name such as "
                "utf-8, gb18030, big5 or cp1252 " + CONFIG_HINT.format(key="encoding")
            ) from None
        data = _transcode(path, raw, codec, how="is read as", fix="'auto' (the encoding is then detected) or ")
        return Decoded(data, codec, "config")
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            return Decoded(_transcode(path, raw, codec, how="starts with a byte-order mark for"), codec, "bom")
    nul = raw.find(b"\x00")
    if nul >= 0:
        wide = _utf16_without_bom(raw)
        if wide is not None:
            try:
                text = raw.decode(wide)
            except UnicodeDecodeError:
                wide = None  # zero bytes in the pattern of UTF-16, but no UTF-16 text
        if wide is None:
            raise ReadError(
                f"{path}: line {_line_of(raw, nul, 'latin-1')} holds a NUL byte (00, at byte offset {nul}), which "
                "no text export writes: the file is binary or damaged. Export it again, or, if it is UTF-16 or "
                "UTF-32 text without a byte-order mark, set encoding (utf-16-le, utf-32) "
                + CONFIG_HINT.format(key="encoding")
            )
        return Decoded(text.encode("utf-8"), wide, "zero_bytes")
    if raw.isascii():  # the common case, and a check far cheaper than decoding
        return Decoded(raw, "utf-8", "utf-8")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as not_utf8:
        return _detect(path, raw, not_utf8)
    return Decoded(raw, "utf-8", "utf-8")


def _utf16_without_bom(raw: bytes) -> str | None:
    """``utf-16-le`` or ``utf-16-be`` when the zero bytes say so, else None.

    UTF-16 writes every ASCII character as its byte and a zero: in a file of mostly ASCII
    (ids, dates, digits, delimiters) one byte in four or more at one parity is zero and almost
    none at the other (a few Chinese characters, U+4E00 for one, have a zero low byte).
    """
    head = raw[: 1 << 12]
    head = head[: len(head) // 2 * 2]
    pairs = len(head) // 2
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if pairs == 0:
        return None
    if odd * 4 >= pairs and even * 10 <= odd:
        return "utf-16-le"
    if even * 4 >= pairs and odd * 10 <= even:
        return "utf-16-be"
    return None


def _detect(path: Path, raw: bytes, not_utf8: UnicodeDecodeError) -> Decoded:
    """The encoding of a file that is not UTF-8, found by charset-normalizer.

    The detector reads the lines that hold non-ASCII bytes (up to 64 KB of them) and ranks the
    encodings exports are written in (``_EXPORT_ENCODINGS``) by how garbled and how unlike a
    language each makes them. Its order stands, with two exceptions for the two encodings
    custseg's users export most. GB18030 (what Chinese Excel writes as CSV; GBK and GB2312 are
    subsets) comes first when it is within ``_DETECT_TOLERANCE`` of the least garbled reading:
    a few Chinese words read as cleanly in Big5 or cp949 to the detector. But Latin-1 text read
    as GB18030 puts Chinese characters inside Latin words, one per accented letter (``Z黵ich``):
    when most Chinese characters of the GB18030 reading touch a Latin letter and most accented
    letters of the cp1252 reading stand alone, cp1252 comes first and no Chinese, Japanese or
    Korean encoding is taken. The first candidate that decodes the whole file wins.
    """
    sample = _non_ascii_lines(raw, _DETECT_BYTES)
    matches = list(charset_normalizer.from_bytes(sample, cp_isolation=_EXPORT_ENCODINGS))
    if not matches:  # a few values can look garbled in every encoding ("€6,50;—"): look closer
        matches = list(charset_normalizer.from_bytes(sample, cp_isolation=_EXPORT_ENCODINGS, threshold=_DETECT_LOOSE))
    garbled: dict[str, float] = {}  # codec -> garbled share, in the detector's order
    reading: dict[str, int] = {}  # codec -> which match, i.e. which decoded text, it gives
    for number, match in enumerate(matches):
        # A match stands for every codec that decodes the sample to the same text: cp1252 names
        # it when it is one of them (Excel's Western encoding, the name users know).
        names = [_codec_name(name) for name in (match.encoding, *match.could_be_from_charset)]
        for codec in sorted(filter(None, names), key=lambda c: c != "cp1252"):
            garbled.setdefault(codec, match.chaos)
            reading.setdefault(codec, number)
    if not garbled:
        raise ReadError(
            f"{path}: the encoding cannot be detected: line {_line_of(raw, not_utf8.start, 'utf-8')} is not UTF-8 "
            f"({_bad_bytes(raw, not_utf8)}) and no other encoding reads the lines with non-ASCII text "
            "without garbling them (is it a text file?). Save the file from Excel as 'CSV UTF-8', or set "
            "encoding to the file's encoding (for example cp1252 for Western European Excel, gb18030 for "
            "Chinese, big5 for Traditional Chinese, shift_jis for Japanese) " + CONFIG_HINT.format(key="encoding")
        )
    least = min(garbled.values())
    tied = [codec for codec, chaos in garbled.items() if chaos <= least + _DETECT_TIE]
    western = ["cp1252"] if "cp1252" in tied else []
    ranked = [*western, *garbled]
    if garbled.get("gb18030", math.inf) <= least + _DETECT_TOLERANCE:
        if _latin_read_as_gb(sample):
            ranked = ["cp1252", *(c for c in garbled if c not in _CJK_ENCODINGS), "iso8859-1"]
        else:
            ranked = ["gb18030", *ranked]
    failures: list[tuple[str, UnicodeDecodeError]] = []
    for codec in dict.fromkeys(ranked):
        try:
            text = raw.decode(codec)
        except UnicodeDecodeError as exc:
            failures.append((codec, exc))
            continue
        chaos = garbled.get(codec)
        if chaos is None:  # chosen over the detector's list: measure it alone
            alone = charset_normalizer.from_bytes(sample, cp_isolation=[codec]).best()
            chaos = alone.chaos if alone is not None else None
        # Readings as clean as the chosen one that give another text: the detector could not
        # tell them apart, so the data-quality page names them.
        others = {reading[c]: c for c in reversed(tied) if reading[c] != reading.get(codec)}
        alternatives = tuple(others[n] for n in sorted(others))[:3]
        return Decoded(text.encode("utf-8"), codec, "detected", None if chaos is None else round(1.0 - chaos, 3),
                        alternatives)
    codec, exc = failures[0]
    tried = ", ".join(c for c, _ in failures[1:]) or "none"
    raise ReadError(
        f"{path}: line {_line_of(raw, exc.start, codec)} cannot be decoded as {codec} ({_bad_bytes(raw, exc)}), "
        f"the encoding detected from the lines with non-ASCII text (also tried: {tried}). "
        "The file may mix encodings: save it from Excel as 'CSV UTF-8', or set encoding to the file's "
        "encoding " + CONFIG_HINT.format(key="encoding")
    )


def _codec_name(name: str) -> str | None:
    """Python's name of a codec charset-normalizer names; GBK and GB2312 read as GB18030."""
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        return None
    return "gb18030" if codec in _GB_FAMILY else codec


def _non_ascii_lines(raw: bytes, limit: int) -> bytes:
    """The lines of ``raw`` that hold a byte above 127, in file order, up to about ``limit`` bytes.

    The file is scanned a block at a time until enough is found, and a line is looked for at
    most ``_LINE_REACH`` bytes either side of its non-ASCII byte: a big file is never scanned whole.
    """
    pieces: list[bytes] = []
    size, block = 0, 0
    while block < len(raw) and size < limit:
        chunk = np.frombuffer(raw, dtype=np.uint8, count=min(_SCAN_BLOCK, len(raw) - block), offset=block)
        high = np.flatnonzero(chunk >= 0x80) + block
        i = 0
        while i < high.size and size < limit:
            at = int(high[i])
            low = max(0, at - _LINE_REACH)
            start = max(raw.rfind(b"\n", low, at), raw.rfind(b"\r", low, at), low - 1) + 1
            reach = at + _LINE_REACH
            ends = [end for end in (raw.find(b"\n", at, reach), raw.find(b"\r", at, reach)) if end >= 0]
            end = min(ends) + 1 if ends else min(len(raw), at + _LINE_REACH)
            pieces.append(raw[start:end])
            size += end - start
            i = int(np.searchsorted(high, end))
        block += _SCAN_BLOCK
    return b"".join(pieces)


def _latin_read_as_gb(sample: bytes) -> bool:
    """Whether the GB18030 reading of ``sample`` looks like Latin-1 text read two bytes at a time.

    A Latin-1 accented letter and the ASCII letter after it make one Chinese character in
    GB18030 (``Zürich`` -> ``Z黵ich``), so most Chinese characters touch a Latin letter; and in
    the cp1252 reading the accented letters stand alone. Chinese text is the other way round:
    its characters come in runs, each of which cp1252 reads as a run of two or more symbols.
    """
    try:
        gb = sample.decode("gb18030")
    except UnicodeDecodeError:
        return True
    han = len(_HAN_CHARACTER.findall(gb))
    if han == 0:
        return False
    latin = sample.decode("cp1252", errors="replace")
    accented = len(_NON_ASCII.findall(latin))
    return 2 * len(_HAN_BESIDE_LETTER.findall(gb)) > han and 2 * len(_LONE_NON_ASCII.findall(latin)) > accented


def _transcode(path: Path, raw: bytes, codec: str, *, how: str, fix: str = "") -> bytes:
    """Strictly decode ``raw`` as ``codec`` and return UTF-8 bytes, naming the line on failure.

    ``how`` says how the codec was chosen ("is read as", "starts with a byte-order mark for");
    ``fix`` is offered before "the file's real encoding".
    """
    try:
        if codec in ("utf-8", "utf-8-sig"):
            # Already UTF-8: validate only, so pandas' C parser gets the original bytes.
            body = raw.removeprefix(codecs.BOM_UTF8)
            if not body.isascii():
                body.decode("utf-8")
            return body
        return raw.decode(codec).removeprefix("\ufeff").encode("utf-8")
    except UnicodeDecodeError as exc:
        body = raw.removeprefix(codecs.BOM_UTF8) if codec.startswith("utf-8") else raw
        raise ReadError(
            f"{path}: line {_line_of(body, exc.start, codec)} cannot be decoded: the file {how} "
            f"{codec} but holds {_bad_bytes(body, exc)}. Set encoding to {fix}the file's real "
            "encoding " + CONFIG_HINT.format(key="encoding")
        ) from None


def _line_of(raw: bytes, offset: int, codec: str) -> int:
    """1-based line number of byte ``offset``, counting LF, CRLF and lone CR as line breaks."""
    before = raw[:offset].decode(codec, errors="replace")
    return before.count("\n") + before.count("\r") - before.count("\r\n") + 1


def _bad_bytes(raw: bytes, exc: UnicodeDecodeError) -> str:
    return f"byte(s) {raw[exc.start : min(exc.end, exc.start + 4)].hex(' ')} at byte offset {exc.start}"

