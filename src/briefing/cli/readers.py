"""subscribers show / forget / signup-key: a reader's access and erasure requests, and the
sign-up endpoint's key."""

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
    """Everything the store holds about one reader: status and its history, consent record,
    issues sent, what came back (an access request, GDPR Art. 15)."""
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


@subscribers_app.command("signup-key")
def subscribers_signup_key() -> None:
    """Print the key an endpoint on another host needs for the sign-up form (set it there as
    $BRIEFING_SIGNUP_KEY). It is derived from the token key, which never leaves this machine."""
    from ..subscribers.signup import endpoint_key_line

    typer.echo(endpoint_key_line(current_project().root))
