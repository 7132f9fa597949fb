"""Refuse a torch device this machine lacks before any weights are loaded.

torch reports a missing device only when the first tensor is moved, minutes into loading a large
checkpoint and with an error that names no setting; checking the config first names the setting to fix.
"""

from __future__ import annotations

from edtune.errors import ConfigError


def require_device(device: str, setting: str) -> None:
    """Return when torch can use `device` here; otherwise ConfigError naming `setting` (e.g.
    "student.generation.device"). "cpu" is always present; unknown names are refused too."""
    import torch

    present = {"cpu": True, "cuda": torch.cuda.is_available(), "mps": torch.backends.mps.is_available()}
    if not present.get(device, False):
        raise ConfigError(f"{setting} = {device!r}, but torch finds no {device} device here")
