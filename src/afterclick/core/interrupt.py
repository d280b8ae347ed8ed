"""The one line a Ctrl-C ends a command with, said once for the start-up handler
(:mod:`afterclick.__main__`, which must import nothing heavy) and the CLI's error handling."""

INTERRUPTED = "interrupted; the store is as it was before this command"
