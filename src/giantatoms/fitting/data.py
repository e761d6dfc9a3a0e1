"""Measured spectroscopy: :class:`SpectroscopyData` and its loaders.

The loaders read numpy arrays (:meth:`SpectroscopyData.from_arrays`), a
:class:`~giantatoms.measure.spectroscopy.Scattering` (``from_scattering``), CSV tables
(``from_csv``) and Touchstone files (``from_touchstone``); see the package docstring of
:mod:`giantatoms.fitting` for what they refuse and the sign conventions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass, replace
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray

from giantatoms._validation import choice, real_array
from giantatoms.fitting._loading import _is_number, _order_points, _read_text
from giantatoms.fitting._touchstone import _TOUCHSTONE_UNITS, _read_touchstone
from giantatoms.measure.spectroscopy import Scattering
from giantatoms.units import GHz, Hz, MHz, kHz

__all__ = ["SpectroscopyData"]


_TRACES = ("s21", "s11")
_CONVENTIONS = ("engineering", "physics")
_FREQUENCY_UNITS = {"Hz": Hz, "kHz": kHz, "MHz": MHz, "GHz": GHz, "rad/s": 1.0}
_CSV_LAYOUTS = ("real,imag", "db,deg", "db,rad", "mag,deg", "mag,rad")


def _frequency_factor(unit: str) -> float:
    """rad/s per unit of ``unit``: SI prefixes are case-sensitive (``mHz`` is not ``MHz``)."""
    text = unit.strip() if isinstance(unit, str) else unit
    if text not in _FREQUENCY_UNITS:
        near = [u for u in _FREQUENCY_UNITS if isinstance(text, str) and u.lower() == text.lower()]
        hint = f"; did you mean {near[0]!r}? (units are case-sensitive)" if near else ""
        raise ValueError(
            f"unit must be one of {list(_FREQUENCY_UNITS)}, got {unit!r}{hint} "
            "(Hz … GHz are ordinary frequencies f, converted to ω = 2πf)"
        )
    return _FREQUENCY_UNITS[text]


def _complex_trace(value: ArrayLike, name: str, size: int) -> NDArray[np.complex128]:
    try:
        arr = np.array(value, dtype=complex)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"SpectroscopyData: {name} must be complex numbers") from exc
    if arr.ndim != 1:
        raise ValueError(f"SpectroscopyData: {name} must be 1-D, got shape {arr.shape}")
    if arr.size != size:
        raise ValueError(
            f"SpectroscopyData: {name} has {arr.size} points but frequencies has {size} "
            "(mismatched lengths)"
        )
    bad = ~np.isfinite(arr)
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        what = "NaN" if np.isnan(arr[i]) else "inf"
        raise ValueError(
            f"SpectroscopyData: {name} contains {what} at index {i} "
            f"({int(bad.sum())} non-finite point(s)); drop or repair those points"
        )
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False, repr=False)
class SpectroscopyData:
    """Measured (or simulated) complex transmission and/or reflection on one frequency axis.

    Parameters
    ----------
    frequencies : array_like, rad/s, shape (P,)
        Probe frequencies, strictly increasing, > 0.
    s21, s11 : array_like, complex, shape (P,), optional
        Transmission left→right and reflection at the left port; at least one.
    convention : {"engineering", "physics"}
        Sign convention of the arrays (keyword, required): ``"engineering"`` for network-analyser
        data and Touchstone files (e^{+jωt}), ``"physics"`` for :func:`giantatoms.scattering`
        output (e^{−iωt}). See the module docstring.
    sigma : float or array_like, shape (P,), optional
        Noise standard deviation of the real part and of the imaginary part of each point (the
        same for every trace). ``None``: unknown, estimated from the fit residuals.
    source : str
        Where the data came from (a file name, "simulated", …).
    """

    frequencies: NDArray[np.float64]
    s21: NDArray[np.complex128] | None = None
    s11: NDArray[np.complex128] | None = None
    _: KW_ONLY
    convention: str
    sigma: NDArray[np.float64] | None = None
    source: str = ""

    def __post_init__(self) -> None:
        owner = "SpectroscopyData"
        freq = real_array(self.frequencies, "frequencies", owner=owner)
        if freq.ndim != 1:
            raise ValueError(f"{owner}: frequencies must be 1-D (rad/s), got shape {freq.shape}")
        if freq.size == 0:
            raise ValueError(f"{owner}: frequencies is empty; there is nothing to fit")
        if np.any(freq <= 0):
            raise ValueError(f"{owner}: frequencies must be > 0 rad/s, got min {freq.min():g}")
        steps = np.diff(freq)
        if np.any(steps <= 0):
            i = int(np.flatnonzero(steps <= 0)[0])
            raise ValueError(
                f"{owner}: frequencies must be strictly increasing; frequencies[{i + 1}] = "
                f"{freq[i + 1]:.10g} ≤ frequencies[{i}] = {freq[i]:.10g} rad/s "
                "(sort the points and drop repeated frequencies; SpectroscopyData.from_arrays "
                "sorts them for you)"
            )
        s = object.__setattr__
        s(self, "frequencies", freq)
        if self.s21 is None and self.s11 is None:
            raise ValueError(f"{owner}: give at least one of s21 and s11")
        for name in _TRACES:
            value = getattr(self, name)
            if value is not None:
                s(self, name, _complex_trace(value, name, freq.size))
        s(self, "convention", choice(self.convention, "convention", _CONVENTIONS, owner=owner))
        if self.sigma is not None:
            sigma = real_array(self.sigma, "sigma", owner=owner, minimum=0, strict_minimum=True)
            if sigma.ndim > 1 or (sigma.ndim == 1 and sigma.size != freq.size):
                raise ValueError(
                    f"{owner}: sigma must be a scalar or have one value per point ({freq.size}), "
                    f"got shape {sigma.shape}"
                )
            s(self, "sigma", sigma)
        if not isinstance(self.source, str):
            raise TypeError(f"{owner}: source must be a string, got {self.source!r}")

    # -- access ------------------------------------------------------------------------------

    @property
    def traces(self) -> tuple[str, ...]:
        """Names of the traces present, in the order ``("s21", "s11")``."""
        return tuple(t for t in _TRACES if getattr(self, t) is not None)

    @property
    def n_points(self) -> int:
        """Number of frequency points P."""
        return int(self.frequencies.size)

    def trace(self, name: str) -> NDArray[np.complex128]:
        """The trace ``"s21"`` or ``"s11"`` (complex, shape (P,), in ``convention``)."""
        key = choice(name, "trace", _TRACES)
        value = getattr(self, key)
        if value is None:
            raise ValueError(f"trace {key!r} is not in the data (traces: {list(self.traces)})")
        return value

    def _engineering(self, name: str) -> NDArray[np.complex128]:
        value = self.trace(name)
        return value if self.convention == "engineering" else np.conj(value)

    def _from_engineering(self, values: NDArray[np.complex128]) -> NDArray[np.complex128]:
        return values if self.convention == "engineering" else np.conj(values)

    def crop(self, low: float, high: float) -> SpectroscopyData:
        """The points with ``low ≤ frequency ≤ high`` (rad/s).

        Returns
        -------
        SpectroscopyData
        """
        keep = (self.frequencies >= low) & (self.frequencies <= high)
        if not np.any(keep):
            raise ValueError(
                f"no points between {low / GHz:.6g} and {high / GHz:.6g} GHz "
                f"(data span {self.frequencies[0] / GHz:.6g}–{self.frequencies[-1] / GHz:.6g} GHz)"
            )
        sigma = self.sigma
        if sigma is not None and sigma.ndim == 1:
            sigma = sigma[keep]
        traces = {t: getattr(self, t)[keep] for t in self.traces}
        return replace(self, frequencies=self.frequencies[keep], sigma=sigma, **traces)

    def __repr__(self) -> str:
        f = self.frequencies
        sigma = "estimated" if self.sigma is None else f"{float(np.mean(self.sigma)):.3g}"
        source = f", source={self.source!r}" if self.source else ""
        return (
            f"SpectroscopyData({self.n_points} points, {f[0] / GHz:.6g}–{f[-1] / GHz:.6g} GHz, "
            f"traces {', '.join(self.traces)}, convention={self.convention!r}, sigma={sigma}"
            f"{source})"
        )

    # -- constructors ------------------------------------------------------------------------

    @classmethod
    def from_arrays(
        cls,
        frequencies: ArrayLike,
        s21: ArrayLike | None = None,
        s11: ArrayLike | None = None,
        *,
        unit: str,
        convention: str,
        sigma: ArrayLike | None = None,
        source: str = "",
    ) -> SpectroscopyData:
        """Data from numpy arrays.

        Points out of frequency order are sorted (every trace and a per-point σ with them)
        with a :class:`UserWarning` saying how many moved; exactly repeated points (same
        frequency, same values) are dropped with a warning; a frequency repeated with different
        values is refused. Nothing is dropped silently.

        Parameters
        ----------
        frequencies : array_like, shape (P,)
            In ``unit``.
        s21, s11 : array_like, complex, shape (P,), optional
        unit : {"Hz", "kHz", "MHz", "GHz", "rad/s"}
            Unit of ``frequencies`` (keyword, required). Hz … GHz are ordinary frequencies.
        convention : {"engineering", "physics"}
            Sign convention of the arrays (keyword, required).
        sigma : float or array_like, shape (P,), optional
            Noise standard deviation per real/imaginary component.
        source : str

        Returns
        -------
        SpectroscopyData

        Raises
        ------
        ValueError
            For a frequency repeated with different data, and everything the constructor
            refuses (NaN, mismatched lengths, …).
        """
        factor = _frequency_factor(unit)
        freq = real_array(frequencies, "frequencies", owner="SpectroscopyData")
        freq, columns = _order_points(
            freq,
            {"s21": s21, "s11": s11, "sigma": sigma if np.ndim(sigma) == 1 else None},
            where="SpectroscopyData.from_arrays",
            unit=unit.strip(),
        )
        if columns["sigma"] is not None:
            sigma = columns["sigma"]
        freq = np.asarray(freq, dtype=float) * factor
        return cls(
            freq, columns["s21"], columns["s11"], convention=convention, sigma=sigma, source=source
        )

    @classmethod
    def from_scattering(
        cls,
        result: Scattering,
        *,
        traces: Sequence[str] = _TRACES,
        sigma: ArrayLike | None = None,
        source: str = "giantatoms.scattering",
    ) -> SpectroscopyData:
        """Data from a :class:`~giantatoms.measure.spectroscopy.Scattering` without batch axes.

        Probe frequencies out of order are sorted, exactly repeated points dropped (each with a
        :class:`UserWarning`), as for :meth:`from_arrays`.

        Parameters
        ----------
        result : Scattering
            Output of :func:`giantatoms.scattering` for one parameter set (S21 of shape (P,)).
        traces : sequence of {"s21", "s11"}
        sigma : float or array_like, optional
        source : str

        Returns
        -------
        SpectroscopyData
            In the physics convention.
        """
        if not isinstance(result, Scattering):
            raise TypeError(f"result must be a Scattering, got {type(result).__name__}")
        if np.ndim(result.s21) != 1:
            raise ValueError(
                f"result must have no batch axes (S21 of shape (P,)), got {np.shape(result.s21)}"
            )
        chosen = {choice(t, "traces", _TRACES): getattr(result, t) for t in traces}
        freq, columns = _order_points(
            result.probe_frequencies,
            {**chosen, "sigma": sigma if np.ndim(sigma) == 1 else None},
            where="SpectroscopyData.from_scattering",
            unit="rad/s",
        )
        ordered_sigma = columns.pop("sigma")
        if ordered_sigma is not None:
            sigma = ordered_sigma
        return cls(freq, convention="physics", sigma=sigma, source=source, **columns)

    @classmethod
    def from_csv(
        cls,
        path: str | Path,
        *,
        unit: str,
        layout: str = "real,imag",
        frequency_column: int | str = 0,
        s21_columns: tuple[int | str, int | str] | None = None,
        s11_columns: tuple[int | str, int | str] | None = None,
        delimiter: str | None = None,
        convention: str = "engineering",
        sigma: ArrayLike | None = None,
    ) -> SpectroscopyData:
        """Read a CSV (or whitespace-separated) table of frequency and complex traces.

        Lines starting with ``#`` or ``!`` are comments. If the first other line has no numeric
        field it is a header, and columns may then be named by their header entry. Every other
        line must hold the same number of fields, all numbers. Rows out of frequency order are
        sorted and exactly repeated rows dropped, each with a :class:`UserWarning`; a frequency
        repeated with different values is refused (see :meth:`from_arrays`).

        Parameters
        ----------
        path : str or Path
        unit : {"Hz", "kHz", "MHz", "GHz", "rad/s"}
            Unit of the frequency column (keyword, required).
        layout : {"real,imag", "db,deg", "db,rad", "mag,deg", "mag,rad"}
            What each trace's two columns hold: real and imaginary part, or magnitude (dB =
            20·log10|S|, or linear) and phase.
        frequency_column : int or str
            Column index (0-based) or header name.
        s21_columns, s11_columns : (int or str, int or str), optional
            The two columns of each trace. Default: S21 in columns 1 and 2 when neither is given.
        delimiter : str, optional
            Default: detected from the first data line (``,``, ``;``, tab, else whitespace).
        convention : {"engineering", "physics"}
            Network-analyser exports are ``"engineering"``.
        sigma : float or array_like, optional

        Returns
        -------
        SpectroscopyData

        Raises
        ------
        FileNotFoundError
            When ``path`` does not exist (the message names it).
        ValueError
            One line naming the file (and line and column) for an empty or binary file, a
            non-numeric field, a ragged row, a repeated frequency with different data, and
            whatever the constructor refuses.
        """
        if not isinstance(layout, str):
            raise TypeError(f"layout must be a string such as 'real,imag', got {layout!r}")
        layout_key = choice(layout.replace(" ", ""), "layout", _CSV_LAYOUTS)
        factor = _frequency_factor(unit)
        if s21_columns is None and s11_columns is None:
            s21_columns = (1, 2)
        path = Path(path)
        rows = [
            (number, line)
            for number, line in enumerate(_read_text(path, "CSV").splitlines(), start=1)
            if line.strip() and not line.lstrip().startswith(("#", "!"))
        ]
        if not rows:
            raise ValueError(
                f"{path}: no data lines (the file is empty or holds only comments); expected "
                "rows of frequency and trace columns"
            )
        if delimiter is None:
            delimiter = next((d for d in (",", ";", "\t") if d in rows[0][1]), None)

        def fields(line: str) -> list[str]:
            return [x.strip().strip("\"'") for x in line.split(delimiter)]

        header: list[str] | None = None
        first = fields(rows[0][1])
        if not any(_is_number(x) for x in first):
            header, rows = [x.lower() for x in first], rows[1:]
        if not rows:
            raise ValueError(f"{path}: the file has a header but no data rows")
        width = len(fields(rows[0][1]))
        table = np.empty((len(rows), width))
        for r, (number, line) in enumerate(rows):
            values = fields(line)
            if len(values) != width:
                raise ValueError(
                    f"{path}, line {number}: {len(values)} fields, but the first data row has "
                    f"{width} (every row needs the same columns)"
                )
            for c, x in enumerate(values):
                if not _is_number(x):
                    hint = (
                        " (a header row may not hold numbers)" if r == 0 and header is None else ""
                    )
                    raise ValueError(
                        f"{path}, line {number}, column {c}: {x!r} is not a number{hint}"
                    )
                table[r, c] = float(x)

        def column(spec: int | str) -> NDArray[np.float64]:
            if isinstance(spec, str):
                if header is None:
                    raise ValueError(f"{path}: column {spec!r} named but the file has no header")
                if spec.strip().lower() not in header:
                    raise ValueError(f"{path}: no column {spec!r} in the header {header}")
                spec = header.index(spec.strip().lower())
            if isinstance(spec, bool) or not isinstance(spec, (int, np.integer)):
                raise TypeError(f"columns are 0-based integers or header names, got {spec!r}")
            if not -table.shape[1] <= spec < table.shape[1]:
                raise ValueError(f"{path}: column {spec} out of range ({table.shape[1]} columns)")
            return table[:, spec]

        traces = {}
        for name, columns in (("s21", s21_columns), ("s11", s11_columns)):
            if columns is None:
                continue
            if len(columns) != 2:
                raise ValueError(f"{name}_columns must name two columns, got {columns!r}")
            a, b = column(columns[0]), column(columns[1])
            if layout_key == "real,imag":
                traces[name] = a + 1j * b
            else:
                magnitude = 10.0 ** (a / 20.0) if layout_key.startswith("db") else a
                phase = np.deg2rad(b) if layout_key.endswith("deg") else b
                traces[name] = magnitude * np.exp(1j * phase)
        # Repeats are judged on whole rows, so a column not read still tells rows apart.
        freq, ordered = _order_points(
            column(frequency_column),
            {**traces, "row": table, "sigma": sigma if np.ndim(sigma) == 1 else None},
            where=str(path),
            unit=unit.strip(),
        )
        if ordered["sigma"] is not None:
            sigma = ordered["sigma"]
        traces = {name: ordered[name] for name in traces}
        try:
            return cls(
                np.asarray(freq) * factor,
                convention=convention,
                sigma=sigma,
                source=str(path),
                **traces,
            )
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from exc

    @classmethod
    def from_touchstone(
        cls,
        path: str | Path,
        *,
        parameters: str | Sequence[str] = "s21",
        convention: str = "engineering",
        sigma: ArrayLike | None = None,
    ) -> SpectroscopyData:
        """Read a Touchstone file (.s1p, .s2p, … ; version 1 or 2).

        Version-1 S-parameter files are parsed here, keeping every data row: scikit-rf reads a
        2-port row whose frequency is lower than the one before as the start of the noise
        block and drops the rest of the network data. Rows out of frequency order are sorted and
        exactly repeated rows dropped, each with a :class:`UserWarning`; a frequency repeated
        with different values is refused. Version-2 files and Y/Z/G/H parameters are read by
        scikit-rf, and the point count is checked against the file.

        Parameters
        ----------
        path : str or Path
            Named ``*.sNp`` (N ports), or ``*.ts`` for version 2.
        parameters : {"s21", "s11"} or sequence of them
            Which S-parameters to read (port 1 = the left end of the waveguide).
        convention : {"engineering", "physics"}
            Touchstone files are ``"engineering"``.
        sigma : float or array_like, optional

        Returns
        -------
        SpectroscopyData

        Raises
        ------
        FileNotFoundError
            When ``path`` does not exist (the message names it).
        ValueError
            One line naming the file (and line) for an empty or binary file, a data line whose
            column count does not fit the port count (e.g. 1-port data in a ``.s2p``), a
            non-numeric field, a bad option line, a repeated frequency with different data,
            and whatever the constructor refuses.
        """
        names = [parameters] if isinstance(parameters, str) else list(parameters)
        names = [choice(p, "parameters", _TRACES) for p in names]
        if not names:
            raise ValueError("parameters must name at least one of 's21', 's11'")
        path = Path(path)
        text = _read_text(path, "Touchstone")
        frequencies, s, unit = _read_touchstone(path, text)
        ports = s.shape[-1]
        traces = {}
        for name in names:
            i, j = (1, 0) if name == "s21" else (0, 0)
            if max(i, j) >= ports:
                raise ValueError(f"{path}: {name} needs a 2-port file, this one has {ports} port")
            traces[name] = s[:, i, j]
        freq, ordered = _order_points(
            frequencies,
            {**traces, "row": s, "sigma": sigma if np.ndim(sigma) == 1 else None},
            where=str(path),
            unit=unit,
        )
        if ordered["sigma"] is not None:
            sigma = ordered["sigma"]
        traces = {name: ordered[name] for name in traces}
        try:
            return cls(
                np.asarray(freq, dtype=float) * _TOUCHSTONE_UNITS[unit.lower()] * Hz,
                convention=convention,
                sigma=sigma,
                source=str(path),
                **traces,
            )
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from exc
