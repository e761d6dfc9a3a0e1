"""Protocol metrics against time, with the protocol's segments marked."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from giantatoms.plotting._common import _PROTOCOL_METRICS, _figure_and_axes, _label, _one_d
from giantatoms.units import us

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from giantatoms.protocols import Protocol

__all__ = ["plot_fidelity_vs_time"]

_BELL_SYMBOLS = {"psi-": "Ψ⁻", "psi+": "Ψ⁺", "phi-": "Φ⁻", "phi+": "Φ⁺"}


def _trace_of(
    label: str, item: Any, metric: str
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray | None, Any]:
    """(times s, values, spread or None, ProtocolResult or None) of one entry of ``results``."""
    if hasattr(item, "segment_labels") and hasattr(item, "populations"):  # ProtocolResult
        if metric in _PROTOCOL_METRICS:
            values = np.asarray(getattr(item, metric))
        elif metric in item.populations:
            values = np.asarray(item.populations[metric])
        else:
            raise ValueError(
                f"metric must be one of {[*_PROTOCOL_METRICS, *item.populations]}, got {metric!r}"
            )
        if values.ndim != 1:
            raise ValueError(
                f"results[{label!r}] has batch shape {values.shape[:-1]}; pass one run "
                "(or a (times, values) pair)"
            )
        return np.asarray(item.times), values, None, item
    if hasattr(item, "averaged_state") and hasattr(item, "times"):  # NoiseAverage
        # The shot-averaged state's metric (what a measurement sees) ± its standard error.
        if metric not in item.averaged_state:
            raise ValueError(f"metric must be one of {sorted(item.averaged_state)}, got {metric!r}")
        values = np.asarray(item.averaged_state[metric])
        spread = np.asarray(item.standard_error[metric])
        if values.ndim != 1:
            raise ValueError(f"results[{label!r}] has batch shape {values.shape[:-1]}")
        return np.asarray(item.times), values, spread, item.result
    if isinstance(item, Sequence) and len(item) == 2:
        times = _one_d(item[0], f"results[{label!r}] times")
        values = np.asarray(item[1], dtype=float)
        if values.shape != times.shape:
            raise ValueError(
                f"results[{label!r}]: values must have the shape of times {times.shape}, "
                f"got {values.shape}"
            )
        return times, values, None, None
    raise ValueError(
        f"results[{label!r}] must be a ProtocolResult, a NoiseAverage or (times s, values), "
        f"got {type(item).__name__}"
    )


def _segment_spans(protocol: Protocol | None, runs: list[Any]) -> list[tuple[float, float, str]]:
    """(start s, end s, label) of each segment: exact from a Protocol, else from save times."""
    if protocol is not None:
        edges = np.asarray(protocol.boundaries(), dtype=float)
        if edges.ndim != 1:
            raise ValueError("protocol must have scalar segment durations to mark its segments")
        labels = [seg.label or f"segment {k}" for k, seg in enumerate(protocol.segments)]
        return [(edges[k], edges[k + 1], labels[k]) for k in range(len(labels))]
    for run in runs:
        if run is None or np.ndim(run.segment) != 1:
            continue
        # A save time on a boundary belongs to the later segment, so the first save of each
        # segment is its start when the caller saves at the boundaries (else it is late by at
        # most one save interval).
        seg, times = np.asarray(run.segment), np.asarray(run.times)
        starts = np.flatnonzero(np.r_[True, seg[1:] != seg[:-1]])
        ends = [*times[starts[1:]], times[-1]]
        return [
            (times[s], e, run.segment_labels[seg[s]]) for s, e in zip(starts, ends, strict=True)
        ]
    return []


def plot_fidelity_vs_time(
    results: Mapping[str, Any] | Any,
    *,
    metric: str = "bell_fidelity_optimized",
    ax: Axes | None = None,
    segments: bool = True,
    protocol: Protocol | None = None,
) -> Figure:
    """A protocol metric against time for several runs, e.g. the three post-drive strategies.

    Typical use: ``{"stay": r_stay, "move to DF": r_df, "resonant": r_res}`` from
    :func:`giantatoms.run_protocol` of :func:`giantatoms.protocols.driven_dissipative` with
    ``after_drive="stay"``, ``"move_to_df"`` and ``"resonant"``.

    Parameters
    ----------
    results : mapping label → ProtocolResult, NoiseAverage or (times, values)
        Runs without batch axes. ``(times, values)``: times in s, shape (T,) each. A
        NoiseAverage is drawn as the metric of its shot-averaged state with a ±1
        standard-error band. A single ProtocolResult is
        accepted too (no legend).
    metric : str
        ``"bell_fidelity_optimized"``, ``"bell_fidelity"``, ``"concurrence"``, ``"leakage"``
        or a population key (``"gg"``, ``"psi-"``, …) of the results; for ``(times, values)``
        pairs it only names the vertical axis.
    ax : matplotlib.axes.Axes, optional
    segments : bool
        Shade the protocol's segments (alternating background, labels at the top) and draw
        their boundaries (``gid="segment_boundary"``).
    protocol : Protocol, optional
        Take the segment boundaries from this protocol (exact); otherwise from the first
        ProtocolResult's ``segment``, where a segment starts at its first save time.

    Returns
    -------
    matplotlib.figure.Figure
        Times on the horizontal axis in µs.
    """
    if not isinstance(results, Mapping):
        results = {"": results}
    if not results:
        raise ValueError("results must not be empty")
    traces = {str(k): _trace_of(str(k), v, metric) for k, v in results.items()}
    fig, ax = _figure_and_axes(ax, (6.8, 4.0))
    for label, (times, values, spread, _) in traces.items():
        style = {"marker": "o", "ms": 4} if times.size <= 20 else {}
        (line,) = ax.plot(times / us, values, label=label or None, **style)
        if spread is not None:
            ax.fill_between(
                times / us, values - spread, values + spread, color=line.get_color(), alpha=0.2
            )
    runs = [run for *_, run in traces.values()]
    if segments:
        spans = _segment_spans(protocol, runs)
        width = max((e for _, e, _ in spans), default=1.0) - min(
            (s for s, _, _ in spans), default=0.0
        )
        for k, (start, end, name) in enumerate(spans):
            if k % 2:
                ax.axvspan(start / us, end / us, color="0.92", zorder=0, lw=0)
            if k:
                ax.axvline(start / us, color="0.5", lw=0.8, ls="--", gid="segment_boundary")
            if end - start >= 0.06 * width:
                ax.text(
                    0.5 * (start + end) / us,
                    0.98,
                    name,
                    transform=ax.get_xaxis_transform(),
                    ha="center",
                    va="top",
                    fontsize=8,
                    color="0.35",
                )
    targets = {run.target for run in runs if run is not None}
    text = _PROTOCOL_METRICS.get(metric, f"population {metric}")
    if metric.startswith("bell_fidelity") and len(targets) == 1:
        (target,) = targets
        text = text.replace("Bell fidelity", f"fidelity to {_BELL_SYMBOLS.get(target, target)}")
    ax.set_xlabel(_label("time", "µs"))
    ax.set_ylabel(text)
    if any(traces):
        ax.legend(fontsize="small", loc="best")
    return fig
