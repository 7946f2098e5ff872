"""Import contracts of the layers (docs/architecture.md), read from the source's syntax trees.

Every import counts, including the ones inside functions: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "interfacial"

#: Code-agnostic layers: they say *what* is computed, never *with which code*.
CODE_AGNOSTIC = (
    "interfacial.analysis",
    "interfacial.schemas",
    "interfacial.builders",
    "interfacial.structures",
    "interfacial.flows",
    "interfacial.jobs",
    "interfacial.engines",
    "interfacial.settings",
    "interfacial.errors",
)

#: Engines: our engine packages and the third-party packages they wrap.
ENGINE_MODULES = (
    "interfacial.forcefields",
    "interfacial.vasp",
    "interfacial.lammps",
    "interfacial.mtp.engine",
    "interfacial.mtp.active",
    "atomate2.forcefields",
    "atomate2.vasp",
    "atomate2.lammps",
    "custodian",
    "chgnet",
    "sevenn",
    "motep",
    "lammps",
)

#: Pure analysis: numbers in, numbers out. No documents, no stores, no files.
ANALYSIS = "interfacial.analysis"
ANALYSIS_MAY_IMPORT = ("interfacial.analysis", "interfacial.errors")
IO_MODULES = ("pathlib", "os", "io", "json", "shutil", "jobflow", "maggma", "monty", "pydantic")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Absolute names of every module imported anywhere in the file."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.add(module)
            # "from interfacial.mtp import engine" imports the module interfacial.mtp.engine
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def _private_imports(source: str, name: str, is_package: bool = False) -> set[tuple[str, str]]:
    """(module, name) of every ``from interfacial.x import _y`` of another module in ``source``.

    ``name`` is the dotted name of the module whose text ``source`` is (for relative imports).
    """
    package = name if is_package else name.rpartition(".")[0]
    found: set[tuple[str, str]] = set()
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            base = package.split(".")
            base = base[: len(base) - node.level + 1]
            module = ".".join([*base, node.module] if node.module else base)
        else:
            module = node.module or ""
        if module == name or not _within(module, ("interfacial",)):
            continue
        found.update((module, alias.name) for alias in node.names if alias.name.startswith("_"))
    return found


def _within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _modules() -> dict[str, set[str]]:
    return {_module_name(p): _imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def private_import_violations() -> set[tuple[str, str, str]]:
    """(importing module, imported module, private name) across modules of the package."""
    return {
        (_module_name(path), module, name)
        for path in sorted(PACKAGE.rglob("*.py"))
        for module, name in _private_imports(
            path.read_text(), _module_name(path), path.name == "__init__.py"
        )
    }


#: Private names still imported across modules outside structures/; they are being removed as
#: the modules that own them gain public names. Entries leave this set, never join it.
KNOWN_PRIVATE_IMPORTS: set[tuple[str, str, str]] = set()


def engine_violations() -> set[tuple[str, str]]:
    """(code-agnostic module, engine module it imports)."""
    return {
        (module, imported)
        for module, imports in _modules().items()
        if _within(module, CODE_AGNOSTIC)
        for imported in imports
        if _within(imported, ENGINE_MODULES)
    }


def analysis_violations() -> set[tuple[str, str]]:
    """(analysis module, non-analysis project module or I/O module it imports)."""
    return {
        (module, imported)
        for module, imports in _modules().items()
        if _within(module, (ANALYSIS,))
        for imported in imports
        if (imported.startswith("interfacial") and not _within(imported, ANALYSIS_MAY_IMPORT))
        or _within(imported, IO_MODULES)
    }


def test_the_reader_sees_lazy_and_relative_imports(tmp_path: Path) -> None:
    # The contract checker itself: an import inside a function and a relative one both count.
    probe = PACKAGE / "flows" / "surface.py"
    assert "interfacial.jobs.surface" in _imports(probe)
    assert _within("interfacial.vasp.sets", ENGINE_MODULES)
    assert not _within("interfacial.vaspish", ENGINE_MODULES)


def test_the_reader_sees_private_imports() -> None:
    # The contract checker itself: absolute, relative and lazy imports count; a module's own
    # names and other packages' names do not.
    source = (
        "from interfacial.structures.slabs import _generator, build_slab\n"
        "from .meshes import _coprime\n"
        "from interfacial.structures.probe import _own\n"
        "from pymatgen.core.surface import _private\n"
        "def f():\n"
        "    from interfacial import _lazy\n"
    )
    assert _private_imports(source, "interfacial.structures.probe") == {
        ("interfacial.structures.slabs", "_generator"),
        ("interfacial.structures.meshes", "_coprime"),
        ("interfacial", "_lazy"),
    }


def test_no_module_imports_a_private_name_of_another() -> None:
    violations = sorted(private_import_violations() - KNOWN_PRIVATE_IMPORTS)
    assert not violations, "private names imported across modules:\n" + "\n".join(
        f"  {m} imports {n} from {i}" for m, i, n in violations
    )
    stale = sorted(KNOWN_PRIVATE_IMPORTS - private_import_violations())
    assert not stale, f"remove these fixed entries from KNOWN_PRIVATE_IMPORTS: {stale}"


def test_code_agnostic_layers_import_no_engine() -> None:
    violations = sorted(engine_violations())
    assert not violations, "code-agnostic modules import engines:\n" + "\n".join(
        f"  {m} imports {i}" for m, i in violations
    )


def test_analysis_imports_no_schema_and_no_io() -> None:
    violations = sorted(analysis_violations())
    assert not violations, "analysis modules import documents or I/O:\n" + "\n".join(
        f"  {m} imports {i}" for m, i in violations
    )


@pytest.mark.parametrize("layer", ["interfacial.analysis", "interfacial.schemas"])
def test_lower_layers_do_not_reach_up(layer: str) -> None:
    # analysis and schemas sit below jobs, flows, builders, the API and the command line.
    upper = (
        "interfacial.jobs",
        "interfacial.flows",
        "interfacial.builders",
        "interfacial.api",
        "interfacial.cli",
        "interfacial.campaign",
    )
    violations = sorted(
        (m, i)
        for m, imports in _modules().items()
        if _within(m, (layer,))
        for i in imports
        if _within(i, upper)
    )
    assert not violations, violations


def test_only_the_command_line_imports_the_command_line() -> None:
    violations = sorted(
        (m, i)
        for m, imports in _modules().items()
        if not _within(m, ("interfacial.cli",))
        for i in imports
        if _within(i, ("interfacial.cli",))
    )
    assert not violations, violations
