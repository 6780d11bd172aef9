"""The trade-off scatter: labels of points that nearly coincide stay readable."""

from __future__ import annotations

import itertools

from edgekit.report.figures import TradeOff, TradeOffPoint
from edgekit.report.plots import trade_off_figure


def _close_exports() -> TradeOff:
    """One model's five exports, as a local bench places them: within ms and a percent."""
    places = {
        "int8_tflite": (2.06, 0.9411),
        "fp16_tflite": (3.18, 0.9379),
        "fp32_tflite": (3.29, 0.9379),
        "fp32_onnx": (4.58, 0.9379),
        "int8_onnx": (8.97, 0.9379),
    }
    points = tuple(
        TradeOffPoint(f"mobilenetv3large {name}", x, y, 0.84, True, name == "int8_tflite", name)
        for name, (x, y) in places.items()
    )
    return TradeOff("local", "p50 ms", "accuracy", points, 0.85, None)


def test_labels_of_nearby_points_do_not_overlap() -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    figure = trade_off_figure(_close_exports())
    renderer = FigureCanvasAgg(figure).get_renderer()
    figure.draw(renderer)

    boxes = [
        t.get_window_extent(renderer) for t in figure.axes[0].texts if "mobilenet" in t.get_text()
    ]

    assert len(boxes) == 5
    assert not [(a, b) for a, b in itertools.combinations(boxes, 2) if a.overlaps(b)]
