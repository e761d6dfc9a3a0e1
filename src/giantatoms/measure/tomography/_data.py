"""The counts of a tomography experiment (measured or simulated) and their CSV format."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from giantatoms._validation import real_array
from giantatoms.measure.tomography._readout import ReadoutModel
from giantatoms.measure.tomography._settings import OUTCOMES, _resolve_settings


@dataclass(frozen=True, eq=False)
class TomographyData:
    """Counts of a two-qubit tomography experiment (measured or simulated).

    Parameters
    ----------
    settings : str or sequence of str
        ``"pauli"``, ``"cardinal"`` or the setting of each row (stored canonically).
    counts : array_like, shape (batch…, n_settings, 4)
        Counts of the outcomes gg, ge, eg, ee (first qubit first) per setting: non-negative
        integers, at least one shot per setting. With ``expected=True`` non-negative real
        numbers (expected counts or probabilities) are allowed.
    readout : ReadoutModel, optional
        The readout model the counts were taken with (``None``: unknown / ideal).
    seed : int, optional
        Seed of the random generator that sampled the counts (``None`` for measured data).
    expected : bool
        True when ``counts`` are exact expectation values rather than samples (from
        ``simulate_counts(..., shots=None)``); such data cannot be bootstrapped.
    """

    settings: tuple[str, ...]
    counts: NDArray[Any]
    readout: ReadoutModel | None = None
    seed: int | None = None
    expected: bool = False

    def __post_init__(self) -> None:
        owner = "TomographyData"
        names = _resolve_settings(self.settings)
        object.__setattr__(self, "settings", names)
        if isinstance(self.counts, (str, bytes)):
            raise TypeError(f"{owner}: counts must be an array of numbers")
        if np.iscomplexobj(np.asarray(self.counts)):
            raise TypeError(f"{owner}: counts must be real numbers")
        counts = real_array(self.counts, "counts", owner=owner, minimum=0)
        if counts.ndim < 2 or counts.shape[-1] != 4 or counts.shape[-2] != len(names):
            raise ValueError(
                f"{owner}: counts must have shape (batch…, n_settings={len(names)}, 4) "
                f"(outcomes gg, ge, eg, ee), got {counts.shape}"
            )
        if not isinstance(self.expected, bool):
            raise TypeError(f"{owner}: expected must be a bool, got {self.expected!r}")
        if not self.expected:
            if np.any(counts != np.round(counts)):
                raise ValueError(
                    f"{owner}: counts must be integers (use expected=True for expected counts)"
                )
            counts = counts.astype(np.int64)
        totals = counts.sum(axis=-1)
        if np.any(totals <= 0):
            empty = sorted({names[k] for k in np.nonzero(totals <= 0)[-1]})
            raise ValueError(f"{owner}: counts has no shots for setting(s) {empty}")
        counts.setflags(write=False)
        object.__setattr__(self, "counts", counts)
        if self.readout is not None and not isinstance(self.readout, ReadoutModel):
            raise TypeError(
                f"{owner}: readout must be a ReadoutModel or None, got {type(self.readout)}"
            )
        if self.seed is not None:
            if isinstance(self.seed, bool) or not isinstance(self.seed, int | np.integer):
                raise TypeError(f"{owner}: seed must be an int or None, got {self.seed!r}")
            object.__setattr__(self, "seed", int(self.seed))

    @property
    def shots(self) -> NDArray[Any]:
        """Total counts per setting, shape (batch…, n_settings)."""
        return self.counts.sum(axis=-1)

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Leading batch shape of ``counts``."""
        return self.counts.shape[:-2]

    @classmethod
    def from_arrays(
        cls,
        settings: str | Sequence[str],
        counts: ArrayLike,
        readout: ReadoutModel | None = None,
    ) -> TomographyData:
        """Wrap measured counts.

        Parameters
        ----------
        settings : {"pauli", "cardinal"} or sequence of str
            The setting of each row of ``counts``.
        counts : array_like of int, shape (batch…, n_settings, 4)
            Outcome counts gg, ge, eg, ee.
        readout : ReadoutModel, optional
            The calibrated readout (used for mitigation).

        Returns
        -------
        TomographyData
        """
        return cls(settings=settings, counts=counts, readout=readout)  # type: ignore[arg-type]

    @classmethod
    def from_csv(
        cls,
        path: str | Path,
        *,
        readout: ReadoutModel | None = None,
        expected: bool = False,
    ) -> TomographyData:
        """Read counts from a CSV file.

        Format: an optional preamble of lines starting with ``#``, then a header
        ``setting,gg,ge,eg,ee`` and one row per setting, e.g. ``XY,512,488,470,530``
        (first qubit first in the outcome labels). One data set per file (no batch).

        Parameters
        ----------
        path : str or Path
            The file.
        readout : ReadoutModel, optional
            The calibrated readout to attach.
        expected : bool
            Allow non-integer (expected) counts.

        Returns
        -------
        TomographyData
        """
        file = Path(path)
        with file.open(newline="") as handle:
            lines = [line for line in handle if line.strip() and not line.lstrip().startswith("#")]
        rows = list(csv.reader(lines))
        if not rows:
            raise ValueError(f"path: {file} holds no data")
        header = [h.strip().lower() for h in rows[0]]
        if header != ["setting", *OUTCOMES]:
            raise ValueError(
                f"path: {file} must start with the header 'setting,gg,ge,eg,ee', got "
                f"{','.join(rows[0])!r}"
            )
        settings, counts = [], []
        for number, row in enumerate(rows[1:], start=2):
            if len(row) != 5:
                raise ValueError(f"path: {file}, data row {number}: expected 5 columns, got {row}")
            settings.append(row[0].strip())
            try:
                counts.append([float(v) for v in row[1:]])
            except ValueError as exc:
                raise ValueError(
                    f"path: {file}, data row {number}: counts must be numbers"
                ) from exc
        return cls(
            settings=tuple(settings), counts=np.array(counts), readout=readout, expected=expected
        )

    def to_csv(self, path: str | Path) -> None:
        """Write the counts in the format read by :meth:`from_csv` (unbatched data only).

        Parameters
        ----------
        path : str or Path
            Destination file (overwritten).
        """
        if self.batch_shape:
            raise ValueError(
                f"to_csv writes one data set; counts has batch shape {self.batch_shape} "
                f"(index the batch first)"
            )
        with Path(path).open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["setting", *OUTCOMES])
            for setting, row in zip(self.settings, self.counts, strict=True):
                writer.writerow([setting, *(repr(v.item()) for v in row)])
