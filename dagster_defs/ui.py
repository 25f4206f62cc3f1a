"""`make ui`: the Dagster UI (`dagster dev`) for a CRM home, stopped cleanly by Ctrl-C.

`dagster dev` starts a webserver, a daemon and code servers. Interrupted while they start, or
while the daemon finishes a tick, it can wait for its children indefinitely, holding the port.
Here it runs in a process group of its own: Ctrl-C (or SIGTERM) passes the interrupt to the
whole group, waits a few seconds, then ends what is left, so nothing outlives `make ui`.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys

from crm_pipeline.home import Home

GRACE_SECONDS = 8.0


def dev_command(host: str, port: int) -> list[str]:
    return [sys.executable, "-m", "dagster", "dev", "-m", "dagster_defs.definitions",
            "-h", host, "-p", str(port)]


def stop_group(process: subprocess.Popen, grace: float = GRACE_SECONDS) -> int:
    """Interrupt the process group, then terminate, then kill it: each after `grace` seconds."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            continue
        try:  # the leader is gone: end any child it left behind in the group
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        break
    return process.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dagster_defs.ui", description=__doc__)
    parser.add_argument("--home", default=None, help="CRM home (default $CRM_HOME or ./crm_home)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000)
    args = parser.parse_args(argv)
    home = Home.resolve(args.home).ensure()
    env = os.environ | {"DAGSTER_HOME": str(home.dagster_home), "CRM_HOME": str(home.root)}
    process = subprocess.Popen(dev_command(args.host, args.port), env=env,
                               start_new_session=True)

    def on_signal(signum, frame):
        raise KeyboardInterrupt

    for sig in (signal.SIGINT, signal.SIGTERM):  # also where the caller ignored SIGINT
        signal.signal(sig, on_signal)
    try:
        return process.wait()
    except KeyboardInterrupt:
        print("\nstopping the Dagster UI…", file=sys.stderr, flush=True)
        stop_group(process)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
