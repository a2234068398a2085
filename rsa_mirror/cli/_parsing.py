"""Building blocks of the ``rsa-mirror`` parser: parent parsers, the help formatter, the subcommand helper's type."""

from __future__ import annotations

import argparse
import copy
from collections.abc import Callable, Sequence
from typing import Any, Protocol


class AddCommand(Protocol):
    """``build_parser``'s helper: the subcommand ``name`` running ``run``, with the options of ``parents``."""

    def __call__(
        self,
        name: str,
        run: Callable[[argparse.Namespace], int],
        help: str,
        parents: Sequence[argparse.ArgumentParser] = (),
    ) -> argparse.ArgumentParser:
        """Add the subcommand; returns its parser."""
        ...


def one_option(*flags: str, **options: Any) -> argparse.ArgumentParser:
    """A parent parser holding one option (argparse ``parents=``)."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(*flags, **options)
    return parent


def options_parent(*options: tuple[str, dict[str, Any]]) -> argparse.ArgumentParser:
    """A parent parser holding several options, each (flag, keyword arguments)."""
    parent = argparse.ArgumentParser(add_help=False)
    for flag, keywords in options:
        parent.add_argument(flag, **keywords)
    return parent


class HelpFormatter(argparse.HelpFormatter):
    """argparse's help with each option's default, "(default: X)", unless its help already gives one."""

    def _format_action(self, action: argparse.Action) -> str:
        default, text = action.default, action.help or ""
        if action.option_strings and all(default is not v for v in (None, False, argparse.SUPPRESS)):
            if "default" not in text:
                shown = " ".join(map(str, default)) if isinstance(default, (list, tuple)) else str(default)
                action = copy.copy(action)  # the parser's own action keeps its help
                action.help = f"{text} (default: {shown.replace('%', '%%')})".strip()
        return super()._format_action(action)
