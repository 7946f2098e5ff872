"""A vasprun.xml of an MD run in VASP's own layout, for reader tests (no public one is reachable).

The tags, element order and nesting follow what VASP 6 writes (generator, incar, kpoints,
parameters with separators, atominfo, initialpos, one <calculation> per ionic step with its
<structure>, finalpos), so pymatgen's Vasprun reads it as it reads a real run.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _vectors(rows: np.ndarray) -> str:
    return "\n".join(f"    <v>{''.join(f'{x:17.8f}' for x in row)} </v>" for row in rows)


def _structure(cell: np.ndarray, frac: np.ndarray, name: str | None = None) -> str:
    head = f'<structure name="{name}" >' if name else "<structure>"
    return f""" {head}
  <crystal>
   <varray name="basis" >
{_vectors(cell)}
   </varray>
   <i name="volume">  {abs(np.linalg.det(cell)):16.8f} </i>
   <varray name="rec_basis" >
{_vectors(np.linalg.inv(cell).T)}
   </varray>
  </crystal>
  <varray name="positions" >
{_vectors(frac)}
  </varray>
 </structure>
"""


def vasprun_text(
    frac: np.ndarray,
    cells: np.ndarray,
    symbols: Sequence[str],
    *,
    potim: float = 2.0,
    nblock: int = 10,
    ibrion: int = 0,
    ml_outblock: int | None = None,
    complete: bool = True,
) -> str:
    """vasprun.xml text of an MD run: ``frac`` (steps, atoms, 3) fractional, ``cells`` (A).

    ``ml_outblock`` makes it a machine-learned force-field run that stores every
    ``ml_outblock``-th step; ``complete=False`` leaves out the final structure and the closing
    tag (a run killed at the end of a step).
    """
    elements = list(dict.fromkeys(symbols))
    ml_incar = (
        f'  <i type="logical" name="ML_LMLFF"> T  </i>\n'
        f'  <i type="int" name="ML_OUTBLOCK">    {ml_outblock}</i>\n'
        if ml_outblock
        else ""
    )
    atoms = "\n".join(
        f"    <rc><c>{s:2s}</c><c>   {elements.index(s) + 1}</c></rc>" for s in symbols
    )
    types = "\n".join(
        f"    <rc><c>   {list(symbols).count(e)}</c><c>{e:2s}</c><c>      1.00000000</c>"
        f"<c>      1.00000000</c><c>  PAW_PBE {e} 01Jan2000</c></rc>"
        for e in elements
    )
    out = [
        f"""<?xml version="1.0" encoding="ISO-8859-1"?>
<modeling>
 <generator>
  <i name="program" type="string">vasp </i>
  <i name="version" type="string">6.3.2 </i>
  <i name="subversion" type="string">28Sep22 complex serial </i>
  <i name="platform" type="string">LinuxIFC </i>
  <i name="date" type="string">2024 01 01 </i>
  <i name="time" type="string">00:00:00 </i>
 </generator>
 <incar>
  <i type="string" name="PREC">normal</i>
  <i name="ENCUT">    400.00000000</i>
  <i type="int" name="IBRION">     {ibrion}</i>
  <i type="int" name="NSW">    {len(frac)}</i>
  <i name="POTIM">      {potim:.8f}</i>
  <i name="TEBEG">    500.00000000</i>
  <i type="int" name="NBLOCK">    {nblock}</i>
{ml_incar} </incar>
 <kpoints>
  <generation param="Gamma">
   <v type="int" name="divisions">       1        1        1 </v>
   <v name="usershift">      0.00000000       0.00000000       0.00000000 </v>
   <v name="genvec1">      1.00000000       0.00000000       0.00000000 </v>
   <v name="genvec2">      0.00000000       1.00000000       0.00000000 </v>
   <v name="genvec3">      0.00000000       0.00000000       1.00000000 </v>
   <v name="shift">      0.00000000       0.00000000       0.00000000 </v>
  </generation>
  <varray name="kpointlist" >
   <v>       0.00000000       0.00000000       0.00000000 </v>
  </varray>
  <varray name="weights" >
   <v>       1.00000000 </v>
  </varray>
 </kpoints>
 <parameters>
  <separator name="general" >
   <i type="string" name="SYSTEM">synthetic</i>
  </separator>
  <separator name="electronic" >
   <i type="string" name="PREC">normal</i>
   <i name="ENMAX">    400.00000000</i>
   <i type="int" name="ISPIN">     1</i>
   <i type="int" name="NBANDS">     8</i>
   <i type="int" name="NELM">    60</i>
   <i name="EDIFF">      0.00001000</i>
  </separator>
  <separator name="ionic" >
   <i type="int" name="NSW">    {len(frac)}</i>
   <i type="int" name="IBRION">     {ibrion}</i>
   <i type="int" name="ISIF">     2</i>
   <i name="POTIM">      {potim:.8f}</i>
  </separator>
  <separator name="ionic md" >
   <i name="TEBEG">    500.00000000</i>
   <i name="TEEND">    500.00000000</i>
   <i name="SMASS">     -3.00000000</i>
   <i type="int" name="NBLOCK">    {nblock}</i>
   <i type="int" name="KBLOCK">     1</i>
  </separator>
 </parameters>
 <atominfo>
  <atoms>      {len(symbols)} </atoms>
  <types>       {len(elements)} </types>
  <array name="atoms" >
   <dimension dim="1">ion</dimension>
   <field type="string">element</field>
   <field type="int">atomtype</field>
   <set>
{atoms}
   </set>
  </array>
  <array name="atomtypes" >
   <dimension dim="1">type</dimension>
   <field type="int">atomspertype</field>
   <field type="string">element</field>
   <field>mass</field>
   <field>valence</field>
   <field type="string">pseudopotential</field>
   <set>
{types}
   </set>
  </array>
 </atominfo>
""",
        _structure(cells[0], frac[0], "initialpos"),
    ]
    for k, (f, cell) in enumerate(zip(frac, cells, strict=True)):
        energy = -10.0 - 0.01 * k
        out.append(
            f""" <calculation>
  <scstep>
   <energy>
    <i name="e_fr_energy">  {energy:16.8f} </i>
    <i name="e_wo_entrp">  {energy:16.8f} </i>
    <i name="e_0_energy">  {energy:16.8f} </i>
   </energy>
  </scstep>
{_structure(cell, f)}  <varray name="forces" >
{_vectors(np.zeros_like(f))}
  </varray>
  <varray name="stress" >
{_vectors(np.zeros((3, 3)))}
  </varray>
  <energy>
   <i name="e_fr_energy">  {energy:16.8f} </i>
   <i name="e_wo_entrp">  {energy:16.8f} </i>
   <i name="e_0_energy">  {energy:16.8f} </i>
   <i name="kinetic">      0.10000000 </i>
   <i name="total">  {energy + 0.1:16.8f} </i>
  </energy>
  <time name="totalsc">    0.10    0.10</time>
 </calculation>
"""
        )
    if complete:
        out += [_structure(cells[-1], frac[-1], "finalpos"), "</modeling>\n"]
    return "".join(out)


def random_md(
    n_steps: int, symbols: Sequence[str], seed: int = 0, step_a: float = 0.3
) -> tuple[np.ndarray, np.ndarray]:
    """Fractional coordinates (wrapped) of a random walk in a fixed orthorhombic cell (A)."""
    rng = np.random.default_rng(seed)
    cell = np.diag([7.0, 8.0, 9.0])
    start = rng.uniform(size=(len(symbols), 3)) @ cell
    steps = rng.normal(scale=step_a, size=(n_steps - 1, len(symbols), 3))
    cart = np.concatenate([start[None], start[None] + np.cumsum(steps, axis=0)])
    frac = (cart @ np.linalg.inv(cell)) % 1.0
    return frac, np.repeat(cell[None], n_steps, axis=0)
