"""Realistic training runs for report tests: the keys edgekit train, export and bench log.

The values follow the shapes of the real corn runs (sizes of the zoo's backbones, accuracies
in the 80-97 % range, epoch curves that climb); bench and export keys follow the prefixes
`bench.<device>.<precision>_<format>.<measure>` and `export.<precision>_<format>.<measure>`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from edgekit.tracking.runs import RunRecord

CLASSES = ("Blight", "Common_Rust", "Gray_Leaf_Spot", "Healthy")


@dataclass(frozen=True)
class SyntheticRun:
    model: str
    size_mb: float
    accuracy: float
    min_recall: float
    learning_rate: float
    dropout: float
    bench: dict[str, float] = field(default_factory=dict)
    epochs: int = 3

    @property
    def meets(self) -> bool:
        return self.accuracy >= 0.85 and self.min_recall >= 0.80

    def params(self) -> dict[str, str]:
        return {
            "model_name": self.model,
            "learning_rate": str(self.learning_rate),
            "dropout_rate": str(self.dropout),
            "epochs": str(self.epochs),
            "batch_size": "32",
            "image_size": "224x224",
            "weights": "imagenet",
            "backbone_size_mb": str(round(self.size_mb, 4)),
            "requirement_min_accuracy": "0.85",
            "requirement_min_recall": "0.8",
            "requirement_max_size_mb": "None",
        }

    def metrics(self) -> dict[str, float]:
        recalls = {
            f"recall_{c}": min(1.0, self.min_recall + 0.04 * i) for i, c in enumerate(CLASSES)
        }
        return {
            "test_accuracy": self.accuracy,
            "min_recall": self.min_recall,
            "backbone_size_mb": self.size_mb,
            "meets_requirements": 1.0 if self.meets else 0.0,
            "test_loss": 1.0 - self.accuracy,
            "best_epoch": float(self.epochs),
            **recalls,
            **self.bench,
        }

    def history(self) -> dict[str, tuple[tuple[int, float], ...]]:
        """Curves that climb towards the final accuracy, one point per epoch from 1."""
        shares = {e: e / self.epochs for e in range(1, self.epochs + 1)}
        final_loss = 1.0 - self.accuracy
        return {
            "train_accuracy": tuple(
                (e, 0.5 + (self.accuracy - 0.45) * s) for e, s in shares.items()
            ),
            "val_accuracy": tuple(
                (e, 0.45 + (self.accuracy - 0.47) * s) for e, s in shares.items()
            ),
            "train_loss": tuple((e, 1.2 - (1.2 - final_loss) * s) for e, s in shares.items()),
            "val_loss": tuple((e, 1.3 - (1.3 - final_loss - 0.1) * s) for e, s in shares.items()),
        }

    def record(self, run_id: str) -> RunRecord:
        return RunRecord(
            run_id=run_id,
            run_name=f"{self.model}-run",
            status="FINISHED",
            start_time_ms=0,
            params=self.params(),
            metrics=self.metrics(),
            tags={"edgekit.stage": "train"},
        )


def _bench(device: str, artifact: str, p50: float, accuracy: float, recall: float) -> dict:
    prefix = f"bench.{device}.{artifact}."
    return {
        prefix + "p50_ms": p50,
        prefix + "p90_ms": p50 * 1.12,
        prefix + "peak_mb": 40.0 + p50 / 3,
        prefix + "accuracy": accuracy,
        prefix + "min_recall": recall,
    }


def _export(artifact: str, accuracy: float, recall: float) -> dict:
    prefix = f"export.{artifact}."
    return {
        prefix + "accuracy": accuracy,
        prefix + "min_recall": recall,
        prefix + "top1_agreement": 0.99,
        prefix + "size_mb": 4.2,
        prefix + "meets_requirements": 1.0,
        prefix + "conversion_time_s": 31.0,
        prefix + "recall_Blight": recall + 0.02,
    }


def seed_runs(with_bench: bool = True) -> list[SyntheticRun]:
    """The seed's four models; MobileNetV3 and EfficientNet-Lite also exported and benched."""

    def extra(*parts: dict) -> dict:
        merged: dict[str, float] = {}
        for part in parts:
            merged |= part
        return merged if with_bench else {}

    return [
        SyntheticRun(
            "mobilenetv3large", 11.4, 0.93, 0.86, 1e-3, 0.2,
            extra(
                _export("int8_tflite", 0.925, 0.85),
                _bench("rpi4", "int8_tflite", 38.0, 0.925, 0.85),
                _bench("rpi4", "fp32_tflite", 95.0, 0.93, 0.86),
                _bench("jetson-orin-nano", "fp16_onnx", 6.5, 0.93, 0.86),
            ),
        ),
        SyntheticRun(
            "efficientnet-lite2", 18.5, 0.95, 0.90, 5e-4, 0.3,
            extra(
                _export("int8_tflite", 0.94, 0.88),
                _bench("rpi4", "int8_tflite", 71.0, 0.94, 0.88),
            ),
        ),
        SyntheticRun("mobilevit-xs", 8.9, 0.88, 0.74, 2e-3, 0.1),
        SyntheticRun("pmvt", 21.0, 0.91, 0.83, 1e-3, 0.25),
    ]  # fmt: skip
