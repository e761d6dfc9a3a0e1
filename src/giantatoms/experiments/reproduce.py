"""The experiment end to end: what ``giantatoms reproduce`` runs.

:func:`reproduce` walks through the paper's experiment on a device (default: the packaged
reconstruction of the chip) and returns a :class:`Reproduction` with the comparison table,
the data as labelled xarray Datasets and the figures:

1. **Spectroscopy of each atom** against its frequency, the other atom parked at its
   decoherence-free (DF) point where it is invisible: a Lorentzian fit per flux point gives
   the radiative rate Γ and the Lamb-shifted frequency, next to the analytic Γ(ω) and Lamb
   shift (PHYSICS.md §3, §7); and the two atoms together at the in-phase point, whose bright
   mode is 2Γ/γ = 8 times wider than one coupling point's rate (the paper's "8×").
2. **Coherence at the DF point**: simulated T1 and Ramsey experiments with decay fits.
3. **Steady state** over drive power × detuning at the entangling point (a sweep), the best
   point, its stabilisation in time (fitted approach from |gg⟩ and 1/gap).
4. **The protocol in time**: drive, stop, cosine flux ramp to the DF point, storage — next to
   staying at the entangling point and moving to the perfect-correlation (resonant) point.
5. **Tomography** of the transferred state as the lab does it: 9 Pauli settings, finite shots,
   single-shot readout errors, the local Z phases acquired while moving corrected in
   software, maximum-likelihood reconstruction with readout mitigation, Bell fidelity with a
   parametric-bootstrap error bar.

Numbers the paper does not give are reconstruction choices [R], listed in :data:`ASSUMPTIONS`
and marked in the table; the device's own assumptions are in its preset file.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from giantatoms.experiments._figures import reproduction_figures
from giantatoms.model.couplings import (
    couplings,
    decoherence_free_frequencies,
    entangling_operating_point,
    perfect_correlation_frequencies,
)
from giantatoms.model.delays import NonMarkovianWarning, diagnostics
from giantatoms.model.device import Device
from giantatoms.units import GHz, MHz, us

__all__ = ["ASSUMPTIONS", "PAPER", "Reproduction", "reproduce"]

#: The paper's headline numbers (abstract; PHYSICS.md §1).
PAPER = {
    "bell_fidelity": "0.89 ± 0.02",
    "coherence_us": "29.5",
    "broadening": "8",
}

#: Reconstruction choices [R] of the measurement chain (the device's are in its preset).
ASSUMPTIONS = {
    "ramp_time_ns": (10.0, "flux-pulse length to the DF point (cosine shape)"),
    "slow_ramp_time_ns": (30.0, "a slower ramp for comparison"),
    "t_store_us": (1.0, "storage time at the DF point"),
    "drive_gap_multiple": (8.0, "drive duration in units of 1/gap (steady state reached)"),
    "readout_fidelity_g": (0.98, "single-shot P(read g | g), each qubit"),
    "readout_fidelity_e": (0.95, "single-shot P(read e | e), each qubit (includes T1 in readout)"),
    "shots_per_setting": (2000, "shots per tomography setting (9 Pauli settings)"),
    "bootstrap_samples": (200, "parametric bootstrap samples for the error bar"),
    "seed": (2026, "seed of the simulated shots and of the bootstrap"),
}

Tick = Callable[[str], None]


def _settings(overrides: Mapping[str, float] | None, fast: bool) -> dict[str, float]:
    """:data:`ASSUMPTIONS` values (fewer shots and samples when ``fast``), ``overrides`` applied."""
    setting = {key: value for key, (value, _) in ASSUMPTIONS.items()}
    if fast:
        setting.update(shots_per_setting=500, bootstrap_samples=50)
    for key, value in (overrides or {}).items():
        if key not in ASSUMPTIONS:
            raise ValueError(f"assumptions: unknown key {key!r}; known: {sorted(ASSUMPTIONS)}")
        if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
            raise ValueError(f"assumptions: {key} must be a finite number, got {value!r}")
        integer = key in ("shots_per_setting", "bootstrap_samples", "seed")
        if integer and (value != int(value) or value < (0 if key == "seed" else 1)):
            raise ValueError(f"assumptions: {key} must be a positive integer, got {value!r}")
        if key.startswith("readout_fidelity") and not 0.5 < value <= 1.0:
            raise ValueError(f"assumptions: {key} must be in (0.5, 1], got {value!r}")
        if not integer and not key.startswith("readout") and value <= 0:
            raise ValueError(f"assumptions: {key} must be > 0, got {value!r}")
        setting[key] = int(value) if integer else float(value)
    return setting


def _row(quantity: str, paper: str, simulation: str, note: str = "") -> dict[str, str]:
    return {"quantity": quantity, "paper": paper, "simulation": simulation, "note": note}


@dataclass(frozen=True, eq=False)
class Reproduction:
    """Everything :func:`reproduce` produced.

    Attributes
    ----------
    table : list of dict
        Rows ``quantity`` / ``paper`` / ``simulation`` / ``note`` (strings; ``[R]`` marks
        numbers that depend on reconstructed parameters).
    summary : dict
        The numbers behind the table (JSON-ready, lab units in the key names).
    datasets : dict of str to xarray.Dataset
        ``"spectroscopy"``, ``"fidelity_map"``, ``"protocol"``, ``"tomography"``.
    figures : dict of str to matplotlib.figure.Figure
        ``"rates"``, ``"spectroscopy_map"``, ``"line_fits"``, ``"fidelity_map"``,
        ``"fidelity_vs_time"``,
        ``"density_matrix"`` (empty when matplotlib is missing).
    timings : dict of str to float
        Seconds per stage.
    """

    table: list[dict[str, str]]
    summary: dict[str, Any]
    datasets: dict[str, Any]
    figures: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def write(self, out: str | Path) -> list[Path]:
        """Write ``summary.json``, one NetCDF file per dataset and one PNG per figure.

        Returns
        -------
        list of Path
            The files written.
        """
        from giantatoms.plotting import save_figure

        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        written = [folder / "summary.json"]
        payload = {"table": self.table, **self.summary, "timings_s": self.timings}
        written[0].write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
        for name, ds in self.datasets.items():
            path = folder / f"{name}.nc"
            ds.to_netcdf(path)
            written.append(path)
        for name, fig in self.figures.items():
            path = folder / f"{name}.png"
            save_figure(fig, path)
            written.append(path)
        return written


def _special_points(
    device: Device, pair: tuple[int, int]
) -> tuple[float, tuple[float, float], NDArray[np.float64]]:
    """The entangling point ω₀, the band around it and each pair atom's DF point (rad/s).

    The scheme needs a perfectly correlated decay (the entangling point) and a
    decoherence-free point of each atom not too far from it (the storage point); a device
    without them is refused here, before any work. The DF point is the one nearest ω₀.
    """
    i, j = pair
    names = device.atom_names[i], device.atom_names[j]
    centre = 0.5 * float(device.atoms[i].frequency + device.atoms[j].frequency)
    wide = (0.6 * centre, 1.4 * centre)
    candidates = perfect_correlation_frequencies(device, pair, wide)
    if candidates.size == 0:
        raise ValueError(
            f"reproduce: atoms {names[0]!r} and {names[1]!r} of device {device.name!r} never "
            f"decay in a perfectly correlated way between {wide[0] / GHz:.2f} and "
            f"{wide[1] / GHz:.2f} GHz, so the driven-dissipative scheme has no entangling point "
            "(a braided pair, for instance, interacts without correlated decay)"
        )
    w0 = float(candidates[np.argmin(np.abs(candidates - centre))])
    band = (0.88 * w0, 1.17 * w0)
    df = []
    for k in pair:
        points = decoherence_free_frequencies(device, k, band)
        if points.size == 0:
            raise ValueError(
                f"reproduce: atom {device.atom_names[k]!r} has no decoherence-free point between "
                f"{band[0] / GHz:.2f} and {band[1] / GHz:.2f} GHz (a small atom with one "
                "coupling point never decouples), so the state cannot be stored as in the "
                "experiment"
            )
        df.append(float(points[np.argmin(np.abs(points - w0))]))
    return w0, band, np.array(df)


def _spectroscopy(
    device: Device,
    pair: tuple[int, int],
    fast: bool,
    tick: Tick,
    w0: float,
    band: tuple[float, float],
    df: NDArray[np.float64],
) -> tuple[dict[str, Any], Any, dict[str, Any]]:
    """Stage 1: single-atom lines vs flux (other atom at its DF point) and the bright mode."""
    import xarray as xr

    from giantatoms.fitting import SpectroscopyData, fit_lorentzian
    from giantatoms.measure.spectroscopy import scattering

    i, j = pair
    df_of = {i: df[0], j: df[1]}
    flux = np.linspace(band[0], band[1], 12 if fast else 40)
    rows: dict[str, list] = {k: [] for k in ("gamma_fit", "gamma", "lamb_fit", "lamb", "ok")}
    names = []
    for atom, other in ((i, j), (j, i)):
        names.append(device.atom_names[atom])
        freqs = np.broadcast_to(device.frequencies, (flux.size, device.n_atoms)).copy()
        freqs[:, atom] = flux
        freqs[:, other] = df_of[other]  # parked where it does not couple
        c = couplings(device, frequencies=freqs)
        gamma, lamb = c.decay_rates[:, atom], c.lamb_shift[:, atom]
        fit_gamma, fit_lamb, ok = [], [], []
        for k, w in enumerate(flux):
            span = max(6.0 * gamma[k], 2.0 * MHz)
            centre = w + lamb[k]
            probe = np.linspace(centre - span, centre + span, 161 if fast else 241)
            data = SpectroscopyData.from_scattering(
                scattering(device, probe, frequencies=freqs[k]), traces=["s21"]
            )
            good = gamma[k] > 0.05 * np.max(gamma)  # the line vanishes near the DF point
            if good:
                fit = fit_lorentzian(data)
                resonance = fit.parameters["frequency"]
                fit_gamma.append(fit.parameters["radiative_rate"])
                fit_lamb.append(resonance - w)
            else:
                fit_gamma.append(np.nan)
                fit_lamb.append(np.nan)
            ok.append(good)
        # The analytic curves at the fitted resonance (couplings at the probe frequency).
        rows["gamma_fit"].append(fit_gamma)
        rows["gamma"].append(gamma)
        rows["lamb_fit"].append(fit_lamb)
        rows["lamb"].append(lamb)
        rows["ok"].append(ok)
    gamma_fit = np.array(rows["gamma_fit"])
    gamma_an = np.array(rows["gamma"])
    lamb_fit = np.array(rows["lamb_fit"])
    lamb_an = np.array(rows["lamb"])
    mask = np.array(rows["ok"])
    rel_gamma = np.nanmax(np.abs(gamma_fit - gamma_an)[mask] / gamma_an[mask])
    lamb_err = np.nanmax(np.abs(lamb_fit - lamb_an)[mask])

    # Spectroscopy map of the first atom: |S21| vs flux and probe (common probe grid).
    probe = np.linspace(band[0], band[1], 400 if fast else 1500)
    flux_map = np.linspace(band[0], band[1], 40 if fast else 200)
    freqs = np.broadcast_to(device.frequencies, (flux_map.size, device.n_atoms)).copy()
    freqs[:, i] = flux_map
    freqs[:, j] = df_of[j]
    s21_map = scattering(device, probe, frequencies=freqs).s21

    # The bright mode: both atoms at each frequency of the band; the widest point.
    gamma_point = float(np.mean(device.atoms[i].rates_per_point))
    scan = np.linspace(0.8 * w0, 1.25 * w0, 2001)  # wide enough to reach the in-phase point
    both = np.stack([scan] * device.n_atoms, axis=-1)
    c = couplings(device, frequencies=both)
    pair_matrix = c.decay_matrix[:, [i, j]][:, :, [i, j]]
    bright = np.linalg.eigvalsh(pair_matrix)[:, -1]
    k_max = int(np.argmax(bright))
    w_bright = scan[k_max]
    broadening_analytic = float(bright[k_max] / gamma_point)
    # Measure it: transmission with both atoms at w_bright, Lorentzian fit of the bright line.
    at = np.broadcast_to(device.frequencies, (device.n_atoms,)).copy()
    at[[i, j]] = w_bright
    shift = float(np.mean(c.lamb_shift[k_max, [i, j]]) + c.exchange[k_max, i, j].real)
    span = 5.0 * bright[k_max]
    line = np.linspace(w_bright + shift - span, w_bright + shift + span, 401)
    bright_fit = fit_lorentzian(
        SpectroscopyData.from_scattering(scattering(device, line, frequencies=at), traces=["s21"])
    )
    broadening_fit = float(bright_fit.parameters["radiative_rate"] / gamma_point)
    tick("spectroscopy: single-atom lines vs flux, bright mode")

    ds = xr.Dataset(
        {
            "radiative_rate_fit": (
                ("atom", "flux_frequency"),
                gamma_fit / MHz,
                {"units": "MHz", "long_name": "Γ/2π from Lorentzian fits"},
            ),
            "radiative_rate": (
                ("atom", "flux_frequency"),
                gamma_an / MHz,
                {"units": "MHz", "long_name": "analytic Γ(ω)/2π"},
            ),
            "lamb_shift_fit": (
                ("atom", "flux_frequency"),
                lamb_fit / MHz,
                {"units": "MHz", "long_name": "fitted resonance − bare, /2π"},
            ),
            "lamb_shift": (
                ("atom", "flux_frequency"),
                lamb_an / MHz,
                {"units": "MHz", "long_name": "analytic Lamb shift/2π"},
            ),
            "s21_magnitude": (
                ("map_frequency", "probe_frequency"),
                np.abs(s21_map),
                {"units": "1", "long_name": f"|S21|, atom {names[0]} tuned"},
            ),
        },
        coords={
            "atom": ("atom", names),
            "flux_frequency": (
                "flux_frequency",
                flux / GHz,
                {"units": "GHz", "long_name": "bare frequency of the tuned atom"},
            ),
            "map_frequency": (
                "map_frequency",
                flux_map / GHz,
                {"units": "GHz", "long_name": "bare frequency of the tuned atom"},
            ),
            "probe_frequency": (
                "probe_frequency",
                probe / GHz,
                {"units": "GHz", "long_name": "probe frequency"},
            ),
        },
        attrs={
            "bright_mode_frequency_ghz": w_bright / GHz,
            "broadening_analytic": broadening_analytic,
            "broadening_fit": broadening_fit,
        },
    )
    numbers = {
        "max_relative_gamma_error": float(rel_gamma),
        "max_lamb_shift_error_mhz": float(lamb_err / MHz),
        "broadening_analytic": broadening_analytic,
        "broadening_fit": broadening_fit,
        "bright_mode_frequency_ghz": float(w_bright / GHz),
        "gamma_point_mhz": gamma_point / MHz,
    }
    plot_inputs = {"flux": flux_map / GHz, "probe": probe, "s21": s21_map, "name": names[0]}
    return numbers, ds, plot_inputs


def _coherence(
    device: Device, pair: tuple[int, int], df: NDArray[np.float64], fast: bool, tick: Tick
) -> dict[str, Any]:
    """Stage 2: T1 and Ramsey T2 of each atom of the pair at its DF point."""
    from giantatoms.measure.coherence import coherence_times, ramsey_experiment, t1_experiment

    out: dict[str, Any] = {
        "df_frequencies": list(df),
        "t1_us": [],
        "t2_us": [],
        "t2_expected_us": [],
    }
    freqs = np.array(device.frequencies, dtype=float)
    freqs[list(pair)] = df
    for atom in pair:
        expected = coherence_times(device, atom, frequencies=freqs)
        times = np.linspace(0.0, 3.0 * float(expected.t2), 12 if fast else 40)
        t1 = t1_experiment(
            device, atom, np.linspace(0.0, 3.0 * float(expected.t1), times.size), frequencies=freqs
        )
        ramsey = ramsey_experiment(
            device, atom, times, frequencies=freqs, detuning=4.0 / float(expected.t2)
        )
        k1 = t1.fit.parameter_names.index("decay_time")
        k2 = ramsey.fit.parameter_names.index("decay_time")
        out["t1_us"].append(float(t1.fit.parameters[..., k1]) / us)
        out["t2_us"].append(float(ramsey.fit.parameters[..., k2]) / us)
        out["t2_expected_us"].append(float(expected.t2) / us)
    tick("coherence at the DF point (T1, Ramsey)")
    return out


def reproduce(
    device: Device,
    *,
    pair: tuple[str | int, str | int] = (0, 1),
    fast: bool = False,
    figures: bool = True,
    assumptions: Mapping[str, float] | None = None,
    progress: Tick | None = None,
) -> Reproduction:
    """Run the experiment's analysis chain on ``device`` (module docstring).

    The chain is Markovian; how much the propagation delays between coupling points matter
    for the chip (:func:`giantatoms.delay.diagnostics`) is a row of the table and
    ``summary["delays"]``, instead of a warning from every step.

    Parameters
    ----------
    device : Device
        At least two atoms; ``pair`` selects the two to entangle. Their geometry must have a
        perfect-correlation (entangling) frequency and DF points within −12 %…+17 % of it.
    pair : (str or int, str or int)
    fast : bool
        Coarse grids, and 500 shots per setting and 50 bootstrap samples unless overridden
        (seconds; CI and smoke tests). The physics is the same; the numbers are less resolved.
    figures : bool
        Make the matplotlib figures (needs the ``plot`` extra).
    assumptions : mapping, optional
        Overrides of :data:`ASSUMPTIONS` by key (e.g. ``{"readout_fidelity_e": 0.9,
        "ramp_time_ns": 20}``), in the units of the key's name.
    progress : callable, optional
        Called with a short label after each stage.

    Returns
    -------
    Reproduction
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonMarkovianWarning)
        return _reproduce(device, pair, fast, figures, assumptions, progress)


def _reproduce(
    device: Device,
    pair: tuple[str | int, str | int],
    fast: bool,
    figures: bool,
    assumptions: Mapping[str, float] | None,
    progress: Tick | None,
) -> Reproduction:
    import xarray as xr

    from giantatoms.measure.tomography import (
        ReadoutModel,
        bell_fidelity_with_errors,
        simulate_counts,
    )
    from giantatoms.protocols import driven_dissipative, run_protocol, stabilisation
    from giantatoms.sweeps import sweep

    if not isinstance(device, Device):
        raise TypeError(f"device must be a Device, got {type(device).__name__}")
    if device.n_atoms < 2:
        raise ValueError("reproduce needs a device with at least two atoms")
    i, j = (device.index(p) for p in pair)
    if i == j:
        raise ValueError("pair must name two different atoms")
    setting = _settings(assumptions, fast)
    w0, band, df = _special_points(device, (i, j))
    timings: dict[str, float] = {}
    clock = [time.perf_counter()]

    def tick(label: str) -> None:
        now = time.perf_counter()
        timings[label] = round(now - clock[0], 3)
        clock[0] = now
        if progress is not None:
            progress(label)

    # 1. Spectroscopy.
    spec, spectroscopy_ds, spec_plot = _spectroscopy(device, (i, j), fast, tick, w0, band, df)

    # 2. Coherence at the DF point.
    coh = _coherence(device, (i, j), df, fast, tick)

    # 3. Steady state over power × detuning, best point, stabilisation.
    n_power, n_delta = (6, 6) if fast else (25, 24)
    fidelity_map = sweep(
        device,
        {
            "drive.power_dbm": {"start": -140.0, "stop": -115.0, "num": n_power},
            "drive.detuning": {"start": 0.25 * MHz, "stop": 6.0 * MHz, "num": n_delta},
        },
        quantities=["steady", "gap"],
        pair=(i, j),
        correlation_frequency=w0,
        progress=False,
    )
    best = fidelity_map.bell_fidelity.where(~fidelity_map.failed).argmax(...)
    at_best = fidelity_map.isel(best)
    power = float(at_best.power_dbm)
    delta = float(at_best.detuning) * MHz
    gap_time = float(at_best.stabilisation_time) * us
    op = entangling_operating_point(device, delta, pair=(i, j), correlation_frequency=w0)
    approach = stabilisation(
        device, op.drive(power), frequencies=op.frequencies, target=op.dark_state
    )
    tick("steady-state map and stabilisation")

    # 4. The protocol in time: three strategies after the drive, plus a slower ramp.
    t_drive = setting["drive_gap_multiple"] * gap_time
    ramp = setting["ramp_time_ns"] * 1e-9
    slow = setting["slow_ramp_time_ns"] * 1e-9
    t_store = setting["t_store_us"] * us
    df_freqs = np.array(device.frequencies, dtype=float)
    df_freqs[[i, j]] = coh["df_frequencies"]
    runs = {}
    n_times = 80 if fast else 400
    for key, after, ramp_time in (
        ("move_to_df", "move_to_df", ramp),
        ("stay", "stay", ramp),
        ("resonant", "resonant", ramp),
        ("move_to_df_slow", "move_to_df", slow),
    ):
        protocol = driven_dissipative(
            device,
            power_dbm=power,
            detuning=delta,
            t_drive=t_drive,
            ramp_time=ramp_time,
            t_store=t_store,
            after_drive=after,
            pair=(i, j),
            operating_point=op,
            df_frequencies=df_freqs,
        )
        total = t_drive + ramp_time + t_store
        times = np.unique(
            np.concatenate(
                [np.linspace(0.0, total, n_times), [t_drive, t_drive + ramp_time, total]]
            )
        )
        runs[key] = run_protocol(device, protocol, times, rtol=1e-7, atol=1e-9)
    moved = runs["move_to_df"]

    def at(result: Any, t: float) -> int:
        return int(np.argmin(np.abs(result.times - t)))

    k_end_drive, k_transfer = at(moved, t_drive), at(moved, t_drive + ramp)
    tick("protocol in time: stay / move to DF / resonant")

    # 5. Tomography of the transferred state, with readout errors and bootstrap.
    seed = int(setting["seed"])
    readout = ReadoutModel.from_fidelities(
        setting["readout_fidelity_g"], setting["readout_fidelity_e"]
    )
    shots = int(setting["shots_per_setting"])
    samples = int(setting["bootstrap_samples"])
    rho_transfer = moved.rho[k_transfer]
    phases = moved.local_phases[k_transfer][[i, j]]
    data = simulate_counts(
        rho_transfer,
        shots=shots,
        readout=readout,
        seed=seed,
        local_phases=phases,
        pair=(i, j),
        dims=device.dims,
    )
    # Fidelity to the closest Bell state up to local Z rotations, as for the state above.
    estimate = bell_fidelity_with_errors(
        data,
        state="closest",
        bootstrap=samples,
        seed=seed + 1,
        local_phases=phases,
        optimize_phases=True,
    )
    unmitigated = bell_fidelity_with_errors(
        data,
        state="closest",
        bootstrap=samples,
        seed=seed + 1,
        local_phases=phases,
        mitigate=False,
        optimize_phases=True,
    )
    tick("tomography with readout errors and bootstrap")

    # The table.
    slow_run = runs["move_to_df_slow"]
    f_slow = float(slow_run.bell_fidelity_optimized[at(slow_run, t_drive + slow)])
    f_stay = float(runs["stay"].bell_fidelity_optimized[-1])
    f_resonant = float(runs["resonant"].bell_fidelity_optimized[-1])
    t1_df, t2_df = coh["t1_us"][0], coh["t2_us"][0]
    delays = diagnostics(device, w0)
    table = [
        _row(
            "bright-mode broadening at the in-phase point (× γ)",
            PAPER["broadening"],
            f"{spec['broadening_fit']:.2f}",
            f"fit of the two-atom line at {spec['bright_mode_frequency_ghz']:.3f} GHz "
            f"(analytic 2Γ/γ = {spec['broadening_analytic']:.2f}); γ/2π = "
            f"{spec['gamma_point_mhz']:.1f} MHz per point [R]",
        ),
        _row(
            "single-atom Γ from spectroscopy vs analytic Γ(ω)",
            "—",
            f"{100 * spec['max_relative_gamma_error']:.1f} %",
            "max relative deviation over the flux scan (Γ evaluated at the probe frequency)",
        ),
        _row(
            "single-atom Lamb shift from spectroscopy vs analytic",
            "—",
            f"{1e3 * spec['max_lamb_shift_error_mhz']:.0f} kHz",
            "max deviation over the scan",
        ),
        _row(
            "entangling (perfect-correlation) frequency (GHz)",
            "—",
            f"{w0 / GHz:.4f}",
            "kD = nπ [R] geometry",
        ),
        _row(
            f"DF frequency of atom {device.atom_names[i]} (GHz)",
            "—",
            f"{coh['df_frequencies'][0] / GHz:.4f}",
            "φ = (2m+1)π [R] geometry",
        ),
        _row(
            "coherence T2 at the DF point (µs)",
            PAPER["coherence_us"],
            f"{t2_df:.1f}",
            f"Ramsey fit (expected {coh['t2_expected_us'][0]:.1f}); T1 = {t1_df:.1f} µs; "
            "intrinsic T1, T2 are device inputs [R]",
        ),
        _row(
            "steady-state Bell fidelity (best on map)",
            "—",
            f"{float(at_best.bell_fidelity):.3f}",
            f"P = {power:.1f} dBm, δ/2π = {delta / MHz:.2f} MHz",
        ),
        _row(
            "stabilisation time 1/gap (µs)",
            "~µs",
            f"{gap_time / us:.3f}",
            f"fitted from |gg⟩: {float(approach.fitted_time) / us:.3f} µs",
        ),
        _row(
            "Bell fidelity at the end of the drive",
            "—",
            f"{float(moved.bell_fidelity_optimized[k_end_drive]):.3f}",
            f"t_drive = {t_drive / us:.2f} µs (8/gap)",
        ),
        _row(
            "Bell fidelity after transfer to the DF point (state)",
            "—",
            f"{float(moved.bell_fidelity_optimized[k_transfer]):.3f}",
            f"{ramp * 1e9:.0f} ns cosine ramp [R]; {slow * 1e9:.0f} ns: {f_slow:.3f}",
        ),
        _row(
            "Bell fidelity after transfer, tomography",
            PAPER["bell_fidelity"],
            estimate.format(),
            f"{estimate.state} up to local Z; MLE, readout-mitigated, {shots} shots × 9 settings, "
            f"{samples} bootstrap [R]; unmitigated {unmitigated.format()}",
        ),
        _row(
            f"Bell fidelity after {t_store / us:.0f} µs at the DF point",
            "—",
            f"{float(moved.bell_fidelity_optimized[-1]):.3f}",
            f"staying at the entangling point: {f_stay:.3f}; resonant point: {f_resonant:.3f}",
        ),
        _row(
            "propagation delays: change of the Markovian rates",
            "—",
            f"{100 * float(delays.markov_error):.1f} %",
            f"Γτ = {float(delays.Gamma_tau):.3f}, longest delay "
            f"{float(delays.max_delay) * 1e9:.2f} ns; "
            + ("Markovian to 1 %" if bool(delays.markovian) else "above 1 %: see giantatoms.delay"),
        ),
    ]
    summary = {
        "device": device.name,
        "pair": [device.atom_names[i], device.atom_names[j]],
        "fast": fast,
        "assumptions": setting,
        "delays": {
            "markov_error": float(delays.markov_error),
            "Gamma_tau": float(delays.Gamma_tau),
            "gamma_tau": float(delays.gamma_tau),
            "max_delay_ns": float(delays.max_delay) * 1e9,
            "verdict": delays.verdict(),
        },
        "correlation_frequency_ghz": w0 / GHz,
        "df_frequencies_ghz": [d / GHz for d in coh["df_frequencies"]],
        "broadening_fit": spec["broadening_fit"],
        "broadening_analytic": spec["broadening_analytic"],
        "max_relative_gamma_error": spec["max_relative_gamma_error"],
        "max_lamb_shift_error_mhz": spec["max_lamb_shift_error_mhz"],
        "t1_df_us": coh["t1_us"],
        "t2_df_us": coh["t2_us"],
        "t2_df_expected_us": coh["t2_expected_us"],
        "best_power_dbm": power,
        "best_detuning_mhz": delta / MHz,
        "best_bell_fidelity": float(at_best.bell_fidelity),
        "stabilisation_time_us": gap_time / us,
        "fitted_stabilisation_time_us": float(approach.fitted_time) / us,
        "fidelity_end_of_drive": float(moved.bell_fidelity_optimized[k_end_drive]),
        "fidelity_after_transfer": float(moved.bell_fidelity_optimized[k_transfer]),
        "fidelity_after_storage": float(moved.bell_fidelity_optimized[-1]),
        "fidelity_after_storage_if_staying": f_stay,
        "fidelity_after_storage_resonant": f_resonant,
        "fidelity_after_slow_transfer": f_slow,
        "tomography_fidelity": estimate.value,
        "tomography_fidelity_std": estimate.std,
        "tomography_interval": list(estimate.interval),
        "tomography_state": estimate.state,
        "tomography_fidelity_unmitigated": unmitigated.value,
        "protocol_max_error_estimate": float(
            max(np.max(run.error_estimate) for run in runs.values())
        ),
        "steady_state_max_relative_residual": float(fidelity_map.relative_residual.max()),
    }

    strategies = ["move_to_df", "stay", "resonant"]
    protocol_ds = xr.Dataset(
        {
            name: (
                ("strategy", "time"),
                np.stack(
                    [
                        np.interp(moved.times, runs[s].times, getattr(runs[s], name))
                        for s in strategies
                    ]
                ),
                {"units": "1", "long_name": name.replace("_", " ")},
            )
            for name in ("bell_fidelity", "bell_fidelity_optimized", "concurrence", "leakage")
        },
        coords={
            "strategy": ("strategy", strategies),
            "time": ("time", moved.times / us, {"units": "us", "long_name": "time from start"}),
        },
        attrs={"t_drive_us": t_drive / us, "ramp_time_ns": ramp * 1e9, "t_store_us": t_store / us},
    )
    tomography_ds = xr.Dataset(
        {
            "counts": (
                ("setting", "outcome"),
                np.asarray(data.counts),
                {"long_name": "simulated counts"},
            ),
            "rho_real": (
                ("row", "column"),
                estimate.result.rho.real,
                {"long_name": "reconstructed ρ, real part"},
            ),
            "rho_imag": (
                ("row", "column"),
                estimate.result.rho.imag,
                {"long_name": "reconstructed ρ, imaginary part"},
            ),
            "bootstrap_fidelity": (
                ("sample",),
                np.asarray(estimate.samples),
                {"long_name": f"bootstrap fidelity to {estimate.state}"},
            ),
        },
        coords={
            "setting": ("setting", list(data.settings)),
            "outcome": ("outcome", ["gg", "ge", "eg", "ee"]),
            "row": ("row", ["gg", "ge", "eg", "ee"]),
            "column": ("column", ["gg", "ge", "eg", "ee"]),
        },
        attrs={
            "fidelity": estimate.value,
            "std": estimate.std,
            "state": estimate.state,
            "shots_per_setting": shots,
            "seed": seed,
        },
    )
    datasets = {
        "spectroscopy": spectroscopy_ds,
        "fidelity_map": fidelity_map,
        "protocol": protocol_ds,
        "tomography": tomography_ds,
    }
    figs: dict[str, Any] = {}
    if figures:
        figs = reproduction_figures(
            device, (i, j), band, spec_plot, spectroscopy_ds, fidelity_map, runs, estimate
        )
        tick("figures")
    return Reproduction(
        table=table, summary=summary, datasets=datasets, figures=figs, timings=timings
    )
