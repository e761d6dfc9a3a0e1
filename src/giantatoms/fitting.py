"""Fit measured waveguide spectroscopy (complex S21 / S11) with line shapes or the device model.

Two levels of model (PHYSICS.md §7):

* quick looks — one resonance in transmission, :func:`fit_lorentzian`
  (t = 1 − (Γ/2)/(Γ₂ − iΔ)) and :func:`fit_fano` (the same with a complex coupling, the
  impedance-mismatch angle θ of the "diameter correction" method);
* parameter extraction — :func:`fit_device` evaluates :func:`giantatoms.scattering` (linear
  response) for a :class:`~giantatoms.model.device.Device` whose named quantities float: atom
  frequencies, per-point rates, point spacing or phase, intrinsic loss, dephasing, chirality,
  phase velocity.

Every model is multiplied by a complex background per trace (:class:`Background`: amplitude,
phase, cable delay, optional linear amplitude slope). Fits minimise the stacked real and
imaginary residuals weighted by the noise σ (``scipy.optimize.least_squares``, bounded), with a
Jacobian from central differences evaluated as one batched model call. A :class:`FitResult`
reports values, standard errors from the covariance (JᵀJ)⁻¹ (scaled by the residual variance when
σ is not given), correlations, χ², and parametric or residual bootstrap errors on request.

The loaders (:meth:`SpectroscopyData.from_arrays`, ``from_csv``, ``from_touchstone``,
``from_scattering``) never drop data silently: points out of frequency order are sorted and
exactly repeated rows dropped with a :class:`UserWarning` that counts them, a frequency repeated
with different data is refused, and bad files give one-line errors naming the file. The fits
refuse traces with nothing to fit (all zero, constant, no feature above the noise), and a fit
whose result is not meaningful (singular covariance, line outside the band or wider than it)
has ``success`` False with the ``reason``.

Sign convention
---------------
Network analysers and Touchstone files use the engineering convention (time dependence
e^{+jωt}: a cable of delay τ transmits e^{−jωτ}); the package's model uses the physics
convention (e^{−iωt}: PHYSICS.md §2, propagation e^{+ikx}). The two are complex conjugates of
each other. :class:`SpectroscopyData` records which one its arrays use (``convention``) and the
fits conjugate the model accordingly, so measured data are fitted as measured. The background is
defined in the engineering convention,

    B(ω) = A·[1 + s·(ω − ω_ref)]·exp(i[φ − (ω − ω_ref)·τ]),

so τ > 0 is a physical delay in either convention and φ is the phase a network analyser shows
at ω_ref (the centre of the data in fits).

Units: frequencies and rates in rad/s, times in s, lengths in m, angles in rad (use
:mod:`giantatoms.units` at the edges; ``summary()`` prints GHz, MHz (rates /2π), ns, µs, mm).
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, stats

from giantatoms._validation import choice, real_array
from giantatoms.measure.spectroscopy import Scattering, scattering
from giantatoms.model.device import Device
from giantatoms.units import GHz, Hz, MHz, kHz, ns, us

__all__ = [
    "Background",
    "Bootstrap",
    "FitResult",
    "SpectroscopyData",
    "estimate_cable_delay",
    "fit_device",
    "fit_fano",
    "fit_lorentzian",
    "remove_background",
    "remove_cable_delay",
]

_TRACES = ("s21", "s11")
_CONVENTIONS = ("engineering", "physics")
_FREQUENCY_UNITS = {"Hz": Hz, "kHz": kHz, "MHz": MHz, "GHz": GHz, "rad/s": 1.0}
_CSV_LAYOUTS = ("real,imag", "db,deg", "db,rad", "mag,deg", "mag,rad")
_BACKGROUND_FIELDS = ("amplitude", "phase", "delay", "slope")
_DEFAULT_VARY = ("amplitude", "phase", "delay")
# Central-difference step in the scaled fit variables (each scaled unit is "a change the data
# notice": about a linewidth, 0.1 rad, …), so truncation error ~1e-8 and round-off ~1e-9.
_STEP = 1e-4
_EDGE_FRACTION = 0.2


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------


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


def _show_frequencies(values: NDArray[np.float64], unit: str, limit: int = 4) -> str:
    """The first ``limit`` of ``values`` as text, "and N more" after them."""
    shown = ", ".join(f"{v:.10g}" for v in values[:limit])
    more = f" and {values.size - limit} more" if values.size > limit else ""
    return f"{shown}{more} {unit}"


def _order_points(
    frequencies: ArrayLike,
    columns: Mapping[str, ArrayLike | None],
    *,
    where: str,
    unit: str,
) -> tuple[Any, dict[str, Any]]:
    """Sort user data by frequency and handle repeated frequencies, never silently.

    Parameters
    ----------
    frequencies : array_like, shape (P,)
        In ``unit`` (only used in messages).
    columns : mapping name → array_like of shape (P, ...) or None
        Everything that belongs to a point (traces, per-point σ, whole file rows); all are
        reordered together.
    where : str
        Names the data in messages (a file, ``"SpectroscopyData.from_arrays"``).
    unit : str
        Unit of ``frequencies`` for messages.

    Returns
    -------
    frequencies, columns
        Sorted, with exactly repeated rows dropped. Sorted inputs, and inputs the constructor
        will reject anyway (NaN, not numbers), are returned unchanged, for it to report.

    Raises
    ------
    ValueError
        When a frequency appears more than once with different data, or the points to sort
        have mismatched lengths.

    Warns
    -----
    UserWarning
        When points were out of order (they are sorted) or rows were repeated exactly (the
        repeats are dropped); the message says how many.
    """
    try:
        freq = np.asarray(frequencies, dtype=float)
        arrays = {k: np.asarray(v) for k, v in columns.items() if v is not None}
    except (TypeError, ValueError):
        return frequencies, dict(columns)
    n = freq.size
    if freq.ndim != 1 or n < 2 or not np.all(np.isfinite(freq)) or np.all(np.diff(freq) > 0):
        return frequencies, dict(columns)
    for name, a in arrays.items():
        if a.ndim < 1 or a.shape[0] != n:
            raise ValueError(
                f"{where}: {name} has shape {a.shape} but frequencies has {n} points "
                "(mismatched lengths)"
            )
    order = np.argsort(freq, kind="stable")
    moved = int(np.count_nonzero(order != np.arange(n)))
    freq = freq[order]
    arrays = {k: a[order] for k, a in arrays.items()}
    repeat = np.diff(freq) == 0  # point i + 1 repeats point i
    dropped = 0
    if np.any(repeat):
        differs = np.zeros(n - 1, dtype=bool)
        for a in arrays.values():
            same = a[1:] == a[:-1]
            differs |= ~same.reshape(n - 1, -1).all(axis=1)
        conflict = np.unique(freq[1:][repeat & differs])
        if conflict.size:
            raise ValueError(
                f"{where}: {conflict.size} frequency value(s) appear more than once with "
                f"different data ({_show_frequencies(conflict, unit)}); average or remove the "
                "repeated points (frequencies must be distinct)"
            )
        keep = np.concatenate([[True], ~repeat])
        dropped = int(n - keep.sum())
        freq = freq[keep]
        arrays = {k: a[keep] for k, a in arrays.items()}
        warnings.warn(
            f"{where}: dropped {dropped} exactly repeated row(s) (same frequency and data); "
            f"{freq.size} of {n} points kept",
            UserWarning,
            stacklevel=3,
        )
    if moved:
        warnings.warn(
            f"{where}: {moved} of {n} points were out of frequency order; sorted them by "
            "frequency (every trace and σ moved with its frequency)",
            UserWarning,
            stacklevel=3,
        )
    out: dict[str, Any] = dict.fromkeys(columns)
    out.update(arrays)
    return freq, out


_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")


def _read_text(path: Path, what: str) -> str:
    """The text of a data file; one-line errors for a missing, empty-named or binary file."""
    if not path.exists():
        raise FileNotFoundError(f"no {what} file {str(path)!r} (the path does not exist)")
    if not path.is_file():
        raise ValueError(f"{path}: not a {what} file (it is a directory or a special file)")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")  # instrument exports with a ° or µ in a comment
    bad = _CONTROL.search(text)
    if bad is not None:
        raise ValueError(
            f"{path}: not a text {what} file (character {bad.start()} is the control code "
            f"{bad.group()!r}: binary data?); expected lines of numbers"
        )
    return text


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


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------------------------
# Touchstone
# --------------------------------------------------------------------------------------------

_TOUCHSTONE_UNITS = {"hz": 1.0, "khz": 1e3, "mhz": 1e6, "ghz": 1e9}
_TOUCHSTONE_FORMATS = ("ri", "ma", "db")
_TOUCHSTONE_EXTENSION = re.compile(r"\.[sygzh](\d+)p$", re.IGNORECASE)


def _read_touchstone(path: Path, text: str) -> tuple[NDArray[np.float64], NDArray, str]:
    """Frequencies (in the file's unit), S matrices (F, N, N) and that unit, every row kept.

    Version-1 S-parameter files are parsed line by line: each frequency point of a 1- or
    2-port file is one line of 1 + 2N² numbers, of more ports 1 + 2N² numbers over several
    lines; a 2-port file may end with a noise block of 5-number lines, which is skipped.
    Version-2 files (a ``[Version]`` keyword) and Y/Z/G/H parameters go through scikit-rf,
    with the point count checked against the file.
    """
    match = _TOUCHSTONE_EXTENSION.search(path.name)
    lines = list(enumerate(text.splitlines(), start=1))
    keyword = any(line.lstrip().startswith("[") for _, line in lines)
    if match is None and not (path.suffix.lower() == ".ts" or keyword):
        raise ValueError(
            f"{path}: not a Touchstone file name; expected the extension .sNp (N ports: .s1p, "
            ".s2p, …) or .ts"
        )
    if not any(line.split("!", 1)[0].strip() for _, line in lines):
        raise ValueError(
            f"{path}: empty Touchstone file (no option line and no data rows); expected "
            "'# <unit> S <format> R <ohms>' and one line per frequency"
        )
    if keyword or match is None:
        return _read_touchstone_with_skrf(path, text)
    ports = int(match.group(1))
    if ports < 1:
        raise ValueError(f"{path}: a Touchstone file has at least one port, the name says 0")
    unit, parameter, layout = "ghz", "s", "ma"
    per_point = 1 + 2 * ports * ports
    records: list[list[float]] = []
    current: list[float] = []
    first_line = 0
    option_seen = noise = False
    for number, line in lines:
        body = line.split("!", 1)[0].strip()
        if not body:
            continue
        if body.startswith("#"):
            if not option_seen:
                unit, parameter, layout = _touchstone_options(path, number, body)
                option_seen = True
            continue
        tokens = body.split()
        for column, token in enumerate(tokens):
            if not _is_number(token):
                raise ValueError(
                    f"{path}, line {number}, field {column}: {token!r} is not a number "
                    "(Touchstone data lines hold only numbers)"
                )
        values = [float(t) for t in tokens]
        if ports <= 2:
            if noise or (ports == 2 and records and len(values) == 5):
                noise = True  # the noise parameters after the network data of a 2-port
                if len(values) != 5:
                    raise ValueError(
                        f"{path}, line {number}: {len(values)} numbers in the noise-parameter "
                        "block, which has 5 per line (network data must come first)"
                    )
                continue
            if len(values) != per_point:
                raise ValueError(
                    f"{path}, line {number}: {len(values)} numbers, but a {ports}-port "
                    f"Touchstone data line has {per_point} (frequency + {ports * ports} complex "
                    f"values); is the extension .s{ports}p right for this file?"
                )
            records.append(values)
            continue
        if not current:
            first_line = number
        current.extend(values)
        if len(current) > per_point:
            raise ValueError(
                f"{path}, line {number}: the frequency point starting on line {first_line} runs "
                f"over its {per_point} numbers (frequency + {ports * ports} complex values for "
                f"{ports} ports); is the extension .s{ports}p right for this file?"
            )
        if len(current) == per_point:
            records.append(current)
            current = []
    if current:
        raise ValueError(
            f"{path}: the last frequency point (from line {first_line}) has {len(current)} of "
            f"its {per_point} numbers; the file is truncated or its port count is wrong"
        )
    if not records:
        raise ValueError(f"{path}: no data rows (only the option line and comments)")
    if parameter != "s":
        return _read_touchstone_with_skrf(path, text, expected=len(records))
    table = np.array(records)
    a, b = table[:, 1::2], table[:, 2::2]
    if layout == "ri":
        flat = a + 1j * b
    else:
        magnitude = 10.0 ** (a / 20.0) if layout == "db" else a
        flat = magnitude * np.exp(1j * np.deg2rad(b))
    s = flat.reshape(-1, ports, ports)
    if ports == 2:  # version 1 writes a 2-port as S11 S21 S12 S22
        s = s.transpose(0, 2, 1)
    return table[:, 0], s, _touchstone_unit_name(unit)


def _touchstone_unit_name(unit: str) -> str:
    return {"hz": "Hz", "khz": "kHz", "mhz": "MHz", "ghz": "GHz"}[unit]


def _touchstone_options(path: Path, number: int, line: str) -> tuple[str, str, str]:
    """Frequency unit, parameter and format of an option line ``# GHz S MA R 50``."""
    unit, parameter, layout = "ghz", "s", "ma"
    tokens = line[1:].lower().split()
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token in _TOUCHSTONE_UNITS:
            unit = token
        elif token in ("s", "y", "z", "g", "h"):
            parameter = token
        elif token in _TOUCHSTONE_FORMATS:
            layout = token
        elif token == "r" and i + 1 < len(tokens) and _is_number(tokens[i + 1]):
            i += 1
        else:
            raise ValueError(
                f"{path}, line {number}: unknown entry {token!r} in the option line; expected "
                "'# <Hz|kHz|MHz|GHz> <S|Y|Z|G|H> <RI|MA|DB> R <ohms>'"
            )
        i += 1
    return unit, parameter, layout


def _read_touchstone_with_skrf(
    path: Path, text: str, expected: int | None = None
) -> tuple[NDArray[np.float64], NDArray, str]:
    """Read through scikit-rf; refuse when it returns fewer points than the file holds."""
    try:
        from skrf.io.touchstone import Touchstone
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"{path}: reading Touchstone version 2 or Y/Z/G/H parameters needs scikit-rf: "
            "pip install 'giantatoms[fit]'"
        ) from exc
    try:
        touchstone = Touchstone(str(path))
        frequencies = np.asarray(touchstone.f, dtype=float)
        s = np.asarray(touchstone.s, dtype=complex)
    except Exception as exc:  # a third-party parser: report any failure as bad file content
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"{path}: not a readable Touchstone file ({message})") from exc
    if frequencies.size == 0 or s.ndim != 3:
        raise ValueError(f"{path}: no network data rows")
    declared = re.search(r"^\s*\[number of frequencies\]\s*(\d+)", text, re.I | re.M)
    if expected is None and declared is not None:
        expected = int(declared.group(1))
    if expected is not None and frequencies.size != expected:
        raise ValueError(
            f"{path}: scikit-rf read {frequencies.size} frequency points but the file holds "
            f"{expected}; refusing to drop data silently (check the row order and noise block)"
        )
    return frequencies, s, "Hz"


# --------------------------------------------------------------------------------------------
# Background
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Background:
    """Complex background of one trace, engineering convention (see the module docstring).

    B(ω) = amplitude·[1 + slope·(ω − ω_ref)]·exp(i[phase − (ω − ω_ref)·delay]).

    Parameters
    ----------
    amplitude : float, > 0
        |B| at ω_ref (linear, dimensionless).
    phase : float, rad
        arg B at ω_ref.
    delay : float, s
        Cable (group) delay τ.
    slope : float, s/rad
        Relative linear change of |B| per rad/s.
    reference_frequency : float, rad/s, ≥ 0
        ω_ref. With the default 0, B = A·e^{iφ}·e^{−iωτ}.
    """

    amplitude: float = 1.0
    phase: float = 0.0
    delay: float = 0.0
    slope: float = 0.0
    reference_frequency: float = 0.0

    def __post_init__(self) -> None:
        for name in ("amplitude", "phase", "delay", "slope", "reference_frequency"):
            minimum = 0.0 if name in ("amplitude", "reference_frequency") else None
            value = real_array(
                getattr(self, name),
                name,
                owner="Background",
                minimum=minimum,
                strict_minimum=name == "amplitude",
            )
            if value.ndim:
                raise ValueError(f"Background: {name} must be a scalar, got shape {value.shape}")
            object.__setattr__(self, name, float(value))

    def __call__(self, frequencies: ArrayLike) -> NDArray[np.complex128]:
        """B(ω) at ``frequencies`` (rad/s, any shape), engineering convention."""
        w = np.asarray(frequencies, dtype=float)
        return _background_values(
            self.amplitude, self.phase, self.delay, self.slope, self.reference_frequency, w
        )

    def at_reference(self, reference_frequency: float) -> Background:
        """The same function of frequency written about another reference frequency (rad/s)."""
        shift = float(reference_frequency) - self.reference_frequency
        gain = 1.0 + self.slope * shift
        if gain <= 0:
            raise ValueError("the linear amplitude slope changes sign before the new reference")
        return Background(
            amplitude=self.amplitude * gain,
            phase=self.phase - shift * self.delay,
            delay=self.delay,
            slope=self.slope / gain,
            reference_frequency=float(reference_frequency),
        )


def _background_values(
    amplitude: ArrayLike,
    phase: ArrayLike,
    delay: ArrayLike,
    slope: ArrayLike,
    reference: float,
    w: NDArray[np.float64],
) -> NDArray[np.complex128]:
    """B(ω) for parameters of shape (...) and frequencies (P,): shape (..., P)."""
    x = w - reference
    a, p, d, s = (np.asarray(v, dtype=float)[..., None] for v in (amplitude, phase, delay, slope))
    return a * (1.0 + s * x) * np.exp(1j * (p - x * d))


def estimate_cable_delay(
    data: SpectroscopyData, *, trace: str = "s21", edge_fraction: float = _EDGE_FRACTION
) -> float:
    """Cable delay τ from the phase slope far from resonance.

    Fits arg S = φ_left/right − ωτ to the unwrapped phase of the lowest and highest
    ``edge_fraction`` of the points, with a common slope and one offset per edge (so a phase
    jump across the resonance does not matter). The resonance's own phase tails bias the
    estimate by about Γ/Δ_edge²; it is a starting value, refined by the fits. The frequency step
    must keep the phase change per point below π (Δf·τ < 1/2), or the delay aliases.

    Parameters
    ----------
    data : SpectroscopyData
    trace : {"s21", "s11"}
    edge_fraction : float, in (0, 0.5]

    Returns
    -------
    float, s
        τ (> 0 for a physical delay, in either convention).
    """
    if not isinstance(data, SpectroscopyData):
        raise TypeError(f"data must be a SpectroscopyData, got {type(data).__name__}")
    if not 0 < edge_fraction <= 0.5:
        raise ValueError(f"edge_fraction must be in (0, 0.5], got {edge_fraction!r}")
    z = data._engineering(trace)
    if z.size < 4:
        raise ValueError(f"need at least 4 points to estimate a delay, got {z.size}")
    return _edge_phase_slope_delay(data.frequencies, z, _edges(z.size, edge_fraction))


def _edges(size: int, fraction: float = _EDGE_FRACTION) -> NDArray[np.bool_]:
    """Mask of the lowest and highest ``fraction`` of ``size`` points (at least 2 each)."""
    n = min(max(2, round(fraction * size)), size // 2)
    mask = np.zeros(size, dtype=bool)
    mask[:n] = mask[size - n :] = True
    return mask


def _edge_phase_slope_delay(
    w: NDArray[np.float64], z: NDArray[np.complex128], edges: NDArray[np.bool_]
) -> float:
    """−d(arg z)/dω on the two edges: common slope, one phase offset per edge."""
    phase = np.unwrap(np.angle(z))
    rows = np.flatnonzero(edges)
    left = rows < z.size // 2
    x = w[rows] - w.mean()
    unit = float(np.max(np.abs(x))) or 1.0  # a well-conditioned design matrix
    design = np.column_stack([left, ~left, x / unit]).astype(float)
    coefficients, *_ = np.linalg.lstsq(design, phase[rows], rcond=None)
    return float(-coefficients[2] / unit)


def remove_background(
    data: SpectroscopyData, background: Background | Mapping[str, Background]
) -> SpectroscopyData:
    """Divide the traces by their background (one for all traces, or one per trace name).

    Returns
    -------
    SpectroscopyData
        In the same convention as ``data``; ``sigma`` is rescaled by 1/|B|.
    """
    if not isinstance(data, SpectroscopyData):
        raise TypeError(f"data must be a SpectroscopyData, got {type(data).__name__}")
    per_trace = _backgrounds_per_trace(background, data.traces)
    traces, gains = {}, []
    for t in data.traces:
        b = per_trace[t](data.frequencies)
        traces[t] = data._from_engineering(data._engineering(t) / b)
        gains.append(np.abs(b))
    sigma = data.sigma
    if sigma is not None:
        sigma = sigma / np.mean(gains, axis=0)
    return replace(data, sigma=sigma, **traces)


def remove_cable_delay(data: SpectroscopyData, delay: float) -> SpectroscopyData:
    """Undo a cable delay τ (s) on every trace: multiply by e^{+iωτ} (engineering convention).

    Returns
    -------
    SpectroscopyData
    """
    return remove_background(data, Background(delay=delay))


def _backgrounds_per_trace(
    background: Background | Mapping[str, Background] | None, traces: Sequence[str]
) -> dict[str, Background | None]:
    if background is None or isinstance(background, Background):
        return dict.fromkeys(traces, background)
    if not isinstance(background, Mapping):
        raise TypeError(
            f"background must be a Background or a mapping trace → Background, got {background!r}"
        )
    unknown = sorted(set(background) - set(traces))
    if unknown:
        raise ValueError(f"background given for {unknown}, but the traces are {list(traces)}")
    for t, b in background.items():
        if not isinstance(b, Background):
            raise TypeError(f"background[{t!r}] must be a Background, got {b!r}")
    return {t: background.get(t) for t in traces}


# --------------------------------------------------------------------------------------------
# Fit problems and the least-squares engine
# --------------------------------------------------------------------------------------------

_ModelFunction = Callable[[NDArray[np.float64], NDArray[np.float64]], dict[str, NDArray]]


@dataclass(frozen=True, eq=False)
class _Problem:
    """A parametrised model: all parameter names, starting values, which ones float.

    ``model(values, w)`` takes values of shape (..., K) and returns each trace, shape
    (..., P), in the engineering convention.
    """

    kind: str
    traces: tuple[str, ...]
    names: tuple[str, ...]
    values: NDArray[np.float64]
    free: NDArray[np.bool_]
    lower: NDArray[np.float64]
    upper: NDArray[np.float64]
    scale: NDArray[np.float64]
    model: _ModelFunction
    device: Callable[[NDArray[np.float64]], Device] | None = None
    reference_frequency: float = 0.0


def _background_names(traces: Sequence[str]) -> list[str]:
    return [f"{t}.{f}" for t in traces for f in _BACKGROUND_FIELDS]


def _vary_set(vary_background: Sequence[str] | str, traces: Sequence[str]) -> set[str]:
    if isinstance(vary_background, str):
        vary_background = [vary_background]
    chosen = set()
    for item in vary_background:
        if not isinstance(item, str):
            raise TypeError(f"vary_background entries must be strings, got {item!r}")
        key = item.strip().lower()
        if key in _BACKGROUND_FIELDS:
            chosen.update(f"{t}.{key}" for t in traces)
        elif key in _background_names(traces):
            chosen.add(key)
        else:
            raise ValueError(
                f"unknown vary_background entry {item!r}; use {list(_BACKGROUND_FIELDS)} or "
                f"'<trace>.<component>' for traces {list(traces)}"
            )
    return chosen


def _initial_background(
    data: SpectroscopyData,
    trace: str,
    reference: float,
    shape: NDArray[np.complex128],
    projection: NDArray[np.bool_] | None = None,
) -> Background:
    """Starting background for ``data[trace] ≈ B(ω)·shape(ω)`` (engineering convention).

    The delay comes from the phase slope of data/shape on the edges, then the complex amplitude
    from the least-squares projection onto ``shape`` over ``projection`` (default all points).
    """
    w = data.frequencies
    z = data._engineering(trace)
    m = np.broadcast_to(np.asarray(shape, dtype=complex), z.shape)
    delay = 0.0
    if z.size >= 4:
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(np.abs(m) > 0, z / np.where(np.abs(m) > 0, m, 1.0), z)
        delay = _edge_phase_slope_delay(w, ratio, _edges(z.size))
    z = z * np.exp(1j * (w - reference) * delay)
    if projection is not None:
        z, m = z[projection], m[projection]
    norm = np.vdot(m, m).real
    c = np.vdot(m, z) / norm if norm > 0 else np.mean(z)
    if abs(c) == 0:
        c = 1.0
    return Background(
        amplitude=abs(c), phase=float(np.angle(c)), delay=delay, reference_frequency=reference
    )


def _apply_overrides(
    names: Sequence[str],
    values: NDArray[np.float64],
    free: NDArray[np.bool_],
    lower: NDArray[np.float64],
    upper: NDArray[np.float64],
    initial: Mapping[str, float] | None,
    bounds: Mapping[str, tuple[float, float]] | None,
) -> None:
    """Apply user starting values and bounds (in place), checking names and ranges."""
    index = {n: i for i, n in enumerate(names)}
    for label, mapping in (("initial", initial), ("bounds", bounds)):
        for name in mapping or {}:
            if name not in index:
                raise ValueError(
                    f"{label} names unknown parameter {name!r}; parameters: {list(names)}"
                )
            if label == "bounds" and not free[index[name]]:
                raise ValueError(f"bounds given for {name!r}, which is fixed in this fit")
    for name, pair in (bounds or {}).items():
        try:
            lo, hi = (float(v) for v in pair)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"bounds[{name!r}] must be a pair (low, high), got {pair!r}") from exc
        if math.isnan(lo) or math.isnan(hi) or not lo < hi:
            raise ValueError(f"bounds[{name!r}] must satisfy low < high, got ({lo!r}, {hi!r})")
        lower[index[name]], upper[index[name]] = lo, hi
    for name, value in (initial or {}).items():
        v = float(value)
        if not math.isfinite(v):
            raise ValueError(f"initial[{name!r}] must be finite, got {value!r}")
        values[index[name]] = v
    for i in np.flatnonzero(free):
        if not lower[i] <= values[i] <= upper[i]:
            raise ValueError(
                f"starting value of {names[i]!r} ({values[i]:.6g}) is outside its bounds "
                f"[{lower[i]:.6g}, {upper[i]:.6g}]"
            )


def _least_squares(
    problem: _Problem, data: SpectroscopyData, max_evaluations: int | None
) -> FitResult:
    """Fit ``problem`` to ``data``; errors from the Jacobian at the optimum."""
    free = np.flatnonzero(problem.free)
    k = free.size
    if k == 0:
        raise ValueError("nothing to fit: every parameter is fixed")
    w = data.frequencies
    targets = [data._engineering(t) for t in problem.traces]
    sigma_known = data.sigma is not None
    weight = 1.0 / np.broadcast_to(data.sigma if sigma_known else 1.0, w.shape)
    n_obs = 2 * w.size * len(problem.traces)
    dof = n_obs - k
    if dof <= 0:
        raise ValueError(
            f"not enough data: {n_obs} real residuals ({w.size} points × "
            f"{len(problem.traces)} trace(s) × re/im) for {k} free parameters"
        )
    p0, scale = problem.values[free], problem.scale[free]
    lower = (problem.lower[free] - p0) / scale
    upper = (problem.upper[free] - p0) / scale

    def full(x: NDArray[np.float64]) -> NDArray[np.float64]:
        values = np.array(np.broadcast_to(problem.values, (*x.shape[:-1], problem.values.size)))
        values[..., free] = p0 + x * scale
        return values

    def residuals(x: NDArray[np.float64]) -> NDArray[np.float64]:
        model = problem.model(full(x), w)
        parts = []
        for t, target in zip(problem.traces, targets, strict=True):
            r = (model[t] - target) * weight
            parts.extend((r.real, r.imag))
        return np.concatenate(parts, axis=-1)

    def jacobian(x: NDArray[np.float64]) -> NDArray[np.float64]:
        # One batched model call for all 2k displaced points; one-sided next to a bound.
        room_up, room_down = upper - x, x - lower
        central = (room_up > _STEP) & (room_down > _STEP)
        forward = ~central & (room_up >= room_down)
        up = np.where(central, _STEP, np.where(forward, np.minimum(_STEP, room_up / 2), 0.0))
        down = np.where(central, _STEP, np.where(forward, 0.0, np.minimum(_STEP, room_down / 2)))
        eye = np.eye(k)
        f = residuals(np.concatenate([x + eye * up[:, None], x - eye * down[:, None]]))
        width = up + down
        safe = np.where(width > 0, width, 1.0)[:, None]
        return np.where(width[:, None] > 0, (f[:k] - f[k:]) / safe, 0.0).T

    solution = optimize.least_squares(
        residuals,
        np.zeros(k),
        jac=jacobian,
        bounds=(lower, upper),
        method="trf",
        x_scale=1.0,
        xtol=1e-10,
        ftol=1e-10,
        gtol=1e-10,
        max_nfev=max_evaluations,
    )
    x = solution.x
    r = residuals(x)
    jac = jacobian(x)
    chi2 = float(r @ r)
    noise2 = 1.0 if sigma_known else chi2 / dof
    values = full(x)
    names = problem.names

    warnings: list[str] = []
    _, singular, vt = np.linalg.svd(jac, full_matrices=False)
    free_names = [names[i] for i in free]
    # The finite-difference Jacobian is good to ~1e-8 relative: below that, a direction in
    # parameter space is numerically invisible to the data.
    if singular.min() <= 1e-9 * singular.max():
        covariance = np.full((k, k), np.inf)
        null = vt[-1]
        involved = [free_names[i] for i in np.flatnonzero(np.abs(null) > 0.2)]
        warnings.append(
            f"the data do not constrain {' / '.join(involved)} separately (singular Jacobian); "
            "fix one of them"
        )
    else:
        covariance = (vt.T / singular**2) @ vt * noise2 * np.outer(scale, scale)
    for i in np.flatnonzero(solution.active_mask):
        side = "lower" if solution.active_mask[i] < 0 else "upper"
        warnings.append(
            f"{free_names[i]} is at its {side} bound ({values[free[i]]:.6g}); "
            "its error is not meaningful"
        )
    errors = np.sqrt(np.diag(covariance))
    with np.errstate(invalid="ignore", divide="ignore"):
        correlation = covariance / np.outer(errors, errors)
    for i in range(k):
        for j in range(i + 1, k):
            if np.isfinite(correlation[i, j]) and abs(correlation[i, j]) > 0.995:
                warnings.append(
                    f"{free_names[i]} and {free_names[j]} are nearly degenerate "
                    f"(correlation {correlation[i, j]:+.4f})"
                )
    if not solution.success:
        warnings.append(f"the optimiser did not converge: {solution.message}")
    reasons = _implausible(problem, values, w, targets, covariance, chi2)

    # Background phases are only defined modulo 2π: report them in (−π, π].
    for i, name in enumerate(names):
        if name.endswith(".phase") and name.split(".")[0] in _TRACES:
            values[i] = math.remainder(values[i], 2 * math.pi)
    fitted = replace(problem, values=values)
    model = problem.model(values, w)
    squares = [np.abs(model[t] - d) ** 2 for t, d in zip(problem.traces, targets, strict=True)]
    return FitResult(
        kind=problem.kind,
        names=tuple(free_names),
        values=_frozen(values[free]),
        standard_errors=_frozen(errors),
        covariance=_frozen(covariance),
        fixed={names[i]: float(values[i]) for i in np.flatnonzero(~problem.free)},
        chi2=float(dof) if not sigma_known else chi2,
        dof=int(dof),
        noise=float(np.sqrt(noise2)) if not sigma_known else float(np.sqrt(np.mean(data.sigma**2))),
        noise_estimated=not sigma_known,
        residual_rms=float(np.sqrt(np.mean(squares))),
        success=bool(solution.success) and not reasons,
        converged=bool(solution.success),
        message=str(solution.message),
        reason="; ".join(reasons),
        warnings=tuple(warnings),
        n_evaluations=int(solution.nfev),
        data=data,
        _problem=fitted,
    )


def _implausible(
    problem: _Problem,
    values: NDArray[np.float64],
    w: NDArray[np.float64],
    targets: Sequence[NDArray[np.complex128]],
    covariance: NDArray[np.float64],
    chi2: float,
) -> list[str]:
    """Why a fit the optimiser finished is still not a result (empty when it is one).

    Non-finite values or χ², a singular covariance (some combination of parameters is not
    determined), a background amplitude driven to zero (the model is zero, not a line) and,
    for the line shapes, a resonance outside the measured band or a full width Γ + Γ_nr wider
    than the band.
    """
    reasons = []
    if not np.all(np.isfinite(values)) or not math.isfinite(chi2):
        reasons.append("the parameters or χ² are not finite")
    if not np.all(np.isfinite(covariance)):
        reasons.append(
            "the covariance is singular (infinite errors): the data do not determine every "
            "parameter (see the warnings)"
        )
    index = {n: i for i, n in enumerate(problem.names)}
    for t, target in zip(problem.traces, targets, strict=True):
        amplitude = values[index[f"{t}.amplitude"]]
        if amplitude <= 1e-9 * float(np.max(np.abs(target))):
            reasons.append(
                f"the {t} background amplitude went to {amplitude:.3g}: the model is zero"
            )
    if problem.kind in ("lorentzian", "fano"):
        low, high = float(w[0]), float(w[-1])
        frequency = values[index["frequency"]]
        width = values[index["radiative_rate"]] + values[index["nonradiative_rate"]]
        if not low <= frequency <= high:
            reasons.append(
                f"the resonance ({frequency / GHz:.9g} GHz) is outside the measured band "
                f"({low / GHz:.9g}–{high / GHz:.9g} GHz)"
            )
        if width > high - low:
            reasons.append(
                f"the full linewidth (Γ + Γ_nr)/2π = {width / MHz:.4g} MHz is wider than the "
                f"measured span {(high - low) / MHz:.4g} MHz"
            )
    return reasons


def _frozen(a: NDArray) -> NDArray:
    a = np.array(a)
    a.setflags(write=False)
    return a


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class FitResult:
    """Outcome of a fit: values, uncertainties, goodness of fit, the fitted model.

    Attributes
    ----------
    kind : str
        ``"lorentzian"``, ``"fano"`` or ``"device"``.
    names : tuple of str
        The free parameters, in order (SI units: rad/s, s, m, rad).
    values, standard_errors : ndarray, shape (k,)
        Best-fit values and 1σ errors, sqrt(diag(covariance)) (``inf`` when the data do not
        constrain a combination of parameters).
    covariance : ndarray, shape (k, k)
        (JᵀJ)⁻¹ of the σ-weighted residuals; multiplied by σ̂² = Σ|r|²/dof when ``sigma`` was
        not given.
    fixed : dict
        The parameters held fixed (background components not varied), name → value.
    chi2 : float
        Σ (residual/σ)² over real and imaginary parts (equal to ``dof`` when σ was estimated).
    dof : int
        2 × points × traces − k.
    noise : float
        σ per real/imaginary component: the given one (rms over points) or the estimate.
    noise_estimated : bool
        Whether σ was estimated from the residuals (then χ² says nothing about the fit).
    residual_rms : float
        sqrt(mean |model − data|²) over points and traces (≈ √2 σ for a good fit).
    success : bool
        Whether the fit is a result: the optimiser converged *and* the result passed the
        sanity checks (finite values and covariance, no background amplitude at zero; for the
        line shapes, the resonance inside the measured band and Γ + Γ_nr narrower than it).
        ``reason`` says why not.
    converged : bool
        Whether the optimiser converged (``success`` also needs the sanity checks).
    message : str
        The optimiser's message.
    reason : str
        Why ``success`` is False ("" when it is True).
    warnings : tuple of str
        Parameters at bounds, near-degenerate pairs, unconstrained combinations.
    n_evaluations : int
        Model evaluations (each Jacobian is one more, batched).
    data : SpectroscopyData
        The data fitted.
    """

    kind: str
    names: tuple[str, ...]
    values: NDArray[np.float64]
    standard_errors: NDArray[np.float64]
    covariance: NDArray[np.float64]
    fixed: dict[str, float]
    chi2: float
    dof: int
    noise: float
    noise_estimated: bool
    residual_rms: float
    success: bool
    converged: bool
    message: str
    reason: str
    warnings: tuple[str, ...]
    n_evaluations: int
    data: SpectroscopyData
    _problem: _Problem = field(repr=False)

    @property
    def parameters(self) -> dict[str, float]:
        """Best-fit values of the free parameters, name → value (SI units)."""
        return {n: float(v) for n, v in zip(self.names, self.values, strict=True)}

    @property
    def errors(self) -> dict[str, float]:
        """Standard errors from the covariance, name → 1σ (SI units)."""
        return {n: float(e) for n, e in zip(self.names, self.standard_errors, strict=True)}

    @property
    def correlation(self) -> NDArray[np.float64]:
        """Correlation matrix of the free parameters, shape (k, k) (NaN where undefined)."""
        e = self.standard_errors
        with np.errstate(invalid="ignore", divide="ignore"):
            c = self.covariance / np.outer(e, e)
        return np.where(np.isfinite(c), c, np.nan)

    @property
    def reduced_chi2(self) -> float:
        """χ²/dof (≈ 1 for a good fit with the right σ; exactly 1 when σ was estimated)."""
        return self.chi2 / self.dof

    @property
    def p_value(self) -> float:
        """P(χ² ≥ observed) for a correct model with the given σ; NaN when σ was estimated."""
        if self.noise_estimated:
            return math.nan
        return float(stats.chi2.sf(self.chi2, self.dof))

    @property
    def traces(self) -> tuple[str, ...]:
        """The traces fitted."""
        return self._problem.traces

    @property
    def device(self) -> Device | None:
        """The fitted device (``fit_device``), else ``None``."""
        if self._problem.device is None:
            return None
        return self._problem.device(self._problem.values)

    @property
    def backgrounds(self) -> dict[str, Background]:
        """The fitted background of each trace."""
        index = {n: i for i, n in enumerate(self._problem.names)}
        values = self._problem.values
        return {
            t: Background(
                *(values[index[f"{t}.{f}"]] for f in _BACKGROUND_FIELDS),
                reference_frequency=self._problem.reference_frequency,
            )
            for t in self.traces
        }

    def model(
        self, frequencies: ArrayLike | None = None, trace: str | None = None
    ) -> NDArray[np.complex128]:
        """The fitted model, background included, in the data's convention.

        Parameters
        ----------
        frequencies : array_like, rad/s, shape (Q,), optional
            Default: the data's frequencies.
        trace : {"s21", "s11"}, optional
            Default: the first trace fitted.

        Returns
        -------
        ndarray, complex, shape (Q,)
        """
        w = self.data.frequencies if frequencies is None else np.asarray(frequencies, float)
        if w.ndim != 1 or w.size == 0 or np.any(~np.isfinite(w)) or np.any(w <= 0):
            raise ValueError("frequencies must be a non-empty 1-D array of positive rad/s")
        key = self.traces[0] if trace is None else choice(trace, "trace", _TRACES)
        if key not in self.traces:
            raise ValueError(f"trace {key!r} was not fitted (traces: {list(self.traces)})")
        return self.data._from_engineering(self._problem.model(self._problem.values, w)[key])

    @property
    def residuals(self) -> dict[str, NDArray[np.complex128]]:
        """Residuals data − model of each fitted trace (complex, shape (P,))."""
        return {t: self.data.trace(t) - self.model(trace=t) for t in self.traces}

    def bootstrap(
        self,
        n: int = 200,
        *,
        seed: int | np.random.Generator | None = None,
        method: str = "parametric",
        max_evaluations: int | None = None,
    ) -> Bootstrap:
        """Bootstrap the fit: refit ``n`` synthetic data sets made from the best-fit model.

        Parameters
        ----------
        n : int, ≥ 2
        seed : int or numpy.random.Generator, optional
            The same integer gives the same samples.
        method : {"parametric", "residual"}
            ``"parametric"``: Gaussian noise of the fit's σ on the real and imaginary parts.
            ``"residual"``: the fit's standardised residuals drawn with replacement (inflated
            by sqrt(N/dof)), for noise that is not Gaussian.
        max_evaluations : int, optional
            Limit on model evaluations per refit.

        Returns
        -------
        Bootstrap
        """
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
            raise ValueError(f"n must be an integer ≥ 2, got {n!r}")
        method = choice(method, "method", ("parametric", "residual"))
        rng = np.random.default_rng(seed)
        problem, data = self._problem, self.data
        w = data.frequencies
        best = problem.model(problem.values, w)
        sigma = np.broadcast_to(data.sigma if data.sigma is not None else self.noise, w.shape)
        if method == "residual":
            pool = np.concatenate(
                [(data._engineering(t) - best[t]) / sigma for t in self.traces]
            ) * math.sqrt((self.dof + self.values.size) / self.dof)
        phases = [i for i, name in enumerate(self.names) if name.endswith(".phase")]
        samples, failed = [], 0
        for _ in range(int(n)):
            traces = {}
            for t in self.traces:
                if method == "parametric":
                    noise = rng.standard_normal(w.size) + 1j * rng.standard_normal(w.size)
                else:
                    noise = rng.choice(pool, w.size)
                traces[t] = data._from_engineering(best[t] + sigma * noise)
            try:
                fit = _least_squares(problem, replace(data, **traces), max_evaluations)
            except (ValueError, np.linalg.LinAlgError):
                failed += 1
                continue
            if not fit.success:
                failed += 1
                continue
            values = np.array(fit.values)
            for i in phases:  # keep phases on the branch of the best fit
                values[i] = self.values[i] + math.remainder(values[i] - self.values[i], 2 * math.pi)
            samples.append(values)
        if len(samples) < 2:
            raise RuntimeError(f"bootstrap: {failed} of {n} refits failed")
        return Bootstrap(
            names=self.names,
            estimate=self.values,
            samples=_frozen(np.array(samples)),
            n_failed=failed,
            method=method,
        )

    def summary(self) -> str:
        """A table of the parameters in lab units and the goodness of fit."""
        data = self.data
        f = data.frequencies
        source = f"; {data.source}" if data.source else ""
        title = {"lorentzian": "Lorentzian", "fano": "Fano (mismatch)", "device": "Device"}
        lines = [
            f"{title.get(self.kind, self.kind)} fit of {', '.join(self.traces)}: "
            f"{data.n_points} points, {f[0] / GHz:.6g}–{f[-1] / GHz:.6g} GHz, "
            f"{data.convention} convention{source}",
            f"  {'parameter':<30} {'value':>20}   {'error':<16} unit",
        ]
        for name, value, error in zip(self.names, self.values, self.standard_errors, strict=True):
            unit, factor = _display_unit(name)
            v, e = _format_pair(value / factor, error / factor)
            lines.append(f"  {name:<30} {v:>20} ± {e:<16} {unit}")
        for name, value in self.fixed.items():
            unit, factor = _display_unit(name)
            lines.append(f"  {name:<30} {value / factor:>20.10g}   {'(fixed)':<16} {unit}")
        sigma = "estimated" if self.noise_estimated else "given"
        goodness = (
            f"  χ² = {self.chi2:.6g} for {self.dof} dof (reduced {self.reduced_chi2:.4g}"
            + ("" if self.noise_estimated else f", p = {self.p_value:.3g}")
            + f"); σ = {self.noise:.4g} ({sigma}); residual rms {self.residual_rms:.4g}"
        )
        lines += [
            goodness,
            f"  {'converged' if self.converged else 'NOT converged'} after "
            f"{self.n_evaluations} evaluations: {self.message}",
        ]
        if not self.success:
            lines.append(f"  NOT A VALID FIT: {self.reason}")
        lines.append("  (frequencies and rates as ordinary frequencies: value/2π)")
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()


@dataclass(frozen=True, eq=False, repr=False)
class Bootstrap:
    """Bootstrap refits of a :class:`FitResult`.

    Attributes
    ----------
    names : tuple of str
    estimate : ndarray, shape (k,)
        The original best-fit values.
    samples : ndarray, shape (n_ok, k)
        Values of the successful refits (SI units).
    n_failed : int
        Refits that raised or did not converge (left out).
    method : str
        ``"parametric"`` or ``"residual"``.
    """

    names: tuple[str, ...]
    estimate: NDArray[np.float64]
    samples: NDArray[np.float64]
    n_failed: int
    method: str

    @property
    def standard_errors(self) -> NDArray[np.float64]:
        """Sample standard deviation of each parameter, shape (k,)."""
        return np.std(self.samples, axis=0, ddof=1)

    @property
    def errors(self) -> dict[str, float]:
        """Bootstrap standard errors, name → 1σ (SI units)."""
        return {n: float(e) for n, e in zip(self.names, self.standard_errors, strict=True)}

    @property
    def covariance(self) -> NDArray[np.float64]:
        """Sample covariance of the refits, shape (k, k)."""
        return np.atleast_2d(np.cov(self.samples, rowvar=False))

    def interval(self, level: float = 0.6827) -> dict[str, tuple[float, float]]:
        """Central percentile interval of each parameter holding ``level`` of the refits."""
        if not 0 < level < 1:
            raise ValueError(f"level must be in (0, 1), got {level!r}")
        low, high = np.percentile(self.samples, [50 * (1 - level), 50 * (1 + level)], axis=0)
        return {n: (float(a), float(b)) for n, a, b in zip(self.names, low, high, strict=True)}

    def __repr__(self) -> str:
        lines = [
            f"Bootstrap ({self.method}): {self.samples.shape[0]} refits, {self.n_failed} failed",
            f"  {'parameter':<30} {'estimate':>20}   {'bootstrap error':<16} unit",
        ]
        for name, value, error in zip(self.names, self.estimate, self.standard_errors, strict=True):
            unit, factor = _display_unit(name)
            v, e = _format_pair(value / factor, error / factor)
            lines.append(f"  {name:<30} {v:>20} ± {e:<16} {unit}")
        return "\n".join(lines)


def _display_unit(name: str) -> tuple[str, float]:
    """Lab unit and its size in SI for a parameter name (by its last component)."""
    leaf = name.rsplit(".", 1)[-1].split("[", 1)[0]
    if leaf == "frequency":
        return "GHz", GHz
    if leaf.endswith("_rate") or leaf == "point_rates":
        return "MHz", MHz
    table = {
        "delay": ("ns", ns),
        "t1": ("µs", us),
        "t_phi": ("µs", us),
        "points": ("mm", 1e-3),
        "spacing": ("mm", 1e-3),
        "phase": ("rad", 1.0),
        "mismatch_angle": ("rad", 1.0),
        "slope": ("1/GHz", 1.0 / GHz),
        "phase_velocity": ("m/s", 1.0),
    }
    return table.get(leaf, ("", 1.0))


def _format_pair(value: float, error: float) -> tuple[str, str]:
    """Value and error rounded to two significant digits of the error."""
    if not math.isfinite(error) or error <= 0:
        return f"{value:.10g}", "inf" if math.isinf(error) else "0"
    decimals = 1 - math.floor(math.log10(error))
    if decimals > 12:
        return f"{value:.10g}", f"{error:.2g}"
    decimals = max(decimals, 0)
    return f"{value:.{decimals}f}", f"{error:.{decimals}f}"


# --------------------------------------------------------------------------------------------
# Quick fits: one resonance in transmission
# --------------------------------------------------------------------------------------------


def _guess_resonance(
    w: NDArray[np.float64], y: NDArray[np.complex128]
) -> tuple[float, float, float, float]:
    """ω₀, Γ, Γ_nr and Γ₂ from y ≈ 1 − (Γ/2)/(Γ₂ + iΔ) (background removed).

    ω₀ at the peak of |1 − y| (lightly smoothed), Γ₂ from the half-maximum width of
    |1 − y|² (FWHM 2Γ₂), Γ/(2Γ₂) from the peak depth.
    """
    depth = np.abs(1.0 - y)
    if depth.size >= 15:
        depth = np.convolve(depth, np.ones(5) / 5, mode="same")
    i = int(np.argmax(depth))
    peak = float(depth[i])
    outside = np.flatnonzero(depth < peak / math.sqrt(2))
    left = outside[outside < i]
    right = outside[outside > i]
    lo = left[-1] + 1 if left.size else 0
    hi = right[0] - 1 if right.size else w.size - 1
    step = (w[-1] - w[0]) / max(w.size - 1, 1)
    gamma2 = max(0.5 * (w[hi] - w[lo] + step), step)
    ratio = min(peak, 0.95)
    radiative = 2 * gamma2 * ratio
    nonradiative = 2 * gamma2 - radiative
    return float(w[i]), float(radiative), float(nonradiative), float(gamma2)


def _noise_level(data: SpectroscopyData, u: NDArray[np.complex128]) -> float:
    """σ per real/imaginary component: the given one, else from second differences of ``u``.

    For complex Gaussian noise of σ per component, |u[i−1] − 2u[i] + u[i+1]| is Rayleigh
    distributed with scale √6·σ, median √6·√(2 ln 2)·σ ≈ 2.884σ; the median ignores the few
    points where a resonance curves the trace. ``u`` should have the cable delay removed.
    """
    if data.sigma is not None:
        return float(np.median(data.sigma))
    if u.size < 8:
        return 0.0
    second = u[:-2] - 2.0 * u[1:-1] + u[2:]
    return float(np.median(np.abs(second)) / (math.sqrt(6.0) * math.sqrt(2.0 * math.log(2.0))))


def _require_feature(data: SpectroscopyData, trace: str, fit: str) -> None:
    """Refuse a trace with nothing to fit: all zero, constant, or no feature above the noise.

    The trace, with the cable delay from its edge phase slope removed, is compared with its
    mean: the largest deviation must exceed σ·(√(2 ln P) + 1.5), above which P points of pure
    complex Gaussian noise reach with probability ≈ P·exp(−1.5·√(2 ln P)) (≈ 0.2 % for 400),
    and 1e-9 of the largest |S| (a constant trace without noise).
    """
    z = data._engineering(trace)
    w = data.frequencies
    scale = float(np.max(np.abs(z)))
    if scale == 0:
        raise ValueError(
            f"{fit}: {trace} is zero at every point ({data.n_points} points"
            f"{', ' + data.source if data.source else ''}); there is no line to fit"
        )
    delay = _edge_phase_slope_delay(w, z, _edges(z.size)) if z.size >= 4 else 0.0
    u = z * np.exp(1j * (w - w.mean()) * delay)
    deviation = float(np.max(np.abs(u - np.mean(u))))
    sigma = _noise_level(data, u)
    threshold = sigma * (math.sqrt(2.0 * math.log(z.size)) + 1.5)
    if deviation <= max(threshold, 1e-9 * scale):
        if deviation <= 1e-9 * scale:
            what = f"constant (|{trace}| = {scale:.6g} everywhere, no variation)"
        else:
            origin = "given" if data.sigma is not None else "estimated from the scatter"
            what = (
                f"featureless: its largest deviation from the mean, {deviation:.3g}, is within "
                f"the noise (σ = {sigma:.3g}, {origin}; needs > {threshold:.3g})"
            )
        raise ValueError(
            f"{fit}: {trace} is {what} over {data.n_points} points; there is no resonance to "
            "fit in this band (check the frequency window and the trace)"
        )


def _lineshape_problem(
    data: SpectroscopyData,
    fano: bool,
    background: Background | None,
    vary_background: Sequence[str] | str,
    initial: Mapping[str, float] | None,
    bounds: Mapping[str, tuple[float, float]] | None,
) -> _Problem:
    if not isinstance(data, SpectroscopyData):
        raise TypeError(f"data must be a SpectroscopyData, got {type(data).__name__}")
    if data.s21 is None:
        raise ValueError(
            "the quick fits model transmission and the data have no s21 trace "
            "(fit reflection with fit_device)"
        )
    if data.n_points < 8:
        raise ValueError(f"a resonance fit needs at least 8 points, got {data.n_points}")
    if background is not None and not isinstance(background, Background):
        raise TypeError(f"background must be a Background, got {background!r}")
    vary = _vary_set(vary_background, ("s21",))
    _require_feature(data, "s21", "fit_fano" if fano else "fit_lorentzian")
    w = data.frequencies
    span = w[-1] - w[0]
    reference = 0.5 * (w[0] + w[-1])
    if background is None:
        background = _initial_background(data, "s21", reference, np.ones(w.size), _edges(w.size))
    else:
        background = background.at_reference(reference)
    frequency, radiative, nonradiative, gamma2 = _guess_resonance(
        w, data._engineering("s21") / background(w)
    )
    line = ["frequency", "radiative_rate", "nonradiative_rate"] + (["mismatch_angle"] * fano)
    names = tuple(line + _background_names(("s21",)))
    values = np.array(
        [frequency, radiative, nonradiative]
        + [0.0] * fano
        + [background.amplitude, background.phase, background.delay, background.slope]
    )
    free = np.array([True] * len(line) + [n in vary for n in names[len(line) :]])
    edge = math.pi / 2 - 1e-3
    lower = np.array([0.0, 0.0, 0.0] + [-edge] * fano + [0.0, -np.inf, -np.inf, -np.inf])
    upper = np.array([np.inf] * 3 + [edge] * fano + [np.inf] * 4)
    scale = np.array(
        [gamma2] * 3 + [0.1] * fano + [0.1 * background.amplitude, 0.1, 0.1 / span, 0.1 / span]
    )
    _apply_overrides(names, values, free, lower, upper, initial, bounds)
    n = len(line)

    def model(p: NDArray[np.float64], frequencies: NDArray[np.float64]) -> dict[str, NDArray]:
        w0, gamma, loss = (p[..., i, None] for i in range(3))
        coupling = 0.5 * gamma * (1 + 1j * np.tan(p[..., 3, None])) if fano else 0.5 * gamma
        shape = 1.0 - coupling / (0.5 * (gamma + loss) + 1j * (frequencies - w0))
        b = _background_values(*(p[..., n + i] for i in range(4)), reference, frequencies)
        return {"s21": b * shape}

    return _Problem(
        kind="fano" if fano else "lorentzian",
        traces=("s21",),
        names=names,
        values=values,
        free=free,
        lower=lower,
        upper=upper,
        scale=scale,
        model=model,
        reference_frequency=reference,
    )


def fit_lorentzian(
    data: SpectroscopyData,
    *,
    background: Background | None = None,
    vary_background: Sequence[str] | str = _DEFAULT_VARY,
    initial: Mapping[str, float] | None = None,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    max_evaluations: int | None = None,
) -> FitResult:
    """Fit one resonance in transmission: S21 = B(ω)·t(ω), t = 1 − (Γ/2)/(Γ₂ − iΔ).

    The line of one atom in the waveguide (PHYSICS.md §7), physics convention, Δ = ω − ω₀,
    Γ₂ = (Γ + Γ_nr)/2; engineering-convention data are fitted with its conjugate. For a giant
    atom ω₀ is the Lamb-shifted frequency and Γ its frequency-dependent radiative rate.

    Parameters
    ----------
    data : SpectroscopyData
        With an ``s21`` trace.
    background : Background, optional
        Starting (or, for components not varied, fixed) background; default estimated from the
        data (delay from the edge phase slope, amplitude and phase from the edges).
    vary_background : sequence of {"amplitude", "phase", "delay", "slope"}
        Background components that float.
    initial : mapping, optional
        Starting values by parameter name, overriding the estimates from the data.
    bounds : mapping name → (low, high), optional
        Overrides the default bounds (rates ≥ 0, amplitude ≥ 0).
    max_evaluations : int, optional

    Returns
    -------
    FitResult
        Parameters ``frequency`` (ω₀, rad/s), ``radiative_rate`` (Γ, rad/s),
        ``nonradiative_rate`` (Γ_nr = 2Γ₂ − Γ = γ_nr + 2γ_φ, rad/s) and the varied
        background components ``s21.amplitude``, ``s21.phase`` (rad), ``s21.delay`` (s),
        ``s21.slope`` (s/rad).
    """
    problem = _lineshape_problem(data, False, background, vary_background, initial, bounds)
    return _least_squares(problem, data, max_evaluations)


def fit_fano(
    data: SpectroscopyData,
    *,
    background: Background | None = None,
    vary_background: Sequence[str] | str = _DEFAULT_VARY,
    initial: Mapping[str, float] | None = None,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    max_evaluations: int | None = None,
) -> FitResult:
    """Fit one asymmetric resonance in transmission (impedance mismatch, "diameter correction").

    In the engineering convention of network analysers,
    S21 = B(ω)·[1 − (Γ/2)(1 + i·tan θ)/(Γ₂ + iΔ)], the rate form of
    1 − (Q/Q̂_e)/(1 + 2iQ(ω − ω₀)/ω₀) with 1/Q̂_e = e^{iθ}/|Q̂_e| (Khalil et al., J. Appl. Phys.
    111, 054510 (2012)): Γ = Re(1/Q̂_e)·ω₀ is the corrected coupling rate and
    Γ₂ = (Γ + Γ_nr)/2. θ = 0 is :func:`fit_lorentzian`; physics-convention data are fitted with
    the conjugate.

    Parameters
    ----------
    data, background, vary_background, initial, bounds, max_evaluations
        As for :func:`fit_lorentzian`.

    Returns
    -------
    FitResult
        The parameters of :func:`fit_lorentzian` and ``mismatch_angle`` θ (rad, |θ| < π/2).
    """
    problem = _lineshape_problem(data, True, background, vary_background, initial, bounds)
    return _least_squares(problem, data, max_evaluations)


# --------------------------------------------------------------------------------------------
# Full device model
# --------------------------------------------------------------------------------------------

# Atom quantities that may float, and the group each belongs to: per atom and group, either one
# whole-atom parameter or any number of distinct indexed ones.
_ATOM_FIELDS = {
    "frequency": "frequency",
    "point_rates": "rates",
    "points": "geometry",
    "spacing": "geometry",
    "phase": "geometry",
    "right_fraction": "chirality",
    "intrinsic_decay_rate": "loss",
    "t1": "loss",
    "dephasing_rate": "dephasing",
    "t_phi": "dephasing",
}
_INDEXED = ("point_rates", "points", "right_fraction")
_ATOM_PARAMETER = re.compile(r"^atoms\.(?P<atom>.+)\.(?P<field>\w+?)(?:\[(?P<index>-?\d+)\])?$")
_PARAMETER_HELP = (
    "device parameters are 'atoms.<name>.<field>' (name '*' ties the value across all atoms), "
    f"field one of {sorted(_ATOM_FIELDS)} (point_rates[i], points[i], right_fraction[i] for "
    "one point), or 'waveguide.phase_velocity'"
)


@dataclass(frozen=True)
class _DeviceParameter:
    name: str
    field: str
    atoms: tuple[int, ...] = ()
    index: int | None = None


def _parse_parameters(device: Device, parameters: Sequence[str]) -> list[_DeviceParameter]:
    if isinstance(parameters, str):
        parameters = [parameters]
    specs: list[_DeviceParameter] = []
    for name in parameters:
        if not isinstance(name, str):
            raise TypeError(f"parameters must be strings, got {name!r}")
        if name == "waveguide.phase_velocity":
            specs.append(_DeviceParameter(name, "phase_velocity"))
            continue
        match = _ATOM_PARAMETER.match(name)
        if match is None or match["field"] not in _ATOM_FIELDS:
            raise ValueError(f"unknown parameter {name!r}; {_PARAMETER_HELP}")
        leaf = match["field"]
        atoms = (
            tuple(range(device.n_atoms)) if match["atom"] == "*" else (device.index(match["atom"]),)
        )
        index = None
        if match["index"] is not None:
            if leaf not in _INDEXED:
                raise ValueError(f"parameter {name!r}: {leaf} takes no point index")
            index = int(match["index"])
            for a in atoms:
                n = device.atoms[a].n_points
                if not -n <= index < n:
                    raise ValueError(
                        f"parameter {name!r}: atom {device.atoms[a].name!r} has {n} points"
                    )
                index %= n
        elif leaf == "points":
            raise ValueError(f"parameter {name!r}: give a point index, e.g. '{name}[0]'")
        if leaf in ("spacing", "phase"):
            for a in atoms:
                if device.atoms[a].n_points < 2:
                    raise ValueError(
                        f"parameter {name!r}: atom {device.atoms[a].name!r} has a single point"
                    )
        specs.append(_DeviceParameter(name, leaf, atoms, index))
    if not specs:
        raise ValueError(f"parameters is empty; {_PARAMETER_HELP}")
    names = [s.name for s in specs]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ValueError(f"parameters listed twice: {duplicated}")
    groups: dict[tuple[int, str], list[_DeviceParameter]] = {}
    for spec in specs:
        for a in spec.atoms:
            groups.setdefault((a, _ATOM_FIELDS[spec.field]), []).append(spec)
    for (a, group), members in groups.items():
        indices = [m.index for m in members]
        if len(members) > 1 and (None in indices or len(set(indices)) < len(indices)):
            raise ValueError(
                f"parameters {[m.name for m in members]} all set the {group} of atom "
                f"{device.atoms[a].name!r}; float only one of them"
            )
    return specs


def _starting_value(device: Device, spec: _DeviceParameter) -> float:
    if spec.field == "phase_velocity":
        return device.waveguide.phase_velocity
    values = []
    for a in spec.atoms:
        atom = device.atoms[a]
        leaf, i = spec.field, spec.index
        if leaf == "frequency":
            value = atom.frequency
        elif leaf in ("point_rates", "right_fraction"):
            per_point = (
                atom.rates_per_point if leaf == "point_rates" else atom.right_fraction_per_point
            )
            value = np.mean(per_point) if i is None else per_point[i]
        elif leaf == "points":
            value = atom.points[i]
        elif leaf == "spacing":
            value = np.ptp(atom.points)
        elif leaf == "phase":
            value = atom.frequency * np.ptp(atom.points) / device.waveguide.phase_velocity
        elif leaf == "intrinsic_decay_rate":
            value = atom.intrinsic_decay_rate
        elif leaf == "dephasing_rate":
            value = atom.dephasing_rate
        elif leaf == "t1":
            if atom.t1 is None or not np.isfinite(atom.t1):
                raise ValueError(
                    f"parameter {spec.name!r}: atom {atom.name!r} has no finite t1; "
                    "float its intrinsic_decay_rate instead"
                )
            value = atom.t1
        else:  # t_phi
            if not atom.dephasing_rate > 0:
                raise ValueError(
                    f"parameter {spec.name!r}: atom {atom.name!r} has no dephasing; "
                    "float its dephasing_rate instead"
                )
            value = 1.0 / atom.dephasing_rate
        values.append(float(value))
    return float(np.mean(values))


def _build_device(
    base: Device, specs: Sequence[_DeviceParameter], values: NDArray[np.float64]
) -> Device:
    """``base`` with the parameters set to ``values`` (shape (..., k)): a batched device."""
    batch = values.shape[:-1]
    v0 = base.waveguide.phase_velocity
    velocity = None
    per_atom: list[list[tuple[_DeviceParameter, NDArray]]] = [[] for _ in base.atoms]
    for j, spec in enumerate(specs):
        if spec.field == "phase_velocity":
            velocity = values[..., j]
        for a in spec.atoms:
            per_atom[a].append((spec, values[..., j]))
    atoms = list(base.atoms)
    for a, atom in enumerate(base.atoms):
        items = per_atom[a]
        if not items and velocity is None:
            continue
        n = atom.n_points
        changes: dict[str, Any] = {}
        frequency = next((v for s, v in items if s.field == "frequency"), None)
        if frequency is not None:
            changes["frequency"] = frequency
        else:
            frequency = np.asarray(atom.frequency)
        points = rates = fraction = None
        for spec, value in items:
            leaf, i = spec.field, spec.index
            if leaf == "point_rates":
                if rates is None:
                    rates = np.array(np.broadcast_to(atom.rates_per_point, (*batch, n)))
                _set_points(rates, i, value)
            elif leaf == "right_fraction":
                if fraction is None:
                    fraction = np.array(np.broadcast_to(atom.right_fraction_per_point, (*batch, n)))
                _set_points(fraction, i, value)
            elif leaf == "points":
                if points is None:
                    points = np.array(np.broadcast_to(atom.points, (*batch, n)))
                points[..., i] = value
            elif leaf in ("spacing", "phase"):
                span = (
                    value
                    if leaf == "spacing"
                    else value * (v0 if velocity is None else velocity) / frequency
                )
                x = np.asarray(atom.points)
                centre = x.mean()
                points = centre + (x - centre) * (np.asarray(span) / np.ptp(x))[..., None]
            elif leaf in ("intrinsic_decay_rate", "dephasing_rate"):
                with np.errstate(divide="ignore"):
                    time = 1.0 / value
                changes["t1" if leaf == "intrinsic_decay_rate" else "t_phi"] = time
            elif leaf in ("t1", "t_phi"):
                changes[leaf] = value
        if velocity is not None:
            # Positions only enter through k·x = ωx/v: a phase velocity v is the chip with every
            # position scaled by v0/v.
            x = np.asarray(atom.points) if points is None else points
            points = x * (v0 / velocity)[..., None]
        arrays = {"points": points, "point_rates": rates, "right_fraction": fraction}
        changes.update({key: array for key, array in arrays.items() if array is not None})
        atoms[a] = atom.replace(**changes)
    return replace(base, atoms=tuple(atoms))


def _parameter_scale(leaf: str, value: float, linewidth: float, metres_per_radian: float) -> float:
    """A change of a device parameter the data notice: one unit of the scaled fit variable."""
    if leaf == "frequency":
        return linewidth
    if leaf in ("points", "spacing"):
        return 0.1 * metres_per_radian
    if leaf == "phase":
        return 0.1
    if leaf == "right_fraction":
        return 0.05
    if leaf in ("t1", "t_phi"):
        return 0.1 * abs(value)
    if leaf == "phase_velocity":
        return 1e-3 * abs(value)
    return max(abs(value), 0.1 * linewidth)  # rates


def _set_points(per_point: NDArray, index: int | None, value: NDArray) -> None:
    """Set one point (``index``) or all points (``None``) of a (..., n_points) array."""
    if index is None:
        per_point[...] = value[..., None]
    else:
        per_point[..., index] = value


def _prepare_device(device: Device, specs: Sequence[_DeviceParameter]) -> Device:
    """Hold γ_φ fixed where intrinsic loss or dephasing floats on an atom given by t2."""
    for spec in specs:
        if _ATOM_FIELDS.get(spec.field) in ("loss", "dephasing"):
            for a in spec.atoms:
                atom = device.atoms[a]
                if atom.t2 is not None:
                    rate = float(atom.dephasing_rate)
                    device = device.replace_atom(
                        a, t2=None, t_phi=1.0 / rate if rate > 0 else np.inf
                    )
    return device


def fit_device(
    data: SpectroscopyData,
    device: Device,
    parameters: Sequence[str],
    *,
    traces: Sequence[str] | None = None,
    background: Background | Mapping[str, Background] | None = None,
    vary_background: Sequence[str] | str = _DEFAULT_VARY,
    initial: Mapping[str, float] | None = None,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    couplings_at: str = "probe",
    max_evaluations: int | None = None,
) -> FitResult:
    """Fit the device's linear-response S21 / S11 (:func:`giantatoms.scattering`) to data.

    Each trace is modelled as B_trace(ω)·S(ω; device) (engineering convention; conjugated
    for physics-convention data), with the named device quantities floating and everything
    else held at ``device``'s values. The model is evaluated for all Jacobian displacements
    in one batched call.

    Parameters
    ----------
    data : SpectroscopyData
    device : Device
        The starting point (one parameter set: no array/batch parameters). Its values should
        be close, e.g. frequencies from :func:`fit_lorentzian`.
    parameters : sequence of str
        Device quantities that float (SI units):

        ``atoms.<name>.frequency``
            bare frequency ω (rad/s; the fit sees ω plus the Lamb shift).
        ``atoms.<name>.point_rates`` / ``atoms.<name>.point_rates[i]``
            one rate for all points, or one point's γ (rad/s).
        ``atoms.<name>.spacing`` / ``atoms.<name>.phase`` / ``atoms.<name>.points[i]``
            span of the points (m, centre held fixed), the same as the phase φ = ω·span/v at
            the atom's frequency (rad), or one point's position (m).
        ``atoms.<name>.intrinsic_decay_rate`` / ``atoms.<name>.t1``
            intrinsic loss γ_nr = 1/T1 (rad/s, or s).
        ``atoms.<name>.dephasing_rate`` / ``atoms.<name>.t_phi``
            pure dephasing γ_φ (rad/s, or s). Linear response only sees γ_nr(1+2n_th) + 2γ_φ:
            float one of loss and dephasing. An atom given by ``t2`` is converted to ``t_phi``
            at its starting γ_φ when either floats.
        ``atoms.<name>.right_fraction`` / ``[i]``
            chirality of the points.
        ``atoms.*.<field>``
            one value shared by every atom (starting value: the mean).
        ``waveguide.phase_velocity``
            v (m/s).
    traces : sequence of {"s21", "s11"}, optional
        Traces to fit; default all in ``data``. Each has its own background.
    background : Background or mapping trace → Background, optional
        Starting (or fixed) backgrounds; default estimated against the starting model.
    vary_background : sequence of str
        Components that float, for every trace (``"amplitude"``, ``"phase"``, ``"delay"``,
        ``"slope"``) or one (``"s11.delay"``).
    initial : mapping, optional
        Starting values by parameter name (device or background, e.g. ``"s21.delay"``).
    bounds : mapping name → (low, high), optional
        Overrides the default bounds (rates, loss ≥ 0; frequency, spacing, times > 0;
        right_fraction in [0, 1]).
    couplings_at : {"probe", "atoms"}
        As for :func:`giantatoms.scattering`.
    max_evaluations : int, optional

    Returns
    -------
    FitResult
        With ``device`` the fitted device and ``backgrounds`` the fitted backgrounds.
    """
    if not isinstance(data, SpectroscopyData):
        raise TypeError(f"data must be a SpectroscopyData, got {type(data).__name__}")
    if not isinstance(device, Device):
        raise TypeError(f"device must be a Device, got {type(device).__name__}")
    if traces is None:
        traces = data.traces
    traces = tuple(dict.fromkeys(choice(t, "traces", _TRACES) for t in traces))
    missing = [t for t in traces if t not in data.traces]
    if not traces or missing:
        raise ValueError(f"traces {list(traces)} must be among the data's {list(data.traces)}")
    couplings_at = choice(couplings_at, "couplings_at", ("probe", "atoms"))
    specs = _parse_parameters(device, parameters)
    w = data.frequencies
    batch = np.shape(scattering(device, w[:1]).s21)[:-1]
    if batch:
        raise ValueError(
            f"device must be one parameter set, but its array parameters give a batch of shape "
            f"{batch}; pick one element"
        )
    base = _prepare_device(device, specs)
    vary = _vary_set(vary_background, traces)
    n_obs, n_free = 2 * data.n_points * len(traces), len(specs) + len(vary)
    if n_obs <= n_free:
        raise ValueError(
            f"not enough data: {n_obs} real residuals ({data.n_points} points × {len(traces)} "
            f"trace(s) × re/im) for {n_free} free parameters"
        )
    for t in traces:
        _require_feature(data, t, "fit_device")
    per_trace = _backgrounds_per_trace(background, traces)
    reference = 0.5 * (w[0] + w[-1])
    span = max(w[-1] - w[0], 1e-9 * reference)
    start = scattering(base, w, couplings_at=couplings_at)
    backgrounds = {
        t: (
            per_trace[t].at_reference(reference)
            if per_trace[t] is not None
            else _initial_background(data, t, reference, np.conj(getattr(start, t)))
        )
        for t in traces
    }
    k = len(specs)
    background_names = _background_names(traces)
    names = tuple([s.name for s in specs] + background_names)
    values = np.array(
        [_starting_value(base, s) for s in specs]
        + [getattr(backgrounds[t], f) for t in traces for f in _BACKGROUND_FIELDS]
    )
    free = np.array([True] * k + [n in vary for n in background_names])
    lower = np.array(
        [-np.inf if s.field == "points" else 0.0 for s in specs]
        + [0.0, -np.inf, -np.inf, -np.inf] * len(traces)
    )
    upper = np.array(
        [1.0 if s.field == "right_fraction" else np.inf for s in specs]
        + [np.inf] * len(background_names)
    )
    _apply_overrides(names, values, free, lower, upper, initial, bounds)
    linewidth = max(float(np.max([np.sum(a.rates_per_point) for a in base.atoms])), span / 20)
    metres_per_radian = base.waveguide.phase_velocity / reference
    scale = [
        _parameter_scale(s.field, values[i], linewidth, metres_per_radian)
        for i, s in enumerate(specs)
    ]
    for j in range(len(traces)):
        scale += [0.1 * values[k + 4 * j], 0.1, 0.1 / span, 0.1 / span]
    scale = np.array(scale)

    def model(p: NDArray[np.float64], frequencies: NDArray[np.float64]) -> dict[str, NDArray]:
        trial = _build_device(base, specs, p[..., :k])
        result = scattering(trial, frequencies, couplings_at=couplings_at)
        out = {}
        for j, t in enumerate(traces):
            components = (p[..., k + 4 * j + i] for i in range(4))
            b = _background_values(*components, reference, frequencies)
            out[t] = b * np.conj(getattr(result, t))
        return out

    def fitted_device(p: NDArray[np.float64]) -> Device:
        return _build_device(base, specs, p[:k])

    problem = _Problem(
        kind="device",
        traces=traces,
        names=names,
        values=values,
        free=free,
        lower=lower,
        upper=upper,
        scale=scale,
        model=model,
        device=fitted_device,
        reference_frequency=reference,
    )
    return _least_squares(problem, data, max_evaluations)
