"""subscribers show / forget / endpoint-key: a reader's access and erasure requests, and the
endpoint key written before the first send (for the sign-up form)."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import current_project
from .subscribers import ListFormat, subscribers_app


@subscribers_app.command("show")
def subscribers_show(
        address: Annotated[str, typer.Argument(metavar="ADDRESS")],
        output: Annotated[ListFormat, typer.Option(
            "--format", help="text or json.")] = ListFormat.text) -> None:
    """Everything the store holds about one reader: status and its history, their choice of
    themes, consent record, issues sent, what came back (an access request, GDPR Art. 15)."""
    from ..subscribers.consent import show

    if output is ListFormat.csv:
        raise typer.BadParameter("is text or json here", param_hint="'--format'")
    typer.echo(show(current_project(), address, output.value), nl=False)


@subscribers_app.command("forget")
def subscribers_forget(
        address: Annotated[str, typer.Argument(metavar="ADDRESS")],
        yes: Annotated[bool, typer.Option(
            "--yes", help="Do not ask for confirmation.")] = False) -> None:
    """Erase a reader's personal data (an erasure request, GDPR Art. 17), keeping a keyed hash
    of the address so that nothing adds them back without their new consent."""
    from ..subscribers.consent import forget

    def confirm(question: str) -> bool:
        return yes or typer.confirm(question, default=False)

    for line in forget(current_project(), address, confirm):
        typer.echo(line)


@subscribers_app.command("endpoint-key")
def subscribers_endpoint_key() -> None:
    """Write .briefing/endpoint.key now (every send also does), making the token key first in
    a project that has none: for an endpoint, such as the sign-up form's, that must run
    before the first send."""
    from ..subscribers.manage import endpoint_key

    for line in endpoint_key(current_project()):
        typer.echo(line)
