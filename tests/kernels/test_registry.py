"""The backend registry: cpu by name, one instance, clear errors for unknown devices."""

from __future__ import annotations

import pytest

from chainrule.errors import ChainruleError
from chainrule.kernels.registry import devices, get_backend


def test_cpu_backend_is_registered_once() -> None:
    assert "cpu" in devices()
    assert get_backend("cpu") is get_backend("cpu")
    assert get_backend("cpu").name == "cpu"


def test_unknown_device_names_the_known_ones() -> None:
    with pytest.raises(ChainruleError, match="unknown device 'tpu': expected one of cpu, cuda"):
        get_backend("tpu")


def test_generated_modules_are_memoised() -> None:
    backend = get_backend("cpu")
    assert backend.activation("tanh") is backend.activation("tanh")
