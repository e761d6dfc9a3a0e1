"""Helpers of the plotting tests: draw a figure once, find lines by gid."""

from __future__ import annotations

import io


def render(fig):
    """Draw the figure once (catches errors that only appear at draw time)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=40)
    assert buffer.getvalue().startswith(b"\x89PNG")


def lines_with_gid(ax, gid):
    return [line for line in ax.get_lines() if line.get_gid() == gid]
