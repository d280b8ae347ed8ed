"""The ``afterclick`` command (also ``python -m afterclick``).

Loading the engine (Ibis, DuckDB, pandas) takes a second or more before any command runs; a Ctrl-C
then must end with the same one line as a Ctrl-C later, not with a traceback. So the handler is set
here, before anything heavy is imported, and it leaves at once: no store is open outside
``cli.friendly_errors``, which turns Ctrl-C back into a KeyboardInterrupt so that an open store
rolls back before the line is printed.
"""

from __future__ import annotations

import os
import signal
import sys

from afterclick.core.interrupt import INTERRUPTED


def _interrupted(signum: int, frame: object) -> None:
    # an exception raised here could land inside an extension module's initialisation, which
    # reports it as an ImportError with a traceback (DuckDB's does), or in an `except ImportError`
    os.write(2, f"error: {INTERRUPTED}\n".encode())
    os._exit(130)


def main() -> int | None:
    signal.signal(signal.SIGINT, _interrupted)
    from afterclick.cli import app

    return app()


if __name__ == "__main__":
    sys.exit(main())
