"""Chip description: a waveguide and atoms with their coupling points (and drives).

All classes are frozen dataclasses that only hold validated parameters; computations live in
:mod:`giantatoms.model.couplings` and :mod:`giantatoms.model.lindblad`. Internal units: rad/s
for frequencies and rates, seconds, metres, dBm for drive power. Any numeric parameter may be an
array; arrays broadcast against each other and become the leading batch shape of every result
(per-point parameters carry the points on their last axis). :class:`Waveguide`, :class:`Atom`
and :class:`Drive` are defined in :mod:`giantatoms.model.elements` and re-exported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from giantatoms.model.elements import Atom, Drive, Waveguide, _arrays_equal

if TYPE_CHECKING:
    from giantatoms.model.couplings import Couplings

__all__ = ["Atom", "Device", "Drive", "Waveguide"]


@dataclass(frozen=True, eq=False)
class Device:
    """A waveguide with any number of atoms, each with any number of coupling points.

    Atoms may be separate, braided, nested or mixed: the order of their points along the
    waveguide is whatever their positions say. The basis order of every state and operator is
    the order of ``atoms`` (first atom = most significant tensor factor).

    Parameters
    ----------
    waveguide : Waveguide
    atoms : sequence of Atom
        At least one; names must be unique.
    name : str, optional
    description : str, optional
    assumptions : sequence of str, optional
        Statements about parameters that were assumed rather than measured.
    """

    waveguide: Waveguide
    atoms: Sequence[Atom]
    name: str = ""
    description: str = ""
    assumptions: Sequence[str] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not isinstance(self.waveguide, Waveguide):
            raise TypeError(f"Device: waveguide must be a Waveguide, got {type(self.waveguide)}")
        atoms = tuple(self.atoms)
        if not atoms:
            raise ValueError("Device: atoms must contain at least one Atom")
        for atom in atoms:
            if not isinstance(atom, Atom):
                raise TypeError(f"Device: atoms must be Atom objects, got {type(atom)}")
        names = [a.name for a in atoms]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"Device: atom names must be unique, duplicated: {duplicates}")
        for label in ("name", "description"):
            if not isinstance(getattr(self, label), str):
                raise TypeError(f"Device: {label} must be a string, got {getattr(self, label)!r}")
        object.__setattr__(self, "atoms", atoms)
        object.__setattr__(self, "assumptions", tuple(str(a) for a in self.assumptions))

    @property
    def n_atoms(self) -> int:
        """Number of atoms."""
        return len(self.atoms)

    @property
    def atom_names(self) -> tuple[str, ...]:
        """Names in basis order."""
        return tuple(a.name for a in self.atoms)

    @property
    def dims(self) -> tuple[int, ...]:
        """Levels of each atom, in basis order."""
        return tuple(a.levels for a in self.atoms)

    @property
    def frequencies(self) -> NDArray[np.float64]:
        """Bare atom frequencies broadcast to shape (..., n_atoms), rad/s."""
        return np.stack(np.broadcast_arrays(*[a.frequency for a in self.atoms]), axis=-1)

    def index(self, atom: str | int) -> int:
        """Position of an atom given by name or index."""
        if isinstance(atom, (int, np.integer)) and not isinstance(atom, bool):
            if not -self.n_atoms <= atom < self.n_atoms:
                raise ValueError(f"atom index {atom} out of range for {self.n_atoms} atoms")
            return int(atom) % self.n_atoms
        if atom not in self.atom_names:
            raise ValueError(f"unknown atom {atom!r}; atoms are {list(self.atom_names)}")
        return self.atom_names.index(atom)

    def atom(self, name: str | int) -> Atom:
        """The atom with the given name (or index)."""
        return self.atoms[self.index(name)]

    def replace_atom(self, name: str | int, **changes: Any) -> Device:
        """Return a copy with one atom's parameters changed."""
        i = self.index(name)
        atoms = list(self.atoms)
        atoms[i] = atoms[i].replace(**changes)
        return replace(self, atoms=tuple(atoms))

    def with_frequencies(self, frequencies: ArrayLike) -> Device:
        """Return a copy with bare atom frequencies (rad/s, shape (..., n_atoms)) replaced."""
        f = np.asarray(frequencies, dtype=float)
        if f.ndim == 0 or f.shape[-1] != self.n_atoms:
            raise ValueError(
                f"frequencies must have shape (..., {self.n_atoms}) (one per atom), got {f.shape}"
            )
        atoms = tuple(a.replace(frequency=f[..., j]) for j, a in enumerate(self.atoms))
        return replace(self, atoms=atoms)

    def couplings(
        self, frequency: ArrayLike | None = None, *, frequencies: ArrayLike | None = None
    ) -> Couplings:
        """Waveguide-mediated couplings of all atoms (PHYSICS.md §3).

        Parameters
        ----------
        frequency : array_like, rad/s, optional
            One transition frequency for all atoms (shape (...)), e.g. a grid for plotting
            rates against frequency.
        frequencies : array_like, rad/s, shape (..., n_atoms), optional
            One frequency per atom. When neither is given the atoms' own frequencies are used.

        Returns
        -------
        Couplings
        """
        from giantatoms.model.couplings import couplings

        return couplings(self, frequency=frequency, frequencies=frequencies)

    @classmethod
    def from_toml(cls, source: str | Path) -> Device:
        """Read a device from a TOML file path or a TOML string (see :mod:`giantatoms.model.io`)."""
        from giantatoms.model._toml import read_device

        return read_device(source, cls)

    def to_toml(self, path: str | Path | None = None) -> str:
        """Write the device as TOML; returns the text and writes it to ``path`` if given."""
        from giantatoms.model._toml import write_device

        return write_device(self, path)

    __eq__ = _arrays_equal
