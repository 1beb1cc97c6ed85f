"""The one shape every batch stage runs in: ask the case what is missing, compute it, write it back.

A stage supplies a pure `compute(path) -> result` (a top-level function, so it can be sent to another
process or machine). `run_stage` asks the case for items lacking a result for (stage, version), computes
them through an executor (in this process or a local process pool), and writes results back in chunks,
each chunk one transaction with one custody entry. Kill it at any point and run it again: finished chunks
are cached, the rest is computed, nothing is duplicated. Only this coordinating process writes the case.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from osint.case import Case, Item
from osint.errors import OsintError

Compute = Callable[[Path], Any]


class Executor(Protocol):
    """Runs `fn(arg)` for each arg and yields (arg, result, error) as they finish, in any order.

    One that reads originals on other machines says where in a `where` attribute (plain data), which
    `run_stage` records in each custody entry it writes."""

    def run(self, fn: Callable[[Any], Any], args: Sequence[Any]) -> Iterator[tuple[Any, Any, str | None]]: ...


TRANSIENT = "not stored, retried on the next run: "


def transient_error(exc: OSError) -> str:
    """The error text for a failure of the machine, not of the input (an original on a share that went away):
    reported, but never stored as the item's result, so the next run tries again."""
    return f"{TRANSIENT}{type(exc).__name__}: {exc}"


def toolkit_error(exc: Exception) -> str:
    """The error text for an exception that is not a verdict on the input (a bug in this toolkit or a
    library it calls): reported, never stored, so a fixed toolkit analyses the item on the next run."""
    return f"{TRANSIENT}{type(exc).__name__}: {exc}"


def _call(fn: Callable[[Any], Any], arg: Any) -> tuple[Any, str | None]:
    """Run one computation with its decoders' complaints kept as data (see `with_decoder_notes`), never printed:
    fd 2 is redirected in the process that computes (each pool or cluster worker its own) and restored after."""
    from osint.media import quiet_decoding

    with quiet_decoding() as notes:
        result, error = _call_loud(fn, arg)
    if notes and error:
        error = f"{error} [{len(notes)} decoder note(s): {'; '.join(notes)[:300]}]"
    elif notes:
        result = with_decoder_notes(result, notes)
    return result, error


def with_decoder_notes(result: Any, notes: list[str]) -> Any:
    """`result` with what the decoders complained about while it was computed: in its `decoder_notes` field
    (a dataclass that has one) or key (a dict); other results are returned as they are."""
    if dataclasses.is_dataclass(result) and not isinstance(result, type) and \
            any(f.name == "decoder_notes" for f in dataclasses.fields(result)):
        return dataclasses.replace(result, decoder_notes=tuple(notes))
    if isinstance(result, dict):
        return {**result, "decoder_notes": list(notes)}
    return result


def _call_loud(fn: Callable[[Any], Any], arg: Any) -> tuple[Any, str | None]:
    """Run one computation, turning any failure into an error text (a damaged input is data, not a crash)."""
    try:
        return fn(arg), None
    except OsintError as exc:
        return None, str(exc)
    except OSError as exc:  # stored originals were proven readable at ingest: this is the machine's problem
        return None, transient_error(exc)
    except MemoryError:
        return None, "ran out of memory on this input"
    except Exception as exc:  # noqa: BLE001 - one bad input must not stop a batch of thousands
        return None, toolkit_error(exc)


class InlineExecutor:
    """Computes in this process, one item at a time: simplest to debug, no start-up cost."""

    def run(self, fn: Callable[[Any], Any], args: Sequence[Any]) -> Iterator[tuple[Any, Any, str | None]]:
        for arg in args:
            yield (arg, *_call(fn, arg))


class PoolExecutor:
    """A local process pool with `workers` processes and a bounded number of tasks in flight.

    A hostile input can kill its worker process (a crash inside a decoder, the kernel's OOM killer), which
    breaks the whole pool. Then a new pool takes over the rest, and the inputs that were in flight are retried
    one at a time at the end: only an input that kills a worker on its own is reported as its error.
    """

    CRASHED = "the worker process died computing this input (a crash in a decoder or model, or out of memory)"

    def __init__(self, workers: int | None = None):
        self.workers = workers or os.cpu_count() or 1

    def run(self, fn: Callable[[Any], Any], args: Sequence[Any]) -> Iterator[tuple[Any, Any, str | None]]:
        suspects: list[Any] = []
        todo = list(args)
        while todo:
            crashed, todo = yield from self._pass(fn, todo, self.workers)
            suspects += crashed
        for arg in suspects:
            crashed, _ = yield from self._pass(fn, [arg], 1)
            if crashed:
                yield arg, None, self.CRASHED

    @staticmethod
    def _pass(fn: Callable[[Any], Any], args: list[Any],
              workers: int) -> Generator[tuple[Any, Any, str | None], None, tuple[list[Any], list[Any]]]:
        """Run `args` on one pool until done or broken; return (in flight when it broke, never submitted)."""
        pool = ProcessPoolExecutor(workers)
        todo = args[::-1]
        running: dict[Future[tuple[Any, str | None]], Any] = {}
        try:
            while todo or running:
                while todo and len(running) < workers * 4:
                    arg = todo.pop()
                    try:
                        running[pool.submit(_call, fn, arg)] = arg
                    except BrokenProcessPool:
                        return [arg, *running.values()], todo[::-1]
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in done:
                    arg = running.pop(fut)
                    try:
                        result, error = fut.result()
                    except BrokenProcessPool:
                        return [arg, *running.values()], todo[::-1]
                    except Exception as exc:  # noqa: BLE001 - e.g. a result that cannot be sent back
                        result, error = None, toolkit_error(exc)
                    yield arg, result, error
            return [], []
        finally:
            pool.shutdown(wait=False, cancel_futures=True)


def executor_for(workers: int | None) -> Executor:
    """In-process for one worker, a local process pool for more (None: all cores)."""
    if workers is not None and workers <= 1:
        return InlineExecutor()
    return PoolExecutor(workers)


def to_plain(value: Any) -> Any:
    """Dataclasses (and lists/tuples/dicts of them) as JSON-ready plain data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    return value


@dataclass
class StageRun:
    """What one `run_stage` call did: computed now, taken from the cache, failed (sha256 -> error)."""

    stage: str
    version: str
    computed: int = 0
    cached: int = 0
    errors: dict[str, str] = field(default_factory=dict)


def run_stage(case: Case, stage: str, version: str, compute: Compute, items: Iterable[Item], *,
              executor: Executor | None = None, chunk: int = 32, actor: str | None = None,
              details: dict[str, Any] | None = None,
              on_item: Callable[[Item, Any, str | None], None] | None = None,
              keep: Callable[[Item, Any], Any] | None = None) -> StageRun:
    """Compute `compute(original path)` for every item lacking a (stage, version) result and store it.

    `keep(item, data)`, run here in the coordinating process, turns a computed result into what is stored
    (e.g. moves image bytes into the case's derived files and keeps their hashes)."""
    with case.stage_lock(stage, version):  # a concurrent run of this stage waits, then finds it done
        return _run_stage(case, stage, version, compute, list(items), executor, chunk, actor, details, on_item,
                          keep)


def _run_stage(case: Case, stage: str, version: str, compute: Compute, items: list[Item], executor: Executor | None,
               chunk: int, actor: str | None, details: dict[str, Any] | None,
               on_item: Callable[[Item, Any, str | None], None] | None,
               keep: Callable[[Item, Any], Any] | None) -> StageRun:
    todo = case.pending(stage, version, items)
    run = StageRun(stage, version, cached=len(items) - len(todo))
    by_path = {case.object_path(it.sha256): it for it in todo}
    batch: list[tuple[str, Any, str | None]] = []
    executor = executor or InlineExecutor()

    def logged() -> dict[str, Any] | None:
        """The caller's details, plus where the originals were read when that was off this machine."""
        where = getattr(executor, "where", None)
        return {**(details or {}), "computed_on": where} if where else details

    try:
        for path, result, error in executor.run(compute, list(by_path)):
            item = by_path[path]
            data = to_plain(result)
            if keep is not None and error is None:
                data = keep(item, data)
            if error:
                run.errors[item.sha256] = error
            else:
                run.computed += 1
            if not (error and error.startswith(TRANSIENT)):
                batch.append((item.sha256, data, error))
            if on_item:
                on_item(item, data, error)
            if len(batch) >= chunk:
                case.put_results(stage, version, batch, actor=actor, details=logged())
                batch = []
    finally:  # interrupted or not, what was computed is kept
        case.put_results(stage, version, batch, actor=actor, details=logged())
    return run
