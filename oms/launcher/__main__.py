"""`python -m oms.launcher run [--throwaway] [--state DIR] -- COMMAND...`

Starts the services, runs COMMAND with `DATABASE_URL`, `REDIS_URL` and
`KAFKA_BOOTSTRAP_SERVERS` pointing at them, and stops the services when COMMAND ends
or on Ctrl-C. Exit status is COMMAND's. A service that cannot start is one line on
stderr and exit status 2, never a traceback.

`python -m oms.launcher supervise [--procfile Procfile]` runs every role of the Procfile
and restarts one that exits (`oms.launcher.supervisor`); `make up` runs it under `run`."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from oms.launcher.process import LauncherError, port_is_free
from oms.launcher.stack import ServiceStack
from oms.launcher.supervisor import supervise


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m oms.launcher")
    sub = parser.add_subparsers(dest="action", required=True)
    run = sub.add_parser("run", help="start the services, run a command, stop the services")
    run.add_argument("--state", type=Path, default=Path(".state"),
                     help="folder for the services' data and logs (kept across runs)")
    run.add_argument("--throwaway", action="store_true",
                     help="use a temporary folder and fast, non-durable settings (tests)")
    run.add_argument("--partitions", type=int,
                     default=int(os.environ.get("OMS_TOPIC_PARTITIONS", "3")))
    run.add_argument("--require-free-port", type=int, action="append", default=[],
                     metavar="PORT", help="refuse to start if this port is taken (repeatable)")
    run.add_argument("command", nargs=argparse.REMAINDER)
    roles = sub.add_parser("supervise", help="run every role of a Procfile, restarting any "
                                             "that exits, until Ctrl-C or SIGTERM")
    roles.add_argument("--procfile", type=Path, default=Path("Procfile"))
    args = parser.parse_args(argv)
    if args.action == "supervise":
        return args
    if args.command and args.command[0] == "--":
        args.command = args.command[1:]
    if not args.command:
        parser.error("give the command to run after --")
    return args


def _run_child(command: list[str], env: dict[str, str]) -> int:
    child = subprocess.Popen(command, env=env)
    while True:
        try:
            return child.wait()
        except KeyboardInterrupt:
            # The terminal sent SIGINT to the child too; give it time to stop cleanly.
            child.send_signal(signal.SIGINT)


def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    if args.action == "supervise":
        return supervise(args.procfile)
    # SIGTERM (from a supervisor or CI) stops the services just as Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    taken = [port for port in args.require_free_port if not port_is_free(port)]
    if taken:
        print(f"oms.launcher: port {taken[0]} is already in use (another `make up`?); "
              "stop what holds it and try again", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="oms-services-") as scratch:
        state = Path(scratch) if args.throwaway else args.state.resolve()
        stack = ServiceStack(state, durable=not args.throwaway, partitions=args.partitions)
        try:
            services_env = stack.start()
        except LauncherError as exc:
            print(f"oms.launcher: {exc}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            return 130
        try:
            for variable, value in services_env.items():
                print(f"oms.launcher: {variable}={value}", file=sys.stderr)
            return _run_child(args.command, {**os.environ, **services_env})
        finally:
            stack.stop()


if __name__ == "__main__":
    sys.exit(main())
