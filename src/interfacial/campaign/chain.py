"""One submission for the whole study: entries that use another entry's result, wired together.

A potentials entry may learn on ``interface:METAL(hkl)|COMPOUND(hkl)`` that the same campaign's
interfaces stage computes, and a transport entry may run on that interface with the potential
(``store:SYSTEM``) that the campaign's potentials stage learns. Nothing of it is in the database
at submission time, so the entries are wired by jobflow references instead:

- a small job (:func:`~interfacial.jobs.interface.lowest_interface_model`) picks the lowest
  relaxed model from the interface flow's output;
- the potential's flow is built on that output (the reference MD cuts its supercell and seeds
  its vacancies once the model exists), its output (the active-learning chain's final fit) is
  the transport ladder's potential.

Entries joined this way become one flow (stage ``chain``), hence one FireWorks workflow in
which the references are the links; each part keeps its own stage for routing. Entries that
refer to results in the database are built from them as before. Everything is built and
checked before anything is added to a LaunchPad.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jobflow import Flow

from interfacial.errors import InterfacialError

if TYPE_CHECKING:
    from jobflow import Job

    from interfacial.campaign.entries import PotentialSpec
    from interfacial.campaign.spec import Campaign, Step
    from interfacial.flows.potential import LearnPotentialMaker
    from interfacial.settings import InterfacialSettings


class _Groups:
    """Steps joined by references (union-find over step positions)."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, i: int) -> int:
        self.parent.setdefault(i, i)
        while self.parent[i] != i:
            i = self.parent[i]
        return i

    def join(self, i: int, j: int) -> None:
        self.parent[self.find(j)] = self.find(i)


def chained_steps(
    campaign: Campaign, steps: list[Step], settings: InterfacialSettings | None
) -> list[Step]:
    """The submission's steps: ``steps`` (screen, surfaces, interfaces), potentials, transport.

    Steps that use another step's output are merged into one ``chain`` step whose ``parts``
    are the (stage, flow) pairs it joins.
    """
    from interfacial.campaign.spec import Step, interface_name
    from interfacial.conventions import system_name

    produced = campaign.produced_interfaces()
    interface_step = {
        name: next(n for n, s in enumerate(steps) if s.stage == "interfaces" and s.index == i)
        for name, i in produced.items()
    }
    pickers: dict[str, Job] = {}
    groups = _Groups()

    def model_of(name: str) -> Any:
        """The lowest relaxed model of a campaign interface (one picker per interface)."""
        if name not in pickers:
            from interfacial.jobs.interface import lowest_model_job

            step = steps[interface_step[name]]
            assert step.flow is not None
            picker = lowest_model_job(step.flow.output, name)
            pickers[name] = picker
            step.flow = Flow([step.flow, picker], output=step.flow.output, name=step.flow.name)
        return pickers[name].output

    learnt: dict[str, tuple[int, Flow]] = {}
    # System each potentials and transport step stores its results under: a part built on an
    # earlier part's output has no job that says it yet (status reads it from here).
    systems: dict[int, str] = {}
    for i, spec in enumerate(campaign.potentials):
        where = f"potentials[{i}] ({spec.structure})"
        name = interface_name(spec.structure)
        system = campaign.learnt_systems()[i]
        structure = model_of(name) if name in produced else None
        try:
            flow = potential_flow(spec, system, structure, settings)
        except InterfacialError as exc:
            hint = (
                "; name an interface of this campaign's interfaces stage or one in the database"
                if name and name not in produced
                else ""
            )
            raise InterfacialError(f"{where}: {exc}{hint}") from None
        steps.append(Step("potentials", system, flow, i))
        systems[len(steps) - 1] = system
        if name in produced:
            groups.join(interface_step[name], len(steps) - 1)
        learnt[system] = (len(steps) - 1, flow)

    for i, tspec in enumerate(campaign.transport):
        where = f"transport[{i}] ({tspec.structure})"
        name = interface_name(tspec.structure)
        store = tspec.potential.startswith("store:")
        learnt_by = learnt.get(tspec.potential.removeprefix("store:")) if store else None
        structure = model_of(name) if name in produced else None
        potential = None
        training = None
        if learnt_by is not None:
            potential = learnt_by[1].output["final_fit"]["potential"]
            # The set that final fit was made on (active learning's labels included).
            training = {
                "cfg": learnt_by[1].output["final_fit"]["training_cfg"],
                "source": f"training set of the potential learnt for {tspec.potential}",
            }
        try:
            transport = campaign.transport_flow(
                tspec,
                settings,
                local=False,
                structure=structure,
                potential=potential,
                training_of_potential=training,
            )
        except InterfacialError as exc:
            raise InterfacialError(
                f"{where}: {exc}; a transport entry runs on an interface and a potential in "
                "the database or produced by this campaign's interfaces and potentials stages"
            ) from None
        assert transport is not None
        steps.append(Step("transport", tspec.structure, transport, i))
        # As the transport maker names it: the label, with the vacancy suffix.
        vacancies = tspec.maker_options([])["vacancy_element"]
        label = system_name(tspec.label or name or tspec.structure, vacancies)
        systems[len(steps) - 1] = _flow_system(transport, label)
        if name in produced:
            groups.join(interface_step[name], len(steps) - 1)
        if learnt_by is not None:
            groups.join(learnt_by[0], len(steps) - 1)
    return _merge(steps, groups, systems)


def potential_maker(
    spec: PotentialSpec, settings: InterfacialSettings | None
) -> LearnPotentialMaker:
    """The LearnPotentialMaker of one entry (checked now: bad options fail before any job)."""
    from interfacial import engines
    from interfacial.settings import get_settings

    settings = settings or get_settings()
    options = spec.learn_options()
    calculator = options.pop("calculator", None) or settings.calculator
    reference = options.pop("reference", {})
    fit = options.pop("fit", {})
    return engines.calculator(calculator).learn_potential_maker(
        settings, reference=reference, fit=fit, **options
    )


def potential_flow(
    spec: PotentialSpec, system: str, structure: Any, settings: InterfacialSettings | None
) -> Flow:
    """The learn-potential flow of one entry.

    On ``structure`` (an earlier job's output) or, when None, on the entry's structure read
    now (built-in, file or stored interface). Vacancies of an interface structure go to its
    interface region (:meth:`~interfacial.campaign.entries.PotentialSpec.learn_options`).
    """
    import warnings

    from interfacial.api import load_md_structure

    maker = potential_maker(spec, settings)
    if structure is None:
        structure, _ = load_md_structure(spec.structure, settings)
    with warnings.catch_warnings():
        # Cells with charge-compensated vacancies carry a charge on purpose.
        warnings.filterwarnings("ignore", message="Structure charge .* is set to be not equal")
        return maker.make(structure, system)


def _flow_system(flow: Flow | Job, default: str) -> str:
    """The ``system`` a built flow's jobs are tagged with (``default`` if none is)."""
    from interfacial.campaign.status import stage_results

    return str(stage_results("transport", flow).get("system") or default)


def _merge(steps: list[Step], groups: _Groups, systems: dict[int, str]) -> list[Step]:
    """Steps joined by references as one ``chain`` step each, in the order of their first.

    The chain flow's ``metadata[PARTS_KEY]`` lists its parts (stage, entry, system) for
    ``interfacial status`` (:func:`interfacial.campaign.status.workflow_metadata`).
    """
    from interfacial.campaign.spec import Step
    from interfacial.campaign.status import PARTS_KEY, stage_results

    members: dict[int, list[int]] = {}
    for n in range(len(steps)):
        members.setdefault(groups.find(n), []).append(n)
    merged: list[Step] = []
    for n, step in enumerate(steps):
        group = members[groups.find(n)]
        if len(group) == 1:
            merged.append(step)
        elif n == group[0]:
            parts = [(steps[m].stage, steps[m].flow) for m in group]
            flows: list[Flow | Job] = [flow for _, flow in parts if flow is not None]
            names = " -> ".join(f"{steps[m].stage} {steps[m].name}" for m in group)
            chain = Flow(flows, output=flows[-1].output, name=f"chain: {names}")
            chain.metadata[PARTS_KEY] = [
                {
                    "stage": steps[m].stage,
                    "entry": steps[m].name,
                    "results": stage_results(steps[m].stage, steps[m].flow)
                    | ({"system": systems[m]} if m in systems else {}),
                }
                for m in group
                if steps[m].flow is not None
            ]
            merged.append(Step("chain", names, chain, n, parts=parts))
    return merged
