"""What every `superbill` command shares: the click classes, the error exit, loading the clinic."""

from __future__ import annotations

import sys

import click

# Options of `superbill` itself: given after the subcommand, click would only say "No such option".
GLOBAL_OPTIONS = ("--clinic",)


class _Command(click.Command):
    def parse_args(self, ctx, args):
        try:
            return super().parse_args(ctx, args)
        except click.NoSuchOption as exc:
            if exc.option_name in GLOBAL_OPTIONS:
                path = ctx.command_path.rsplit(" ", 1)[0]
                raise click.UsageError(
                    f"{exc.option_name} is an option of `{path}` itself: give it before the command, "
                    f"as in `{path} {exc.option_name} PATH {ctx.info_name} ...`", ctx) from None
            raise


class _Group(click.Group):
    command_class = _Command

    def list_commands(self, ctx):
        return list(self.commands)  # in the order they were declared, not alphabetical


_Group.group_class = _Group


def _fail(lines, code: int = 1):
    for line in lines:
        click.echo(line, err=True)
    sys.exit(code)


def _load_clinic(ctx, *, report: bool = True):
    """The clinic profile, or exit 1 with its problems (and how to point at one when it is missing).

    A provider entry with errors does not stop the command: the errors are printed (unless `report`
    is False) and `loaded.problems` makes the command exit 1 at its end."""
    from superbill.problems import InputRejected

    try:
        loaded = _read_clinic(ctx)
    except InputRejected as exc:
        _fail([p.line() for p in exc.problems])
    if report:
        for problem in loaded.problems:
            click.echo(problem.line(), err=True)
    return loaded


def _read_clinic(ctx):
    """The clinic profile; InputRejected when it cannot be used at all."""
    from superbill.inputs.load import load_clinic, locate_clinic

    return load_clinic(locate_clinic(ctx.obj.get("clinic")))


def _date(ctx, param, value):
    if value is None:
        return None
    import datetime as dt

    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("must be a date, YYYY-MM-DD") from None
