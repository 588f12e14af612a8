"""``python -m govbot.sandbox [--port N] [--seed demo|empty]``."""

from __future__ import annotations

import argparse

from govbot.sandbox import SEEDS, serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m govbot.sandbox", description="Run the sandbox Gerrit on 127.0.0.1."
    )
    parser.add_argument("--port", type=int, default=8081, help="port (0: any free one)")
    parser.add_argument("--seed", choices=sorted(SEEDS), default="demo")
    args = parser.parse_args(argv)
    serve(args.port, args.seed)


if __name__ == "__main__":
    main()
