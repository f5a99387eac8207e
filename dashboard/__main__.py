"""``python -m dashboard [--port N]``: serve the dashboard until interrupted or terminated."""

from __future__ import annotations

import argparse
import signal
import types

from dashboard.launch import launch, stop, url
from lakehouse.settings import load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboard", description=__doc__)
    parser.add_argument("--port", type=int, default=None, help="default: LAKEHOUSE_DASHBOARD_PORT or 8501")
    args = parser.parse_args(argv)
    settings = load_settings()
    process = launch(settings, args.port)

    def terminate(signum: int, _frame: types.FrameType | None) -> None:
        # a supervisor's SIGTERM reaches this process only; take the Streamlit child down with it
        stop(process)
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminate)
    print(f"Dashboard on {url(args.port or settings.dashboard_port)} (Ctrl+C to stop)", flush=True)
    try:
        return process.wait()
    except KeyboardInterrupt:
        stop(process)
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
