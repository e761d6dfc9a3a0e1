"""Shared fixture of the plotting tests: the packaged two-atom device."""

from __future__ import annotations

import pytest

import giantatoms as ga


@pytest.fixture(scope="module")
def device():
    return ga.presets.load("sequential_pair")
