"""devices.yaml: the shipped file loads, and every mistake names the device, field and fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from edgekit.cli.main import app
from edgekit.devices.config import DeviceError, load_devices, select_devices

REPO = Path(__file__).resolve().parents[2]


def _file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "devices.yaml"
    path.write_text(body)
    return path


def test_the_shipped_devices_file_has_the_documented_boards() -> None:
    devices = load_devices(REPO / "devices.yaml")

    assert {"local", "rpi4", "rpi5", "jetson-orin-nano", "loopback"} <= set(devices)
    assert devices["rpi4"].target == "ssh" and devices["rpi4"].host
    assert "TensorrtExecutionProvider" in devices["jetson-orin-nano"].onnx_providers


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("devices:\n  pi:\n    target: ssh\n    hots: pi.local\n",
         "device 'pi': hots: unknown field; did you mean 'host'?"),
        ("devices:\n  pi:\n    target: ssh\n",
         "device 'pi': host: required for target ssh"),
        ("devices:\n  pi:\n    target: sssh\n    host: x\n",
         "device 'pi': target: Input should be 'local' or 'ssh' (got 'sssh')"),
        ("devices:\n  pi:\n    target: local\n    runtimes: [tflite]\n",
         "device 'pi': runtimes.0: Input should be 'litert', 'tflite-runtime' or 'onnxruntime'"),
        ("devices:\n  pi:\n    target: local\n    requirements: {max_latency: 5}\n",
         "device 'pi': requirements.max_latency: unknown field; did you mean 'max_latency_ms'?"),
        ("devices:\n  pi:\n    target: ssh\n    host: x\n"
         "    ssh_options: {StrictHostKeyChecking: 'no'}\n",
         "StrictHostKeyChecking cannot be set"),
        ("devices:\n  pi:\n    target: ssh\n    host: -oProxyCommand=x\n",
         "device 'pi': host: must be a host name"),
    ],
)  # fmt: skip
def test_mistakes_name_the_device_the_field_and_the_fix(tmp_path, body, expected) -> None:
    with pytest.raises(DeviceError) as caught:
        load_devices(_file(tmp_path, body))

    message = str(caught.value)
    assert expected in message
    assert "\n" not in message


def test_unknown_device_name_suggests_the_closest() -> None:
    devices = load_devices(REPO / "devices.yaml")

    with pytest.raises(DeviceError, match="unknown device 'rpi6'; did you mean 'rpi5'"):
        select_devices(devices, "rpi4,rpi6")
    assert [d.name for d in select_devices(devices, "rpi5, rpi4")] == ["rpi5", "rpi4"]


def test_devices_lists_and_checks_local(tmp_path) -> None:
    runner = CliRunner()
    path = str(REPO / "devices.yaml")

    listed = runner.invoke(app, ["devices", "--devices-file", path], env={"COLUMNS": "200"})
    checked = runner.invoke(app, ["devices", "check", "local", "--devices-file", path],
                            env={"COLUMNS": "200"})  # fmt: skip

    assert listed.exit_code == 0 and "jetson-orin-nano" in listed.output
    assert checked.exit_code == 0, checked.output
    assert "onnxruntime" in checked.output and "python" in checked.output


def test_devices_check_names_what_to_install(tmp_path) -> None:
    path = _file(tmp_path, "devices:\n  b:\n    target: local\n    runtimes: [tflite-runtime]\n")

    result = CliRunner().invoke(app, ["devices", "check", "b", "--devices-file", str(path)],
                                env={"COLUMNS": "200"})  # fmt: skip

    assert result.exit_code == 1
    assert "install on b: pip install tflite-runtime" in result.output


def test_without_a_devices_file_only_the_builtin_local_device_is_known(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)

    devices = load_devices()

    assert list(devices) == ["local"]
    assert devices["local"].target == "local"
    with pytest.raises(DeviceError, match="no devices file at"):
        load_devices(tmp_path / "devices.yaml")  # named explicitly: it must exist


def test_devices_check_of_an_unreachable_board_leaves_no_ssh_folder(tmp_path, monkeypatch):
    import tempfile

    from edgekit.bench.targets import TargetError

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where the control folder goes
    body = "devices:\n  gone:\n    target: ssh\n    host: 127.0.0.1\n    port: 1\n"
    path = _file(tmp_path, body)

    result = CliRunner().invoke(app, ["devices", "check", "gone", "--devices-file", str(path)])

    assert isinstance(result.exception, TargetError), result.output
    assert "gone (127.0.0.1)" in str(result.exception)
    assert "ControlPath" not in str(result.exception)  # a long TMPDIR still fits the socket
    assert not list(tmp_path.glob("edgekit-ssh-*"))
