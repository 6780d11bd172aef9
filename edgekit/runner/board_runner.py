"""edgekit's board runner: times, sizes up and scores one exported model on the board it runs on.

This one file is copied to a board and run there, so it needs only the standard library,
numpy and one runtime (ai_edge_litert, tflite_runtime or onnxruntime). It never imports
TensorFlow or edgekit. Each call does one pass, in a fresh process:

  probe     the board: OS, CPU, RAM, Python, importable runtimes, temperature, throttling
  thermal   temperature and throttling state only (cheap; taken before and after each model)
  timing    load/init time, first inference, warm-up, then timed runs kept raw
  memory    resident memory before load, after load and peak during inference
  accuracy  the test split (.npz: uint8 `pixels` N,H,W,3 and int `labels`), one image at a
            time, quantized with the model's own input parameters; the confusion matrix

It prints one JSON object (key `schema_version`) on stdout and diagnostics on stderr.

Exit codes:
  0  the pass ran; its result is on stdout
  2  bad arguments (argparse)
  3  a runtime or numpy is missing: stdout JSON `error.hint` says what to install
  4  the model file could not be loaded by the runtime
  5  inference failed
  6  the test arrays are missing, unreadable or do not fit the model
"""

from __future__ import annotations

import argparse
import glob
import importlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time

SCHEMA_VERSION = 1

EXIT_OK = 0
EXIT_RUNTIME_MISSING = 3
EXIT_LOAD_FAILED = 4
EXIT_INFERENCE_FAILED = 5
EXIT_BAD_DATA = 6

# What each runtime name means: the module to import and what to install when it is missing.
RUNTIMES = {
    "litert": ("ai_edge_litert.interpreter", "ai-edge-litert", "pip install ai-edge-litert"),
    "tflite-runtime": (
        "tflite_runtime.interpreter",
        "tflite-runtime",
        "pip install tflite-runtime",
    ),
    "onnxruntime": (
        "onnxruntime",
        "onnxruntime",
        "pip install onnxruntime (Jetson: the onnxruntime-gpu wheel for your JetPack)",
    ),
}
FORMAT_RUNTIMES = {"tflite": ("litert", "tflite-runtime"), "onnx": ("onnxruntime",)}


class RunnerError(Exception):
    """A failure with its exit code and, when the user can fix it, what to do."""

    def __init__(self, code: int, kind: str, message: str, hint: str = ""):
        super().__init__(message)
        self.code, self.kind, self.hint = code, kind, hint


def log(message: str) -> None:
    print(f"[runner] {message}", file=sys.stderr, flush=True)


# --- board facts ---------------------------------------------------------------------------


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as stream:
            return stream.read().strip().strip("\x00")
    except OSError:
        return None


def _os_name() -> str:
    for line in (_read("/etc/os-release") or "").splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip('"')
    return f"{platform.system()} {platform.release()}"


def _cpu_name() -> str:
    model = _read("/proc/device-tree/model")  # Raspberry Pi and Jetson name the board here
    if model:
        return model
    for line in (_read("/proc/cpuinfo") or "").splitlines():
        if line.lower().startswith(("model name", "hardware")):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _ram_mb() -> dict:
    facts = {}
    for line in (_read("/proc/meminfo") or "").splitlines():
        key, _, rest = line.partition(":")
        if key in ("MemTotal", "MemAvailable"):
            facts[key] = round(int(rest.split()[0]) / 1024, 1)
    return {"total_mb": facts.get("MemTotal"), "available_mb": facts.get("MemAvailable")}


def temperatures_c() -> dict:
    """Every thermal zone the kernel exposes (Pi: cpu-thermal; Jetson: cpu, gpu, soc ...)."""
    zones = {}
    for folder in sorted(glob.glob("/sys/class/thermal/thermal_zone*")):
        raw = _read(os.path.join(folder, "temp"))
        name = _read(os.path.join(folder, "type")) or os.path.basename(folder)
        if raw and raw.lstrip("-").isdigit():
            zones[name] = int(raw) / 1000.0
    return zones


def throttling() -> dict | None:
    """Raspberry Pi firmware's throttled bits (under-voltage, capped, throttled), if exposed."""
    vcgencmd = shutil.which("vcgencmd")
    if vcgencmd is None:
        return None
    try:
        out = subprocess.run(
            [vcgencmd, "get_throttled"], capture_output=True, text=True, timeout=5
        ).stdout
        bits = int(out.strip().split("=", 1)[1], 16)
    except (OSError, ValueError, IndexError, subprocess.SubprocessError):
        return None
    return {
        "raw": hex(bits),
        "under_voltage": bool(bits & 0x1),
        "freq_capped": bool(bits & 0x2),
        "throttled": bool(bits & 0x4),
        "soft_temp_limit": bool(bits & 0x8),
        "throttled_since_boot": bool(bits & 0x40000),
    }


def _package_version(distribution: str, module) -> str:
    try:
        from importlib.metadata import version

        return version(distribution)
    except Exception:
        return str(getattr(module, "__version__", "unknown"))


def runtime_status(name: str) -> dict:
    module_name, distribution, hint = RUNTIMES[name]
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # ImportError, or a broken native library
        return {"importable": False, "error": f"{type(exc).__name__}: {exc}", "install": hint}
    status = {"importable": True, "version": _package_version(distribution, module)}
    if name == "onnxruntime":
        status["providers"] = list(module.get_available_providers())
    return status


def probe() -> dict:
    numpy_status = {"importable": False, "install": "pip install numpy"}
    try:
        import numpy

        numpy_status = {"importable": True, "version": numpy.__version__}
    except ImportError:
        pass
    return {
        "os": _os_name(),
        "kernel": platform.release(),
        "machine": platform.machine(),
        "cpu": _cpu_name(),
        "num_cpus": os.cpu_count(),
        "ram": _ram_mb(),
        "python": platform.python_version(),
        "python_executable": sys.executable,
        "numpy": numpy_status,
        "runtimes": {name: runtime_status(name) for name in RUNTIMES},
        "temperature_c": temperatures_c(),
        "throttling": throttling(),
    }


# --- loading a model -----------------------------------------------------------------------


def import_numpy():
    try:
        import numpy

        return numpy
    except ImportError as exc:
        raise RunnerError(
            EXIT_RUNTIME_MISSING,
            "numpy_missing",
            f"numpy is not importable: {exc}",
            "pip install numpy",
        ) from exc


def pick_runtime(fmt: str, wanted: list[str]):
    """The first of `wanted` (in order) that runs `fmt` and imports; else the install hint."""
    candidates = [name for name in wanted if name in FORMAT_RUNTIMES[fmt]]
    if "litert" in candidates and "tflite-runtime" not in candidates:
        # The same interpreter API: a board with only the older wheel still runs litert files.
        candidates.append("tflite-runtime")
    if not candidates:
        raise RunnerError(
            EXIT_RUNTIME_MISSING,
            "runtime_missing",
            f"none of the runtimes {wanted} runs {fmt} files; "
            f"expected one of {', '.join(FORMAT_RUNTIMES[fmt])}",
            f"add {FORMAT_RUNTIMES[fmt][0]} to the device's runtimes in devices.yaml",
        )
    errors = []
    for name in candidates:
        module_name, distribution, _ = RUNTIMES[name]
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:
            errors.append(f"{module_name}: {type(exc).__name__}: {exc}")
            continue
        return name, module, _package_version(distribution, module)
    hint = " or ".join(RUNTIMES[name][2] for name in candidates)
    raise RunnerError(
        EXIT_RUNTIME_MISSING,
        "runtime_missing",
        f"no runtime for {fmt} is importable with {sys.executable} ({'; '.join(errors)})",
        hint,
    )


class Model:
    """One loaded model behind a two-call interface: `set_input(x)` then `invoke()`."""

    def __init__(self, args, np):
        self.np = np
        self.format = args.format
        self.runtime, module, self.runtime_version = pick_runtime(args.format, args.runtime)
        self.providers: list[str] = []
        try:
            if args.format == "tflite":
                self._load_tflite(module, args.model, args.threads)
            else:
                self._load_onnx(module, args.model, args.threads, args.providers)
        except RunnerError:
            raise
        except Exception as exc:
            raise RunnerError(
                EXIT_LOAD_FAILED,
                "load_failed",
                f"{self.runtime} cannot load '{args.model}': {type(exc).__name__}: {exc}",
            ) from exc

    def _load_tflite(self, module, path: str, threads: int) -> None:
        interpreter = module.Interpreter(model_path=path, num_threads=threads)
        detail = interpreter.get_input_details()[0]
        shape = list(detail["shape_signature"]) if "shape_signature" in detail else []
        if shape and shape[0] == -1:
            interpreter.resize_tensor_input(detail["index"], [1, *shape[1:]])
        interpreter.allocate_tensors()
        detail = interpreter.get_input_details()[0]
        out = interpreter.get_output_details()[0]
        self.input_shape = [int(d) for d in detail["shape"]]
        self.input_dtype = self.np.dtype(detail["dtype"])
        self.input_quant = tuple(detail.get("quantization", (0.0, 0)))
        self.output_quant = tuple(out.get("quantization", (0.0, 0)))
        self._interpreter, self._in, self._out = interpreter, detail["index"], out["index"]
        self.set_input = lambda x: interpreter.set_tensor(self._in, x)
        self.invoke = interpreter.invoke

    def _load_onnx(self, ort, path: str, threads: int, wanted: list[str]) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        available = ort.get_available_providers()
        providers = [p for p in wanted if p in available] or ["CPUExecutionProvider"]
        skipped = [p for p in wanted if p not in available]
        if skipped:
            log(f"execution providers not available here, skipped: {skipped}")
        session = ort.InferenceSession(path, sess_options=options, providers=providers)
        self.providers = session.get_providers()
        inp, out = session.get_inputs()[0], session.get_outputs()[0]
        self.input_shape = [d if isinstance(d, int) else 1 for d in inp.shape]
        types = {"tensor(float)": "float32", "tensor(uint8)": "uint8", "tensor(int8)": "int8"}
        self.input_dtype = self.np.dtype(types.get(inp.type, "float32"))
        self.input_quant, self.output_quant = (0.0, 0), (0.0, 0)
        feed = {}
        self.set_input = lambda x: feed.__setitem__(inp.name, x)
        self.invoke = lambda: session.run([out.name], feed)
        self._session, self._feed, self._out_name = session, feed, out.name

    def output(self):
        if self.format == "tflite":
            return self._interpreter.get_tensor(self._out)
        return self._session.run([self._out_name], self._feed)[0]

    @property
    def channels_first(self) -> bool:
        return len(self.input_shape) == 4 and self.input_shape[1] == 3 and self.input_shape[3] != 3

    def prepare(self, pixels_hwc):
        """uint8 RGB (H, W, 3) -> the model's input: layout, dtype and its own quantization."""
        np = self.np
        x = pixels_hwc.astype(np.float32)[None]
        if self.channels_first:
            x = x.transpose(0, 3, 1, 2)
        scale, zero_point = self.input_quant[0], self.input_quant[1]
        if self.input_dtype.kind in "iu":
            info = np.iinfo(self.input_dtype)
            if scale:
                x = np.round(x / scale + zero_point)
            x = np.clip(x, info.min, info.max)
        return np.ascontiguousarray(x.astype(self.input_dtype))

    def scores(self):
        """The output as float probabilities (dequantized when the output is integer)."""
        np = self.np
        y = np.asarray(self.output())
        scale, zero_point = self.output_quant[0], self.output_quant[1]
        if y.dtype.kind in "iu" and scale:
            return scale * (y.astype(np.float32) - zero_point)
        return y.astype(np.float32)

    def describe(self) -> dict:
        return {
            "name": self.runtime,
            "version": self.runtime_version,
            "providers": self.providers,
            "input_shape": self.input_shape,
            "input_dtype": self.input_dtype.name,
            "input_quantization": [float(self.input_quant[0]), int(self.input_quant[1])],
        }


def random_input(model: Model):
    """A fixed random image (seeded) so every run of every pass feeds the same bytes."""
    np = model.np
    height, width = model.input_shape[2:4] if model.channels_first else model.input_shape[1:3]
    pixels = np.random.default_rng(0).integers(0, 256, size=(height, width, 3), dtype=np.uint8)
    return model.prepare(pixels)


def _invoke(model: Model) -> None:
    try:
        model.invoke()
    except Exception as exc:
        raise RunnerError(
            EXIT_INFERENCE_FAILED, "inference_failed", f"{type(exc).__name__}: {exc}"
        ) from exc


# --- passes --------------------------------------------------------------------------------


def _stats(np, latencies_ms: list[float]) -> dict:
    values = np.asarray(latencies_ms, dtype=np.float64)
    mean = float(values.mean())
    std = float(values.std(ddof=1)) if len(values) > 1 else 0.0
    return {
        "num_runs": len(values),
        "min_ms": float(values.min()),
        "mean_ms": mean,
        "p50_ms": float(np.percentile(values, 50)),
        "p90_ms": float(np.percentile(values, 90)),
        "p99_ms": float(np.percentile(values, 99)),
        "max_ms": float(values.max()),
        "std_ms": std,
        "cv": std / mean if mean else 0.0,
        "throughput_ips": 1000.0 / mean if mean else 0.0,
    }


def _run_for(model: Model, min_runs: int, min_seconds: float) -> tuple[list[float], float]:
    """Invoke until both at least `min_runs` runs and `min_seconds` have passed; raw ms."""
    latencies = []
    clock = time.perf_counter_ns
    start = clock()
    deadline = start + int(min_seconds * 1e9)
    invoke = model.invoke
    try:
        while len(latencies) < min_runs or clock() < deadline:
            t0 = clock()
            invoke()
            latencies.append((clock() - t0) / 1e6)
    except Exception as exc:
        raise RunnerError(
            EXIT_INFERENCE_FAILED, "inference_failed", f"{type(exc).__name__}: {exc}"
        ) from exc
    return latencies, (clock() - start) / 1e6


def timing_pass(args, np) -> dict:
    t0 = time.perf_counter()
    model = Model(args, np)
    model.set_input(random_input(model))
    load_ms = (time.perf_counter() - t0) * 1000

    t0 = time.perf_counter()
    _invoke(model)
    first_ms = (time.perf_counter() - t0) * 1000
    warmup, _ = _run_for(model, args.warmup, args.warmup_seconds)
    latencies, wall_ms = _run_for(model, args.runs, args.min_seconds)

    # The loop's own cost: wall time not spent inside invoke(), per run.
    overhead_ms = max(wall_ms - sum(latencies), 0.0) / len(latencies)
    return {
        "runtime": model.describe(),
        "load_ms": load_ms,
        "first_inference_ms": first_ms,
        "num_warmup_runs": len(warmup),
        "latency": _stats(np, latencies),
        "latencies_ms": latencies,
        "overhead_per_run_ms": overhead_ms,
    }


def rss_mb() -> dict:
    """Current and peak resident memory of this process, from /proc (else getrusage)."""
    status = _read("/proc/self/status")
    if status:
        values = {}
        for line in status.splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) / 1024
        if values:
            return {"rss_mb": values.get("VmRSS"), "peak_mb": values.get("VmHWM")}
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_mb = peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024
    return {"rss_mb": None, "peak_mb": peak_mb}


def _reset_peak() -> bool:
    """Linux >= 4.0: writing 5 to clear_refs resets VmHWM, so the peak covers inference only."""
    try:
        with open("/proc/self/clear_refs", "w") as stream:
            stream.write("5")
        return True
    except OSError:
        return False


def memory_pass(args, np) -> dict:
    before = rss_mb()
    model = Model(args, np)
    model.set_input(random_input(model))
    after = rss_mb()

    reset = _reset_peak()
    _run_for(model, max(args.warmup, 1), 0.0)
    during = rss_mb()
    return {
        "runtime": model.describe(),
        "rss_before_load_mb": before["rss_mb"],
        "rss_after_load_mb": after["rss_mb"],
        "peak_inference_mb": during["peak_mb"],
        # Without the reset the peak also covers loading (macOS, old kernels).
        "peak_covers_inference_only": reset,
    }


def _load_arrays(np, path: str):
    try:
        with np.load(path) as data:
            pixels, labels = data["pixels"], data["labels"].astype(np.int64)
    except (OSError, KeyError, ValueError) as exc:
        raise RunnerError(
            EXIT_BAD_DATA, "bad_test_arrays", f"cannot read test arrays '{path}': {exc}"
        ) from exc
    if pixels.ndim != 4 or pixels.dtype != np.uint8 or len(pixels) != len(labels):
        raise RunnerError(
            EXIT_BAD_DATA,
            "bad_test_arrays",
            f"'{path}' must hold uint8 pixels (N, H, W, 3) and N labels; got {pixels.shape} "
            f"{pixels.dtype} and {labels.shape}",
        )
    return pixels, labels


def accuracy_pass(args, np) -> dict:
    if not args.test_arrays:
        raise RunnerError(EXIT_BAD_DATA, "bad_test_arrays", "--test-arrays is required")
    pixels, labels = _load_arrays(np, args.test_arrays)
    model = Model(args, np)
    expected = model.input_shape[2:4] if model.channels_first else model.input_shape[1:3]
    if list(pixels.shape[1:3]) != list(expected):
        raise RunnerError(
            EXIT_BAD_DATA,
            "bad_test_arrays",
            f"test arrays are {pixels.shape[1]}x{pixels.shape[2]} but the model takes "
            f"{expected[0]}x{expected[1]}; rebuild them at the model's input size",
        )

    num_classes = args.num_classes
    confusion = np.zeros((num_classes, num_classes), dtype=np.int64)
    for index in range(len(labels)):  # not zip(strict=): boards may run Python < 3.10
        image, label = pixels[index], labels[index]
        model.set_input(model.prepare(image))
        _invoke(model)
        predicted = int(np.argmax(model.scores().reshape(-1)[:num_classes]))
        confusion[int(label), predicted] += 1
    return {
        "runtime": model.describe(),
        "num_images": len(labels),
        "confusion": confusion.tolist(),
    }


PASSES = {"timing": timing_pass, "memory": memory_pass, "accuracy": accuracy_pass}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("pass_name", choices=["probe", "thermal", *PASSES], help="what to measure")
    parser.add_argument("--model", help="the exported file")
    parser.add_argument("--format", choices=sorted(FORMAT_RUNTIMES), default="tflite")
    parser.add_argument(
        "--runtime",
        default="litert,tflite-runtime,onnxruntime",
        type=lambda s: [r for r in s.split(",") if r],
        help="runtimes to try, in order, comma separated",
    )
    parser.add_argument(
        "--providers",
        default="CPUExecutionProvider",
        type=lambda s: [p for p in s.split(",") if p],
        help="onnxruntime execution providers, in order, comma separated",
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=100, help="timed runs, at least")
    parser.add_argument("--min-seconds", type=float, default=10.0, help="timed seconds, at least")
    parser.add_argument("--warmup", type=int, default=10, help="warm-up runs, at least")
    parser.add_argument("--warmup-seconds", type=float, default=2.0)
    parser.add_argument("--test-arrays", help=".npz with uint8 pixels and labels")
    parser.add_argument("--num-classes", type=int, default=0)
    args = parser.parse_args(argv)
    unknown = [r for r in args.runtime if r not in RUNTIMES]
    if unknown:
        parser.error(f"unknown runtime {unknown}; expected {', '.join(RUNTIMES)}")
    if args.pass_name not in ("probe", "thermal") and not args.model:
        parser.error("--model is required")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    result = {"schema_version": SCHEMA_VERSION, "pass": args.pass_name, "ok": True}
    code = EXIT_OK
    try:
        if args.pass_name == "probe":
            result["board"] = probe()
        elif args.pass_name == "thermal":
            result.update(temperature_c=temperatures_c(), throttling=throttling())
        else:
            np = import_numpy()
            result["temperature_c"] = temperatures_c()
            result.update(PASSES[args.pass_name](args, np))
    except RunnerError as exc:
        log(f"{exc.kind}: {exc}")
        result.update(ok=False, error={"kind": exc.kind, "message": str(exc), "hint": exc.hint})
        code = exc.code
    print(json.dumps(result))
    return code


if __name__ == "__main__":
    sys.exit(main())
