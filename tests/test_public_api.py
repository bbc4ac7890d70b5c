"""The public face: ``__all__`` lists exactly the public names; the core never imports the fake."""

from __future__ import annotations

import subprocess
import sys
import types

import partnercenter_async


def test_all_lists_exactly_the_public_names() -> None:
    public = {
        name
        for name, value in vars(partnercenter_async).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }  # subpackages (export, testing) are not names of their own: theirs are re-exported here
    names = partnercenter_async.__all__
    assert len(names) == len(set(names))  # ruff's RUF022 keeps it sorted
    assert set(names) == public | {"__version__"}


def test_importing_the_client_does_not_import_the_fake_service() -> None:
    code = "import sys, partnercenter_async; print('partnercenter_async.testing' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
