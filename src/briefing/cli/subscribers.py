"""subscribers: the reader list, its import and export, sync, and the endpoint."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .common import app, current_project

if TYPE_CHECKING:
    from ..content.model import Config

subscribers_app = typer.Typer(add_completion=False, pretty_exceptions_enable=False,
                              rich_markup_mode=None, no_args_is_help=True,
                              help="The reader list: add, remove, list, import, export, "
                                   "sync; and the unsubscribe endpoint (serve).")
app.add_typer(subscribers_app, name="subscribers")


class Status(StrEnum):
    active = "active"
    unsubscribed = "unsubscribed"
    bounced = "bounced"
    complained = "complained"


class ListFormat(StrEnum):
    text = "text"
    csv = "csv"
    json = "json"


@subscribers_app.command("add")
def subscribers_add(
        address: Annotated[str, typer.Argument(metavar="ADDRESS",
                                               help="user@example.org or 'Name <user@...>'.")],
        name: Annotated[str | None, typer.Option("--name", help="The reader's name.")] = None,
        resubscribe: Annotated[bool, typer.Option(
            "--resubscribe", help="Add back an address that unsubscribed, bounced or "
                                  "complained (only if they asked to come back).")] = False,
        themes: Annotated[str | None, typer.Option(
            "--themes", metavar="IDS",
            help="The themes they get, e.g. industry,policy ('*': every theme, new ones "
                 "too, as for a reader who never chose).")] = None,
) -> None:
    """Add a reader to the list (the store in .briefing/), or set an existing reader's name
    or themes."""
    from ..subscribers.manage import add

    for line in add(current_project(), address, name, resubscribe, themes):
        typer.echo(line)


@subscribers_app.command("remove")
def subscribers_remove(address: Annotated[str, typer.Argument(metavar="ADDRESS")]) -> None:
    """Unsubscribe a reader. The address stays, as unsubscribed, so it is never mailed again."""
    from ..subscribers.manage import remove

    for line in remove(current_project(), address):
        typer.echo(line)


@subscribers_app.command("list")
def subscribers_list(
        status: Annotated[Status | None, typer.Option(
            "--status", help="Only readers with this status.")] = None,
        output: Annotated[ListFormat, typer.Option(
            "--format", help="text, csv or json.")] = ListFormat.text) -> None:
    """List the readers: status, address, name, since when (and why, for those who left),
    and the themes of those who chose."""
    from ..subscribers.manage import counts_line, formatted, subscribers

    store, readers, chosen = subscribers(current_project(), status.value if status else None)
    for note in store.notes:
        typer.echo(note, err=True)
    typer.echo(formatted(readers, output.value, chosen), nl=False)
    if output is ListFormat.text:
        typer.echo(counts_line(store), err=True)


@subscribers_app.command("import")
def subscribers_import(
        file: Annotated[Path, typer.Argument(metavar="FILE.csv", help="A CSV export.")],
        email_column: Annotated[str | None, typer.Option(
            "--email-column", metavar="NAME",
            help="The column with the addresses, for a CSV of another layout.")] = None,
        name_column: Annotated[str | None, typer.Option(
            "--name-column", metavar="NAME", help="The column with the names.")] = None,
        resubscribe: Annotated[bool, typer.Option(
            "--resubscribe", help="Also make active again the addresses that unsubscribed, "
                                  "bounced or complained.")] = False) -> None:
    """Import readers from a Mailchimp, Substack, Buttondown or listmonk export, or any CSV.

    All or nothing: a bad row or an unknown layout is an error and nothing is imported."""
    from ..subscribers.manage import import_file

    if name_column and not email_column:
        raise typer.BadParameter("needs --email-column too", param_hint="'--name-column'")
    result = import_file(current_project(), file, email_column, name_column, resubscribe)
    for note in result.notes:
        typer.echo(note)
    typer.echo(result.summary(str(file)))


@subscribers_app.command("export")
def subscribers_export(file: Annotated[Path | None, typer.Argument(
        metavar="[FILE]", help="Write the CSV here (mode 0600) instead of printing it.",
        show_default=False)] = None) -> None:
    """Export every address with its status, as CSV (suppressions included)."""
    from ..subscribers.manage import export

    text, n = export(current_project(), file)
    if file is None:
        typer.echo(text, nl=False)
    else:
        typer.echo(f"exported {n} address{'' if n == 1 else 'es'} -> {file}")


@subscribers_app.command("serve")
def subscribers_serve(
        host: Annotated[str, typer.Option(
            "--host", help="Address to listen on; keep 127.0.0.1 behind a proxy.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(
            "--port", min=0, max=65535, help="Port; 0 picks a free one.")] = 8080,
        events: Annotated[str | None, typer.Option(
            "--events", metavar="PATH",
            help="Where to record the clicks (default: sync.events in briefing.yaml if it is a "
                 "file, else .briefing/events.jsonl).")] = None,
        key: Annotated[str | None, typer.Option(
            "--key", metavar="PATH",
            help="The endpoint key, which checks tokens (default: .briefing/endpoint.key, "
                 "written by send in the editor's project).")] = None,
        smtp: Annotated[str | None, typer.Option(
            "--smtp", metavar="URL",
            help="With signup: in briefing.yaml, send the confirmation mails through this "
                 "server (default: smtp.url).")] = None,
        insecure: Annotated[bool, typer.Option(
            "--insecure", help="Local test servers only: skip certificate checks and allow "
                               "plain text without STARTTLS.")] = False,
        proxy: Annotated[str | None, typer.Option(
            "--proxy", metavar="ADDRESS",
            help="The address of the reverse proxy in front (e.g. 127.0.0.1): its "
                 "X-Forwarded-For names the client, whose address signup.record_ip "
                 "hashes.")] = None) -> None:
    """Run the one-click unsubscribe endpoint (RFC 8058) under waitress; with signup: in
    briefing.yaml, the sign-up form (/s) and its confirmation links (/c/<token>) too.

    It records tokens and times only; 'briefing subscribers sync' applies them."""
    from ..subscribers.serve import serve_project

    def ready(lines: list[str]) -> None:
        for line in lines:
            typer.echo(line)

    def make_sender(config: Config) -> tuple[Callable[[str, bytes], None], str]:
        # The transport lives in deliver/, to the left of the endpoint: it is handed over.
        from ..deliver.confirm import confirmation_sender
        return confirmation_sender(config, smtp, insecure)

    serve_project(current_project(), host, port, events, key, ready, make_sender, proxy)
    typer.echo("endpoint stopped")


@subscribers_app.command("new-key")
def subscribers_new_key() -> None:
    """Make a new token key, only when the old one is lost for good.

    The unsubscribe links in every copy sent before stop working; back the new key up with the
    store."""
    from ..subscribers.manage import new_key

    for line in new_key(current_project()):
        typer.echo(line)


@subscribers_app.command("sync")
def subscribers_sync(
        events: Annotated[str | None, typer.Option(
            "--events", metavar="PATH_OR_URL",
            help="The endpoint's events: its file, or the https URL of its /events.")] = None,
        mailbox: Annotated[str | None, typer.Option(
            "--mailbox", metavar="PATH",
            help="An mbox file or Maildir folder: unsubscribe mail, bounces, complaints.")]
        = None) -> None:
    """Apply unsubscribes, bounces and complaints to the list, once each.

    Without options, reads the sources under sync: in briefing.yaml (send does this first)."""
    from ..subscribers.sync import sync

    for line in sync(current_project(), events, mailbox):
        typer.echo(line)


# The reader's own requests (show, forget) and the endpoint key live in cli/readers.py, which
# adds them to this group: importing this module registers the whole group (cli.GROUPS).
from . import readers as _readers  # noqa: E402,F401
