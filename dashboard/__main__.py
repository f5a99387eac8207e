"""``python -m dashboard [--port N]``: serve the dashboard until interrupted."""

from __future__ import annotations

import argparse

from dashboard.launch import launch, stop, url
from lakehouse.settings import load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboard", description=__doc__)
    parser.add_argument("--port", type=int, default=None, help="default: LAKEHOUSE_DASHBOARD_PORT or 8501")
    args = parser.parse_args(argv)
    settings = load_settings()
    process = launch(settings, args.port)
    print(f"Dashboard on {url(args.port or settings.dashboard_port)} (Ctrl+C to stop)", flush=True)
    try:
        return process.wait()
    except KeyboardInterrupt:
        stop(process)
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
