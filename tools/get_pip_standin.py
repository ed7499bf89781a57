"""Offline stand-in for ansible-test's get-pip bootstrap script (hyperv.nested tools).

ansible-test bootstraps pip in every virtual environment it creates by running a get-pip script
that it downloads from a host this project's machines cannot reach. tools/run_tests.py copies
this file to ~/.ansible/test/cache/get_pip_<version>.py, where ansible-test looks first.

It does what get-pip does with the arguments ansible-test passes (pip options and the
`pip==<version>` requirement): bootstrap pip with the interpreter's bundled ensurepip, then
pip-install the requested packages from the configured package index.
"""

from __future__ import annotations

import os
import subprocess
import sys

MARKER = "hyperv.nested get-pip stand-in"


def main() -> None:
    args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"])
    env = dict(os.environ)
    # ansible-test points PIP_CONFIG_FILE at its own settings for get-pip; pip itself should use
    # the machine's normal configuration (index, certificates, proxies).
    env.pop("PIP_CONFIG_FILE", None)
    subprocess.check_call([sys.executable, "-m", "pip", "install", *args], env=env)


if __name__ == "__main__":
    main()
