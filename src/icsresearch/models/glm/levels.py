"""Level codes for Arrow columns, merged over chunks without touching Python objects per row.

A column read in chunks (record batches of a Parquet file, files of a partitioned folder, results
of Dask workers) meets its levels piecemeal: level ``"R07"`` may first appear in the fifth chunk.
:class:`LevelDictionary` keeps one global list of levels per column and gives every row the
global code of its value:

* a dictionary-encoded chunk (a pandas categorical written to Parquet, a hive partition key, a
  text column read as dictionary) is used through its indices: the chunk's small dictionary is
  mapped to global codes once (``pyarrow.compute.index_in``), then the indices are looked up
  (``numpy.take``);
* any other chunk is dictionary-encoded first by ``pyarrow.compute.dictionary_encode`` (C++
  hashing), then treated the same way.

Levels are kept in order of first appearance, dictionary entries included even where no row of
the chunk uses them: that is how ``pyarrow`` unifies the dictionaries of a categorical read in
pieces, so a categorical's categories (and its reference level) come out as ``pd.read_parquet``
gives them. Missing values (nulls, and NaN in floating columns, as pandas counts them) get code
``-1``.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

#: Code of a missing value.
MISSING = -1


def _missing_entries(dictionary: pa.Array) -> np.ndarray:
    """Dictionary entries that stand for a missing value: null, or NaN in a floating column."""
    missing = dictionary.is_null()
    if pa.types.is_floating(dictionary.type):
        missing = pc.or_(missing, pc.fill_null(pc.is_nan(dictionary), False))
    return missing.to_numpy(zero_copy_only=False)


def may_be_missing(array: pa.Array) -> bool:
    """Whether a chunk may hold a missing value, from Arrow's null counts (no pass over rows).

    Parameters
    ----------
    array
        A column's values in one chunk.

    Returns
    -------
    bool
        ``False`` when no row can be missing: no null, no null dictionary entry, and not
        floating (whose NaN pandas counts as missing).
    """
    values = array.dictionary if pa.types.is_dictionary(array.type) else array
    return bool(array.null_count or values.null_count or pa.types.is_floating(values.type))


class LevelDictionary:
    """The levels of one column, merged over chunks in order of first appearance.

    Parameters
    ----------
    name
        Column name (for messages).
    value_type
        Arrow type of the levels; chunks whose values have another type of the same kind
        (``string``/``large_string``, ``int8``/``int64``) are cast to it, dictionary by dictionary.

    Attributes
    ----------
    name
        Column name.
    values
        The levels seen so far, position = global code.
    """

    def __init__(self, name: str, value_type: pa.DataType):
        self.name = name
        self.values = pa.array([], type=value_type)
        # The last chunk dictionary and its codes: the chunks of one Parquet row group (and every
        # chunk of a categorical) share a dictionary, which is then mapped once.
        self._last_dictionary: pa.Array | None = None
        self._last_codes = np.empty(0, dtype=np.int32)

    @property
    def n_levels(self) -> int:
        """Number of levels seen."""
        return len(self.values)

    def codes_of(self, dictionary: pa.Array) -> np.ndarray:
        """Global code of each entry of a chunk's dictionary, adding levels not seen before.

        Parameters
        ----------
        dictionary
            Distinct values of one chunk (a dictionary array's dictionary, or the distinct values
            of a collapsed partition).

        Returns
        -------
        numpy.ndarray
            ``int32`` codes, ``-1`` for null (and NaN) entries.
        """
        last = self._last_dictionary
        if last is not None and last is dictionary:
            return self._last_codes
        if last is not None and len(last) == len(dictionary) and last.equals(dictionary):
            self._last_dictionary = dictionary
            return self._last_codes
        values = (
            dictionary if dictionary.type == self.values.type else dictionary.cast(self.values.type)
        )
        missing = _missing_entries(values)
        position = pc.index_in(values, value_set=self.values)
        unseen = np.logical_and(position.is_null().to_numpy(zero_copy_only=False), ~missing)
        if unseen.any():
            new = pc.unique(values.filter(pa.array(unseen)))
            self.values = pa.concat_arrays([self.values, new])
            position = pc.index_in(values, value_set=self.values)
        codes = position.fill_null(MISSING).to_numpy(zero_copy_only=False).astype(np.int32)
        codes[missing] = MISSING
        self._last_dictionary, self._last_codes = dictionary, codes
        return codes

    def encode(self, array: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """Global level code of every row of a chunk.

        Parameters
        ----------
        array
            The column's values in one chunk (dictionary-encoded or not).

        Returns
        -------
        numpy.ndarray
            A signed integer array (the chunk's own index width where the chunk's dictionary
            already is the global one, else ``int32``), ``-1`` where missing.
        """
        if isinstance(array, pa.ChunkedArray):
            parts = [self.encode(chunk) for chunk in array.chunks]
            if len(parts) == 1:  # the usual case: no copy
                return parts[0]
            return np.concatenate(parts) if parts else np.empty(0, dtype=np.int32)
        if not pa.types.is_dictionary(array.type):
            array = pc.dictionary_encode(array)
        dictionary, indices = array.dictionary, array.indices
        codes = self.codes_of(dictionary)
        n_entries = len(dictionary)
        identity = n_entries == self.n_levels and bool(
            np.array_equal(codes, np.arange(n_entries, dtype=np.int32))
        )
        if identity and indices.null_count == 0:
            return indices.to_numpy()  # int8 for a small categorical: no widening copy
        lookup = np.append(codes, np.int32(MISSING))  # the last entry serves the null rows
        if indices.null_count:
            indices = indices.fill_null(n_entries)
        return lookup[indices.to_numpy()]
