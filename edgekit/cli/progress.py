"""Rich progress displays for the long steps: decoding, hashing, training epochs, exports."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

_STEP_LABELS = {"check": "Checking images", "decode": "Decoding images", "hash": "Hashing files"}


def _progress(console: Console, *extra) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        *extra,
        console=console,
    )


@contextmanager
def step_progress(
    console: Console,
) -> Iterator[Callable[[str, int | None], Callable[[int], None]]]:
    """A factory of bars: `progress(name, total)` returns `advance(n)` for one step."""
    with _progress(console) as progress:

        def start(name: str, total: int | None) -> Callable[[int], None]:
            task = progress.add_task(_STEP_LABELS.get(name, name), total=total)
            if total is None:  # a step of unknown length (a conversion): pulses until done
                return lambda n: progress.update(task, total=1, completed=1)
            return lambda n: progress.advance(task, n)

        yield start


class TrainingProgress:
    """A TrainingObserver drawing an epoch bar and a batch bar with the running metrics."""

    def __init__(self, console: Console):
        self.progress = _progress(console, TextColumn("{task.fields[metrics]}"))
        self.epoch_task = None
        self.batch_task = None

    def __enter__(self) -> TrainingProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.stop()

    def on_train_begin(self, num_epochs: int, steps_per_epoch: int) -> None:
        self.epoch_task = self.progress.add_task("Epochs", total=num_epochs, metrics="")
        self.batch_task = self.progress.add_task("Epoch 1", total=steps_per_epoch, metrics="")

    def on_batch_end(self, step: int, logs: dict[str, float]) -> None:
        shown = "  ".join(f"{k} {v:.4f}" for k, v in logs.items() if k in ("loss", "accuracy"))
        self.progress.update(self.batch_task, completed=step, metrics=shown)

    def on_epoch_end(self, epoch: int, metrics: dict[str, float]) -> None:
        shown = "  ".join(f"{k} {v:.4f}" for k, v in metrics.items() if k.startswith("val_"))
        self.progress.update(self.epoch_task, completed=epoch, metrics=shown)
        if epoch < self.progress.tasks[self.epoch_task].total:
            self.progress.reset(self.batch_task, description=f"Epoch {epoch + 1}", metrics="")


class ObserverGroup:
    """Forwards every TrainingObserver call to several observers in turn."""

    def __init__(self, *observers):
        self.observers = observers

    def on_train_begin(self, num_epochs: int, steps_per_epoch: int) -> None:
        for observer in self.observers:
            observer.on_train_begin(num_epochs, steps_per_epoch)

    def on_batch_end(self, step: int, logs: dict[str, float]) -> None:
        for observer in self.observers:
            observer.on_batch_end(step, logs)

    def on_epoch_end(self, epoch: int, metrics: dict[str, float]) -> None:
        for observer in self.observers:
            observer.on_epoch_end(epoch, metrics)
