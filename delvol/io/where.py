"""Row filters: ``--where COL<OP>VALUE`` clauses, parsed and applied without evaluating code.

Every command that reads points and ``delvol store ingest`` filter rows through here, so a
clause means the same everywhere. A clause is a column name, one of the operators
:data:`OPERATORS` and a value; a row must pass every clause. The operator is the first run
of ``=``, ``!``, ``<`` and ``>`` in the clause, so a value may hold any of them.

Comparison rules:

- Number columns compare as numbers; the value must be a number.
- Text columns compare after trimming spaces; ``=`` and ``!=`` compare the text, and the
  ordering operators compare numbers, so they need a number and keep only rows whose text
  reads as one.
- A missing value (NaN, or blank text) passes no clause, ``!=`` included, as in SQL.
"""

from __future__ import annotations

import operator
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from delvol.errors import DelvolError
from delvol.io.tables import find_column

#: Operator symbol to its comparison.
OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_OPERATOR_CHARS = "=!<>"


@dataclass(frozen=True)
class Condition:
    """One parsed clause: ``column``, ``op`` (a key of :data:`OPERATORS`) and ``value`` (text)."""

    column: str
    op: str
    value: str

    def __str__(self) -> str:
        return f"{self.column}{self.op}{self.value}"


def parse_condition(text: str) -> Condition:
    """Split ``COL<OP>VALUE`` at its operator.

    Raises
    ------
    ValueError
        No operator, an unknown one (``==``, ``=<``...), or an empty column name.
    """
    start = next((i for i, ch in enumerate(text) if ch in _OPERATOR_CHARS), None)
    if start is None:
        raise ValueError(f"expected COL=VALUE (or !=, <, <=, >, >=), got {text!r}")
    end = start
    while end < len(text) and text[end] in _OPERATOR_CHARS:
        end += 1
    op = text[start:end]
    if op not in OPERATORS:
        raise ValueError(f"unknown operator {op!r} in {text!r}; use one of {' '.join(OPERATORS)}")
    column = text[:start].strip()
    if not column:
        raise ValueError(f"no column name in {text!r}")
    return Condition(column, op, text[end:].strip())


def where_mask(
    columns: Mapping[str, np.ndarray], clauses: Sequence[str | Condition], path: str | os.PathLike | None = None
) -> np.ndarray:
    """The rows of ``columns`` that pass every clause.

    Parameters
    ----------
    columns : mapping of str to ndarray
        Equal-length 1-D columns; names match exactly, else ignoring case.
    clauses : sequence of str or Condition
    path : path-like, optional
        The file the columns come from, for error messages.

    Raises
    ------
    DelvolError
        A malformed clause, an unknown column (the message lists the columns), a column of
        arrays, or a value that does not fit the column.
    """
    n = len(next(iter(columns.values()))) if columns else 0
    mask = np.ones(n, dtype=bool)
    for clause in clauses:
        try:
            cond = clause if isinstance(clause, Condition) else parse_condition(clause)
        except ValueError as exc:
            raise DelvolError(f"--where: {exc}", path) from None
        mask &= _passes(columns, cond, path)
    return mask


def _passes(columns: Mapping[str, np.ndarray], cond: Condition, path: str | os.PathLike | None) -> np.ndarray:
    name = find_column(columns, cond.column)
    if name is None:
        raise DelvolError(f"--where: no column {cond.column!r}; the columns are {', '.join(map(repr, columns))}", path)
    column = np.asarray(columns[name])
    if column.ndim != 1:
        raise DelvolError(f"--where: column {name!r} holds arrays, not single values", path)
    compare = OPERATORS[cond.op]
    if column.dtype.kind in "biuf":
        target = _number(cond.value, f"column {name!r} holds numbers, not {cond.value!r}", path)
        values = column.astype(np.float64)
        with np.errstate(invalid="ignore"):
            return compare(values, target) & ~np.isnan(values)
    text = np.char.strip(column.astype(str))
    present = text != ""
    if cond.op in ("=", "!="):
        return compare(text, cond.value) & present
    target = _number(cond.value, f"{cond.op} compares numbers, not {cond.value!r}", path)
    numbers = np.array([_to_float(t) for t in text], dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return compare(numbers, target) & ~np.isnan(numbers)


def _number(value: str, problem: str, path: str | os.PathLike | None) -> float:
    try:
        return float(value)
    except ValueError:
        raise DelvolError(f"--where: {problem}", path) from None


def _to_float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return np.nan
