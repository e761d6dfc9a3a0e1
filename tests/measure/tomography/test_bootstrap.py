"""Tests of the Bell fidelity with bootstrap error bars: unbiased, reproducible, formatted."""

from __future__ import annotations

import re

import numpy as np

from giantatoms.measure.metrics import bell_fidelity
from giantatoms.measure.tomography import (
    BellEstimate,
    ReadoutModel,
    TomographyResult,
    bell_fidelity_with_errors,
    reconstruct,
    simulate_counts,
)

from tests.measure.tomography._states import werner_like

# ------------------------------------------------------------------ 2. unbiased with mitigation


def test_mitigated_bootstrap_fidelity_is_unbiased_over_seeds():
    n_seeds = 100
    rho = werner_like(0.85)
    truth = float(bell_fidelity(rho, "psi-"))
    readout = ReadoutModel.from_fidelities(0.97, 0.93)
    batch = np.broadcast_to(rho, (n_seeds, 4, 4))
    data = simulate_counts(batch, shots=2000, readout=readout, seed=2026)  # one draw per seed
    estimate = bell_fidelity_with_errors(data, bootstrap=40, seed=7, state="closest")
    assert np.all(estimate.state == "psi-")
    values = estimate.value
    sem = values.std(ddof=1) / np.sqrt(n_seeds)
    assert abs(values.mean() - truth) < 3 * sem
    # The bootstrap width matches the seed-to-seed spread, and the interval covers.
    assert 0.7 < estimate.std.mean() / values.std(ddof=1) < 1.4
    low, high = estimate.interval[..., 0], estimate.interval[..., 1]
    coverage = np.mean((low <= truth) & (truth <= high))
    assert 0.5 <= coverage <= 0.85
    raw = bell_fidelity_with_errors(data, bootstrap=0, mitigate=False, state="psi-")
    assert raw.value.mean() < truth - 10 * sem
    assert np.all(np.isnan(raw.std))


def test_bell_estimate_is_reproducible_and_formats():
    rho = werner_like(0.9)
    readout = ReadoutModel.from_fidelities(0.97, 0.93)
    data = simulate_counts(rho, shots=2000, readout=readout, seed=3)
    first = bell_fidelity_with_errors(data, bootstrap=60, seed=11)
    again = bell_fidelity_with_errors(data, bootstrap=60, seed=11)
    assert isinstance(first, BellEstimate) and isinstance(first.result, TomographyResult)
    assert np.array_equal(first.samples, again.samples)
    assert first.samples.shape == (60,) and first.state == "psi-"
    assert isinstance(first.value, float) and isinstance(first.std, float)
    assert first.interval[0] <= first.value <= first.interval[1]
    assert re.fullmatch(r"0\.\d+ ± 0\.\d+", first.format())
    assert first.format(decimals=2).count(".") == 2
    drawn = bell_fidelity_with_errors(data, bootstrap=5)
    assert isinstance(drawn.seed, int)
    replay = bell_fidelity_with_errors(data, bootstrap=5, seed=drawn.seed)
    assert np.array_equal(drawn.samples, replay.samples)


def test_format_rounding_rules():
    result = reconstruct(simulate_counts(werner_like(), shots=None))

    def make(value, std):
        return BellEstimate(value, std, (0.0, 1.0), np.zeros(0), "psi-", 0.68, 0, result)

    assert make(0.8912, 0.0213).format() == "0.89 ± 0.02"
    assert make(0.8912, 0.0153).format() == "0.891 ± 0.015"
    assert make(0.8912, float("nan")).format() == "0.8912"
