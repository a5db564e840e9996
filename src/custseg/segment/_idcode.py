"""Customer ids as integer codes: one numbering, in sorted id order, of every table's ids.

Hashing millions of id strings is most of the work of :func:`custseg.segment.features.prepare` on
a large export, so this module avoids it where it can. Ids that share one categorical dtype reuse
its codes (:func:`category_ids`); ids whose bytes can be read as numbers that sort as the text
does (C00012345, ...) are ranked by number (:func:`id_bytes`, :func:`packed_ids`); only the rest
are hashed as text (:func:`encode`, :func:`merge_ids`), with Arrow's hash table, which releases
the GIL.

Private to :mod:`custseg.segment`: :mod:`custseg.segment.features` is its front.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# Customer and category codes, day numbers and gaps are stored as int32: half the memory of the
# default int64 on ten million rows. Sums, counts and keys that can grow past 2**31 stay int64.
CODE = np.int32
# Rows per block where a pass over ten million rows would otherwise make large temporaries.
BLOCK = 1 << 16
# Ids packed into numbers (:func:`packed_ids`) are ranked in a table indexed by number while
# the numbers span at most this many per id row, plus a constant; sparser ones are hashed.
_DENSE_ID_NUMBERS_PER_ROW = 2
_DENSE_ID_NUMBERS = 1 << 16
# Ids of varied widths are padded to the widest (a copy) up to this many bytes; wider ones,
# which would not fit int64 numbers anyway, are hashed as text.
_PADDED_ID_WIDTH = 24


def shared_categories(columns: Mapping[str, pd.Series]) -> bool:
    """True when every id column is categorical with one and the same text categories."""
    first = next(iter(columns.values())).dtype
    return (
        isinstance(first, pd.CategoricalDtype)
        and all(column.dtype == first for column in columns.values())
        and first.categories.inferred_type == "string"
    )


def category_ids(columns: Mapping[str, pd.Series]) -> tuple[pd.api.extensions.ExtensionArray, dict[str, np.ndarray]]:
    """Like :func:`merge_ids`, from id columns that share one categorical dtype.

    Categories that occur in no row are dropped: an id without a row is not a customer.
    """
    categories = next(iter(columns.values())).cat.categories
    local = {name: column.cat.codes.to_numpy(dtype=CODE) for name, column in columns.items()}
    used = np.zeros(len(categories), dtype=bool)
    for name, codes in local.items():
        if (codes < 0).any():
            raise ValueError(f"{name} table: {int((codes < 0).sum()):,} rows have no customer_id")
        used |= np.bincount(codes, minlength=len(categories)) > 0
    kept = np.flatnonzero(used)
    names = pd.array(categories[kept], dtype="str")
    order = names.argsort()
    remap = np.full(len(categories), -1, dtype=CODE)
    remap[kept[order]] = np.arange(len(kept))
    return names.take(order), {name: remap[codes] for name, codes in local.items()}


def merge_ids(
    local: Mapping[str, tuple[np.ndarray, pd.api.extensions.ExtensionArray]],
) -> tuple[pd.api.extensions.ExtensionArray, dict[str, np.ndarray]]:
    """One numbering, in sorted id order, of the per-table codes of :func:`encode`.

    Only the distinct ids of each table are merged and sorted; codes then index numpy arrays
    of length n_customers, and code order is the output's row order.
    """
    for name, (codes, _) in local.items():
        if (codes < 0).any():
            raise ValueError(f"{name} table: {int((codes < 0).sum()):,} rows have no customer_id")
    if len(local) == 1:  # the ids are distinct already: sorting them is enough
        (_, uniques), = local.values()
        order = uniques.argsort()
        remap = np.empty(len(order), dtype=CODE)
        remap[order] = np.arange(len(order))
        ids = uniques.take(order)
    elif (numbered := numbered_by_customers(local)) is not None:
        return numbered
    else:
        merged = pd.concat([pd.Series(uniques, dtype="str") for _, uniques in local.values()], ignore_index=True)
        remap, ids = pd.factorize(merged.array, sort=True)
    remap = remap.astype(CODE, copy=False)
    split, offset = {}, 0
    for name, (codes, uniques) in local.items():
        split[name] = remap[offset + codes]
        offset += len(uniques)
    return ids, split


def numbered_by_customers(
    local: Mapping[str, tuple[np.ndarray, pd.api.extensions.ExtensionArray]],
) -> tuple[pd.api.extensions.ExtensionArray, dict[str, np.ndarray]] | None:
    """:func:`merge_ids` when the customer table is sorted by id and names every customer.

    Then its rows are the numbering already: the other tables' distinct ids are only looked up
    in it, and nothing is sorted (a sort of a million ids costs more than the lookups). None
    when the customer table is absent, unsorted or repeats an id, or another table names an
    id that it lacks: the general merge then decides (and reports).
    """
    if "customers" not in local:
        return None
    codes, names = local["customers"]
    text = pa.array(names)
    increasing = pc.all(pc.less(text[:-1], text[1:])).as_py()  # sorted, and no id twice
    if len(names) != len(codes) or not increasing:
        return None
    split = {"customers": codes}
    for name, (table_codes, uniques) in local.items():
        if name != "customers":
            found = pc.index_in(pa.array(uniques), value_set=text)
            if found.null_count:
                return None
            split[name] = found.to_numpy().astype(CODE, copy=False)[table_codes]
    return names, split


def number_ids(
    columns: Mapping[str, pd.Series],
) -> tuple[pd.api.extensions.ExtensionArray, dict[str, np.ndarray]]:
    """:func:`merge_ids`'s numbering of id columns: read as numbers when they can be, else hashed."""
    packed = id_bytes(columns)
    if packed is not None:
        return packed_ids(packed)
    return merge_ids({name: encode(column) for name, column in columns.items()})


@dataclass(frozen=True)
class IdBytes:
    """Every table's ids as numbers (see :func:`id_bytes`): the byte matrices and the digits."""

    matrices: Mapping[str, list[np.ndarray]]  # per table, one (rows, width) matrix per chunk
    low: np.ndarray  # per byte position, the least byte (padding aside)
    base: np.ndarray  # per byte position, how many digits it takes
    varying: np.ndarray  # the positions whose byte is not the same in every id
    span: int  # how many numbers there are: the product of the bases
    # per position that holds padding (ids shorter than the widest): byte -> digit, padding 0
    digits: Mapping[int, np.ndarray] = field(default_factory=dict)


def id_bytes(columns: Mapping[str, pd.Series]) -> IdBytes | None:
    """The ids of every table read as numbers, when they can be; else None.

    Across all tables, each byte position of the ids takes values in a range low .. high. An id
    read as a number whose digits are its bytes, each in base high - low + 1 of its position,
    is an integer that sorts as the text does (UTF-8 byte order is code point order), and two
    ids are equal exactly when their numbers are. Ids of varied widths (C12, C345) are padded
    at the end to the widest with a byte that is a digit below every other at its position, so
    that a shorter id sorts before the longer ones it begins; that needs ASCII ids (padding
    counts characters) without the NUL byte (the padding). Every id column must be text with no
    value missing, and the numbers must fit in int64 (uuids do not).
    """
    texts = {}
    for name, column in columns.items():
        if isinstance(column.dtype, pd.CategoricalDtype) or not pd.api.types.is_string_dtype(column.dtype):
            return None
        text = pa.array(column.astype("str").array)
        if text.null_count or len(text) == 0:
            return None
        texts[name] = _text_chunks(text)
    lengths = [_byte_lengths(chunks) for chunks in texts.values()]
    narrowest, widest = min(low for low, _ in lengths), max(high for _, high in lengths)
    if widest == 0:  # every id is "": no bytes to read
        return None
    if narrowest != widest:
        if widest > _PADDED_ID_WIDTH or not all(_ascii_without_nul(chunks) for chunks in texts.values()):
            return None
        texts = {
            name: _text_chunks(pc.utf8_rpad(pa.chunked_array([chunk for chunk, _ in chunks]), widest, "\x00"))
            for name, chunks in texts.items()
        }
    # every value is `widest` bytes now: each chunk's bytes are a matrix (the column's own, not a copy)
    matrices = {
        name: [_value_bytes(chunk, offsets).reshape(-1, widest) for chunk, offsets in chunks]
        for name, chunks in texts.items()
    }
    chunks = [matrix for table in matrices.values() for matrix in table]
    high = np.max([_byte_extremes(matrix, np.maximum) for matrix in chunks], axis=0).astype(np.int64)
    if narrowest == widest:
        low = np.min([_byte_extremes(matrix, np.minimum) for matrix in chunks], axis=0).astype(np.int64)
    else:  # the least byte that is not padding (0): bytes less one, with 0 wrapping to 255
        low = np.min([_byte_extremes(matrix - np.uint8(1), np.minimum) for matrix in chunks], axis=0) + 1
        low = low.astype(np.int64)
    padded = np.arange(widest) >= narrowest
    base = high - low + 1 + padded  # a padded position has one digit more: the padding, 0
    varying = np.flatnonzero(base > 1)
    digits = {}
    for position in np.flatnonzero(padded):
        digits[int(position)] = np.zeros(256, dtype=np.int64)
        digits[int(position)][low[position]:high[position] + 1] = np.arange(1, base[position])
    # Python integers, so that the checks cannot overflow. The numbers are built from the bytes
    # (or padded positions' digits) and the lows taken off at the end (one pass, not one per
    # position): the largest value on the way is the number of the greatest bytes.
    span, largest = 1, 0
    for position in varying:
        span *= int(base[position])
        largest = largest * int(base[position]) + int(base[position] - 1 if padded[position] else high[position])
    return IdBytes(matrices, low, base, varying, span, digits) if largest < 2**63 else None


def _text_chunks(text: pa.Array | pa.ChunkedArray) -> list[tuple[pa.Array, np.ndarray]]:
    """The non-empty chunks of an Arrow text array, each with its value offsets (rows + 1)."""
    offset_type = np.int64 if pa.types.is_large_string(text.type) else np.int32
    return [
        (chunk, np.frombuffer(chunk.buffers()[1], dtype=offset_type)[chunk.offset:chunk.offset + len(chunk) + 1])
        for chunk in (text.chunks if isinstance(text, pa.ChunkedArray) else [text]) if len(chunk)
    ]


def _value_bytes(chunk: pa.Array, offsets: np.ndarray) -> np.ndarray:
    """The bytes of a text chunk's values end to end, as uint8 (its own memory, not a copy)."""
    if offsets[-1] == offsets[0]:  # only empty values: maybe no data buffer at all
        return np.zeros(0, dtype=np.uint8)
    return np.frombuffer(chunk.buffers()[2], dtype=np.uint8)[offsets[0]:offsets[-1]]


def _ascii_without_nul(chunks: list[tuple[pa.Array, np.ndarray]]) -> bool:
    """True when every byte of the values (:func:`_text_chunks`) is 1 .. 127: ASCII without NUL."""
    for chunk, offsets in chunks:
        data = _value_bytes(chunk, offsets)
        if data.size and (data.min() == 0 or data.max() > 127):
            return False
    return True


def _byte_lengths(chunks: list[tuple[pa.Array, np.ndarray]]) -> tuple[int, int]:
    """The least and the greatest length in bytes of the values (:func:`_text_chunks`, not none)."""
    widths = [np.diff(offsets) for _, offsets in chunks]
    return min(int(part.min()) for part in widths), max(int(part.max()) for part in widths)


def packed_ids(ids: IdBytes) -> tuple[pd.api.extensions.ExtensionArray, dict[str, np.ndarray]]:
    """:func:`merge_ids`'s numbering of ids read as numbers (:func:`id_bytes`), without
    hashing text.

    Ids such as C00012345 span few numbers: a table indexed by number then ranks them, with no
    hashing and no sort, several times faster than hashing and sorting the text
    (docs/performance.md). Sparser numbers are hashed as integers, still faster than text.
    """
    offset = 0
    for position in ids.varying:  # padded positions' digits start at 0 already
        offset = offset * int(ids.base[position]) + (0 if position in ids.digits else int(ids.low[position]))
    rows = {name: sum(len(matrix) for matrix in table) for name, table in ids.matrices.items()}
    if ids.span <= _DENSE_ID_NUMBERS_PER_ROW * sum(rows.values()) + _DENSE_ID_NUMBERS:
        # Block by block, twice (mark the numbers present, then look up their ranks): blocks
        # stay in the cache, and no array of ten million numbers is made.
        present = np.zeros(ids.span, dtype=bool)
        for table in ids.matrices.values():
            for _, block in _id_number_blocks(table, ids, offset):
                present[block] = True
        rank = np.cumsum(present, dtype=np.int64).astype(CODE)
        rank -= 1
        used = np.flatnonzero(present)
        codes = {name: np.empty(count, dtype=CODE) for name, count in rows.items()}
        for name, table in ids.matrices.items():
            for start, block in _id_number_blocks(table, ids, offset):
                np.take(rank, block, out=codes[name][start:start + len(block)])
    else:
        numbers = {
            name: np.concatenate([block for _, block in _id_number_blocks(table, ids, offset)]
                                 or [np.zeros(0, np.int64)])
            for name, table in ids.matrices.items()
        }
        encoded = {name: pc.dictionary_encode(pa.array(values)) for name, values in numbers.items()}
        used = np.unique(np.concatenate([table.dictionary.to_numpy() for table in encoded.values()]))
        codes = {
            name: np.searchsorted(used, table.dictionary.to_numpy()).astype(CODE)[table.indices.to_numpy()]
            for name, table in encoded.items()
        }
    # the distinct ids as text again, from their numbers: digit by digit, last position first
    digits = np.repeat(ids.low.astype(np.uint8)[None, :], len(used), axis=0)
    rest = used
    for position in ids.varying[::-1]:
        rest, digit = np.divmod(rest, ids.base[position])
        if position in ids.digits:  # digit 0 is the padding, the NUL byte
            digits[:, position] = np.where(digit == 0, 0, digit - 1 + ids.low[position]).astype(np.uint8)
        else:
            digits[:, position] += digit.astype(np.uint8)
    text = _as_text(digits)
    return pd.array(pc.utf8_rtrim(text, "\x00") if ids.digits else text, dtype="str"), codes


def _byte_extremes(matrix: np.ndarray, extreme: np.ufunc) -> np.ndarray:
    """The least (np.minimum) or greatest (np.maximum) byte at each position of a byte matrix."""
    # Reducing ten million rows of nine bytes column-wise is slow (a short inner loop per row):
    # 64 rows side by side make one long row, and a reduction over those is much faster
    # (docs/performance.md).
    rows, width = matrix.shape
    whole = rows - rows % 64
    parts = [extreme.reduce(matrix[whole:], axis=0)] if whole < rows else []
    if whole:
        parts.append(extreme.reduce(extreme.reduce(matrix[:whole].reshape(-1, 64 * width), axis=0).reshape(64, width)))
    return extreme.reduce(np.stack(parts), axis=0)


def _id_number_blocks(
    chunks: list[np.ndarray], ids: IdBytes, offset: int,
) -> Iterator[tuple[int, np.ndarray]]:
    """The numbers (see :func:`id_bytes`) of one table's ids, less `offset` (so from 0), in
    blocks of at most :data:`BLOCK` rows: (position of the block's first row, its numbers)."""
    start = 0
    for matrix in chunks:
        for first in range(0, len(matrix), BLOCK):
            rows = matrix[first:first + BLOCK]
            numbers = np.zeros(len(rows), dtype=np.int64)
            for position in ids.varying:
                numbers *= ids.base[position]
                lookup = ids.digits.get(position)
                numbers += rows[:, position] if lookup is None else lookup[rows[:, position]]
            numbers -= offset
            yield start, numbers
            start += len(rows)


def _as_text(matrix: np.ndarray) -> pa.Array:
    """A (rows, width) byte matrix as Arrow large text (the bytes must be UTF-8, as ids' are)."""
    rows, width = matrix.shape
    data = pa.py_buffer(np.ascontiguousarray(matrix))
    fixed = pa.FixedSizeBinaryArray.from_buffers(pa.binary(width), rows, [None, data])
    return fixed.cast(pa.large_binary()).cast(pa.large_string())


def encode(values: pd.Series) -> tuple[np.ndarray, pd.api.extensions.ExtensionArray]:
    """Codes (-1 where missing) and the distinct values as text, in order of appearance.

    A categorical column is not hashed: its codes are reused, minus unused categories (an id
    that occurs in no row must not become a customer).
    """
    categorical = isinstance(values.dtype, pd.CategoricalDtype)
    # categories that are not text could become equal as text (1 and "1"): those are hashed
    if categorical and values.cat.categories.inferred_type == "string":
        codes = values.cat.codes.to_numpy(dtype=CODE)
        used = np.bincount(codes[codes >= 0], minlength=len(values.cat.categories)) > 0
        compact = np.r_[np.cumsum(used) - 1, -1].astype(CODE)  # the appended -1 keeps missing codes missing
        return compact[codes], pd.array(values.cat.categories[used], dtype="str")
    # Arrow's hash table is faster than pandas' on ten million strings (docs/performance.md), and
    # releases the GIL. It encodes the chunks of a column with one table and gives each chunk the final
    # dictionary; that is checked (a comparison of buffers), and the chunks joined if not so.
    text = pa.array(values.astype("str").array)  # Arrow-backed text: the column's own chunks
    # Ids of one width (C0001234, ...) are hashed as fixed-width bytes, which is faster still.
    fixed = _fixed_width(text)
    chunks = _chunks(pc.dictionary_encode(text if fixed is None else fixed))
    if any(not chunk.dictionary.equals(chunks[0].dictionary) for chunk in chunks[1:]):
        chunks = _chunks(pc.dictionary_encode((text if fixed is None else fixed).combine_chunks()))
    if not chunks:  # no rows
        return np.zeros(0, dtype=CODE), pd.array([], dtype="str")
    indices = pa.chunked_array([chunk.indices for chunk in chunks], type=pa.int32())
    codes = (pc.fill_null(indices, -1) if indices.null_count else indices).to_numpy()
    uniques = chunks[0].dictionary
    if fixed is not None:  # the same bytes, as text again
        uniques = uniques.cast(pa.large_binary()).cast(text.type)
    return codes, pd.array(uniques, dtype="str")


def _fixed_width(text: pa.Array | pa.ChunkedArray) -> pa.ChunkedArray | None:
    """`text` as fixed-width binary, sharing its bytes, when every value has the same length
    in bytes and none is missing; else None."""
    if text.null_count or not pa.types.is_large_string(text.type) and not pa.types.is_string(text.type):
        return None
    chunks = _text_chunks(text)
    if not chunks:
        return None
    width, widest = _byte_lengths(chunks)
    if width != widest or width == 0:
        return None
    return pa.chunked_array([
        pa.FixedSizeBinaryArray.from_buffers(
            pa.binary(width), len(chunk), [None, chunk.buffers()[2].slice(int(offsets[0]), len(chunk) * width)]
        )
        for chunk, offsets in chunks
    ], type=pa.binary(width))


def _chunks(encoded: pa.Array | pa.ChunkedArray) -> list[pa.DictionaryArray]:
    return encoded.chunks if isinstance(encoded, pa.ChunkedArray) else [encoded]

