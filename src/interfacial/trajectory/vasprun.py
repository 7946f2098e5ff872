"""VASP ``vasprun.xml`` molecular-dynamics runs, streamed step by step.

Layout read (VASP 5 and 6)::

    <modeling>
      <incar> <i name="POTIM">2.0</i> <i name="IBRION">0</i> ... </incar>
      <parameters> ... the same tags, with every default VASP used ... </parameters>
      <atominfo> <array name="atoms"> <set> <rc><c>Li</c><c>1</c></rc> ... </atominfo>
      <calculation>                      one per ionic step
        <structure> <crystal> <varray name="basis"> 3 x <v> (A) </crystal>
                    <varray name="positions"> N x <v> (fractional) </structure>
        ...forces, energies, eigenvalues...
      </calculation>

vasprun.xml holds every ionic step (NBLOCK only thins XDATCAR), except that a
machine-learned force-field run writes every ML_OUTBLOCK-th step. The time between stored
frames is therefore ``POTIM * ML_OUTBLOCK`` fs (ML_OUTBLOCK counted when ML_LMLFF is on, 1
otherwise); :mod:`interfacial.trajectory.frames` gives frame k the time
``k * POTIM * stride / 1000`` ps.

Written with :func:`xml.etree.ElementTree.iterparse` rather than through pymatgen's
``Vasprun`` or ASE's ``vasp-xml`` reader: both keep every step in memory (ASE collects all
``<calculation>`` elements before yielding the first frame) and neither reports POTIM with the
frames. Here each step is turned into a frame and its element removed, so a multi-GB vasprun
takes the memory of one step; a run killed at its walltime (the file ends inside a step) gives
all its complete steps and a :class:`TruncatedTrajectoryWarning`.
"""

from __future__ import annotations

import math
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from interfacial.errors import InterfacialError
from interfacial.trajectory.compression import archive_errors, open_binary
from interfacial.trajectory.frames import FloatArray, RawFrame

__all__ = [
    "TruncatedTrajectoryWarning",
    "VasprunHeader",
    "count_vasprun",
    "read_vasprun",
    "read_vasprun_header",
]


class TruncatedTrajectoryWarning(UserWarning):
    """A trajectory file ends inside a frame; the complete frames before it were read."""


@dataclass(frozen=True)
class VasprunHeader:
    """What a vasprun.xml says before its first ionic step.

    Attributes
    ----------
    symbols : tuple of str
        Element of each atom, in the file's order.
    ibrion : int
        IBRION (0: molecular dynamics).
    potim_fs : float
        POTIM, the MD time step (fs).
    stride : int
        MD steps between stored steps (ML_OUTBLOCK of a machine-learned force-field run, else 1).

    """

    symbols: tuple[str, ...]
    ibrion: int
    potim_fs: float
    stride: int

    @property
    def frame_interval_fs(self) -> float:
        """Time between stored frames, ``POTIM * stride`` (fs)."""
        return self.potim_fs * self.stride


def _tag_value(elem: ET.Element) -> str:
    return (elem.text or "").strip()


def _flag(text: str) -> bool:
    return text.strip().upper().lstrip(".").startswith("T")


def _header(
    path: Path, incar: dict[str, str], params: dict[str, str], symbols: list[str]
) -> VasprunHeader:
    """The header from the INCAR and parameter tags (parameters, which VASP used, win)."""

    def tag(name: str) -> str | None:
        return params.get(name, incar.get(name))

    try:
        ibrion_text = tag("IBRION")
        # VASP's default: IBRION = 0 (MD) when NSW > 0.
        ibrion = int(float(ibrion_text)) if ibrion_text is not None else 0
        potim_text = tag("POTIM")
        potim = float(potim_text) if potim_text is not None else math.nan
        stride = 1
        outblock = tag("ML_OUTBLOCK")
        if outblock is not None and _flag(tag("ML_LMLFF") or "F"):
            stride = int(float(outblock))
    except ValueError:
        raise InterfacialError(
            f"{path}: unreadable IBRION, POTIM or ML_OUTBLOCK in <parameters>/<incar>"
        ) from None
    if ibrion != 0:
        raise InterfacialError(
            f"{path}: not a molecular-dynamics run (IBRION = {ibrion}; MD has IBRION = 0); give "
            "the vasprun.xml of an MD run"
        )
    if not (potim > 0 and math.isfinite(potim)) or stride < 1:
        raise InterfacialError(
            f"{path}: POTIM {potim_text} fs / ML_OUTBLOCK {stride} is not a usable MD time step; "
            "check the run's INCAR"
        )
    if not symbols:
        raise InterfacialError(f"{path}: <atominfo> lists no atoms; not a complete vasprun.xml")
    return VasprunHeader(tuple(symbols), ibrion, potim, stride)


def _atominfo_symbols(elem: ET.Element) -> list[str]:
    rows = elem.findall("array[@name='atoms']/set/rc")
    # VASP writes element symbols padded to two characters ("S ").
    return [_tag_value(rc[0]) for rc in rows if len(rc)]


def _vectors(elem: ET.Element | None, n: int, what: str, where: str) -> FloatArray:
    if elem is None:
        raise InterfacialError(f"{where}: no {what} in the step's <structure>")
    try:
        values = np.array([v.text.split() for v in elem.findall("v") if v.text], dtype=float)
        return values.reshape(n, 3)
    except ValueError:
        raise InterfacialError(
            f"{where}: {what} are not {n} vectors of 3 numbers; the step is malformed"
        ) from None


def _events(path: Path, *, header_only: bool) -> Iterator[tuple[str, ET.Element | VasprunHeader]]:
    """Parse ``path``: ("header", VasprunHeader) once, then ("step", <structure>) per step.

    Every element is cleared once used and each step removed from the tree, so memory does not
    grow with the run. A file that ends inside a step ends the iteration after a warning.
    """
    incar: dict[str, str] = {}
    params: dict[str, str] = {}
    symbols: list[str] = []
    header: VasprunHeader | None = None
    stack: list[ET.Element] = []
    steps = 0
    structure: ET.Element | None = None
    with archive_errors(path), open_binary(path) as fh:
        parser = ET.iterparse(fh, events=("start", "end"))
        try:
            for event, elem in parser:
                if event == "start":
                    if not stack and elem.tag != "modeling":
                        raise InterfacialError(
                            f"{path}: the XML root is <{elem.tag}>, not <modeling>: not a "
                            "vasprun.xml"
                        )
                    if elem.tag == "calculation" and len(stack) == 1 and header is None:
                        header = _header(path, incar, params, symbols)
                        yield "header", header
                        if header_only:
                            return
                    stack.append(elem)
                    continue
                stack.pop()
                parent = stack[-1] if stack else None
                if parent is None:
                    continue
                if parent.tag == "incar" and elem.tag == "i":
                    incar[elem.get("name", "")] = _tag_value(elem)
                elif elem.tag == "i" and len(stack) >= 2 and stack[1].tag == "parameters":
                    params[elem.get("name", "")] = _tag_value(elem)
                elif elem.tag == "atominfo":
                    symbols = _atominfo_symbols(elem)
                elif parent.tag == "calculation" and elem.tag == "structure":
                    structure = elem
                    continue  # kept until its step is complete
                elif elem.tag == "calculation" and len(stack) == 1:
                    if structure is not None:
                        steps += 1
                        yield "step", structure
                    structure = None
                    parent.remove(elem)
                    elem.clear()
                    continue
                if len(stack) == 1:  # a finished top-level element: not needed any more
                    parent.remove(elem)
                    elem.clear()
                elif parent.tag == "calculation":
                    elem.clear()  # scstep, eigenvalues, dos ... of the current step
        except ET.ParseError as exc:
            if not stack:
                raise InterfacialError(
                    f"{path}: not a readable vasprun.xml ({exc}); check the file"
                ) from None
            if header is None:
                raise InterfacialError(
                    f"{path}: no MD steps (the file ends before its first ionic step, {exc}); "
                    "the run stopped before writing a step"
                ) from None
            if not header_only:
                warnings.warn(
                    f"{path} ends inside ionic step {steps + 1} (a run stopped while writing, "
                    f"e.g. at its walltime): read its {steps} complete steps",
                    TruncatedTrajectoryWarning,
                    stacklevel=2,
                )
            return
    if header is None:
        raise InterfacialError(
            f"{path}: no MD steps (no <calculation> in the file); the run stopped before its "
            "first ionic step"
        )


def read_vasprun_header(path: Path) -> VasprunHeader:
    """Atoms, IBRION, POTIM and output stride of a vasprun.xml, read up to its first step.

    Raises
    ------
    InterfacialError
        Not a vasprun.xml, not an MD run (IBRION != 0), no POTIM, or no ionic step.

    """
    for kind, value in _events(path, header_only=True):
        if kind == "header":
            assert isinstance(value, VasprunHeader)
            return value
    raise InterfacialError(f"{path}: no MD steps in the vasprun.xml")  # pragma: no cover


def read_vasprun(path: Path) -> Iterator[tuple[int, RawFrame]]:
    """Yield (step number from 1, frame) of a vasprun.xml MD run; frame times are None."""
    symbols: tuple[str, ...] = ()
    n_steps = 0
    for _, value in _events(path, header_only=False):
        if isinstance(value, VasprunHeader):
            symbols = value.symbols
            continue
        n_steps += 1
        where = f"{path}, step {n_steps}"
        cell = _vectors(value.find("crystal/varray[@name='basis']"), 3, "basis", where)
        frac = _vectors(value.find("varray[@name='positions']"), len(symbols), "positions", where)
        value.clear()
        yield n_steps, RawFrame(frac @ cell, cell, None, symbols, None, False)
    if n_steps == 0:
        raise InterfacialError(
            f"{path}: no complete MD step (<calculation> with a <structure>); the run stopped "
            "before its first ionic step finished"
        )


def count_vasprun(path: Path) -> int:
    """Complete ionic steps of a vasprun.xml (closing ``</calculation>`` tags), no XML parsed."""
    marker = b"</calculation>"
    count = 0
    tail = b""
    with archive_errors(path), open_binary(path) as fh:
        while chunk := fh.read(1 << 22):
            block = tail + chunk
            count += block.count(marker)
            # Keep the end of the block in case a marker straddles two reads, without
            # counting a marker inside it twice.
            cut = max(len(block) - len(marker) + 1, block.rfind(marker) + len(marker))
            tail = block[cut:]
    return count
