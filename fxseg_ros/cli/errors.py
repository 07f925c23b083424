# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The error contract of every `fxseg` subcommand.

- An expected failure (a bad argument, a missing or unreadable file, a file in the wrong
  format, an output that cannot be written, a model that does not fit) prints ONE line on
  stderr, `fxseg COMMAND: error: ARGUMENT: what is wrong; what to do`, and exits with
  EXIT_USAGE. Subcommands raise `CommandError`, or run the code that reads an argument's file
  inside `about(ARGUMENT)`, which turns the package's own error types into a `CommandError`.
- Ctrl-C prints `interrupted` and exits with EXIT_INTERRUPTED (128 + SIGINT, as a shell does).
- Anything else is a bug: one line saying so and how to report it, the traceback with -v.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import traceback
from typing import Optional, Tuple, Type

#: Exit status of an expected failure (argparse's own for bad arguments).
EXIT_USAGE = 2
#: Exit status after Ctrl-C: 128 + SIGINT.
EXIT_INTERRUPTED = 130
#: Exit status of a bug.
EXIT_BUG = 1
#: Exit status when the reader of stdout has gone (`fxseg ... | head`): 128 + SIGPIPE.
EXIT_BROKEN_PIPE = 128 + int(signal.SIGPIPE)

LOG = logging.getLogger(__name__)


def one_line(text: str) -> str:
    """Join a message's lines (and runs of blanks) into one line."""
    parts = [' '.join(line.split()) for line in str(text).splitlines()]
    parts = [p for p in parts if p]
    if not parts:
        return ''
    out = parts[0]
    for part in parts[1:]:
        out += (' ' if out.endswith((':', '.', ';', ',')) else '; ') + part
    return out


class CommandError(Exception):
    """
    An expected failure of a subcommand: the argument, what is wrong, what to do.

    argument: the option or positional as the user typed it ('--model'), or None when the
    failure is not about one argument.
    """

    def __init__(self, argument: Optional[str], problem: str, advice: Optional[str] = None):
        super().__init__(problem)
        self.argument = argument
        self.problem = problem
        self.advice = advice

    def line(self, prog: str) -> str:
        """Return the one line printed for this failure."""
        text = one_line(self.problem)
        if self.advice:
            text = '%s; %s' % (text.rstrip('.;'), one_line(self.advice))
        if self.argument:
            text = '%s: %s' % (self.argument, text)
        return '%s: error: %s' % (prog, text)


def expected_errors() -> Tuple[Type[BaseException], ...]:
    """
    Return the package's error types that describe bad input, not bugs.

    Imported when an error is being handled, so a subcommand's start stays light.
    """
    from fxseg_ros.data.bag import BagError
    from fxseg_ros.data.cityscapes import CityscapesLayoutError
    from fxseg_ros.data.readers import CalibrationDataError
    from fxseg_ros.model.deploy import DeploymentGraphError
    from fxseg_ros.runtime.base import RunnerError
    from fxseg_ros.runtime.metadata import MetadataError

    return (BagError, CityscapesLayoutError, CalibrationDataError, DeploymentGraphError,
            RunnerError, MetadataError, OSError)


def describe(error: BaseException) -> str:
    """Return the message of an expected error (an OSError as 'path: reason')."""
    if isinstance(error, OSError) and error.strerror:
        names = [n for n in (error.filename, getattr(error, 'filename2', None)) if n]
        return '%s: %s' % (' -> '.join(str(n) for n in names), error.strerror) if names \
            else error.strerror
    return str(error) or type(error).__name__


@contextlib.contextmanager
def about(argument: Optional[str], *also: Type[BaseException], advice: Optional[str] = None):
    """
    Run the code that reads or writes `argument`'s file: its expected errors name `argument`.

    also: further exception types that mean bad input here (e.g. ValueError while parsing a
    JSON file the user gave).
    """
    try:
        yield
    except CommandError:
        raise
    except Exception as err:
        if not isinstance(err, expected_errors() + also):
            raise
        raise CommandError(argument, describe(err), advice) from err


def fail(argument: Optional[str], problem: str, advice: Optional[str] = None) -> None:
    """Raise the CommandError of `argument`."""
    raise CommandError(argument, problem, advice)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (no usage block) and exit EXIT_USAGE."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, '%s: error: %s; see `%s --help`\n'
                  % (self.prog, one_line(message), self.prog))


def _maintainers() -> str:
    """Whom to report a bug to: the package metadata's maintainer address where installed."""
    try:
        from importlib.metadata import metadata, PackageNotFoundError
    except ImportError:   # Python < 3.8
        return 'the fxseg_ros maintainers'
    try:
        email = metadata('fxseg_ros').get('Maintainer-email')
    except PackageNotFoundError:
        email = None
    return 'the fxseg_ros maintainers%s' % (' (%s)' % email if email else '')


class _LineTracker:
    """A text stream that remembers whether the last text written to it ended a line."""

    def __init__(self, stream):
        self._stream = stream
        self.mid_line = False

    def write(self, text):
        if text:
            # A progress bar draws after a carriage return and, cleared, ends with one: in a
            # log file the next text would continue its line.
            self.mid_line = not text.endswith('\n')
        return self._stream.write(text)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def run_guarded(prog: str, function, args, verbose: int = 0) -> int:
    """Run a subcommand's `run(args)` under the error contract; returns the exit status."""
    stderr = sys.stderr
    tracker = sys.stderr = _LineTracker(stderr)
    try:
        return _run(prog, function, args, verbose, tracker)
    finally:
        sys.stderr = stderr


def _run(prog: str, function, args, verbose: int, tracker: _LineTracker) -> int:
    def say(line: str) -> None:
        """Print the one line on a line of its own (also after a progress bar's text)."""
        _flush_stdout()
        print(('\n' if tracker.mid_line else '') + line, file=sys.stderr)

    try:
        return int(function(args) or 0)
    except CommandError as err:
        say(err.line(prog))
        return EXIT_USAGE
    except KeyboardInterrupt:
        say('interrupted')
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_BROKEN_PIPE
    except Exception as err:
        if isinstance(err, expected_errors()):
            say(CommandError(None, describe(err)).line(prog))
            return EXIT_USAGE
        say('%s: internal error (a bug in fxseg_ros): %s: %s; please report it to %s with '
            'the command line%s' % (prog, type(err).__name__, one_line(str(err)),
                                    _maintainers(),
                                    ' and this traceback' if verbose else
                                    ' and the output of the same command with -v'))
        if verbose:
            traceback.print_exc()
        return EXIT_BUG


def _flush_stdout() -> None:
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        pass
