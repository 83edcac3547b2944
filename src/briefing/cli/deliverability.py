"""dkim keygen and doctor: the keys that sign each copy, and the preflight before a send."""

from __future__ import annotations

from typing import Annotated

import typer

from .build import OutputFormat
from .common import IssueArg, app, current_project

dkim_app = typer.Typer(add_completion=False, pretty_exceptions_enable=False,
                       rich_markup_mode=None, no_args_is_help=True,
                       help="DKIM keys: with a dkim: key in briefing.yaml, send signs every "
                            "copy with it.")
app.add_typer(dkim_app, name="dkim")


@dkim_app.command("keygen")
def dkim_keygen(
        selector: Annotated[str, typer.Option(
            "--selector", metavar="S", help="The selector: the public key goes in DNS at "
                                            "S._domainkey.DOMAIN, e.g. news2026.")],
        domain: Annotated[str | None, typer.Option(
            "--domain", metavar="D", help="The signing domain (default: the sender's).")] = None,
        ed25519: Annotated[bool, typer.Option(
            "--ed25519", help="Also make an Ed25519 key for a second signature (RFC 8463), "
                              "at selector S-ed25519.")] = False) -> None:
    """Make a 2048-bit RSA key pair: the private key goes into .briefing/dkim/ (mode 0600);
    print the TXT record to publish and the dkim: block for briefing.yaml."""
    from ..deliver.dkim import keygen_for, zone_line

    domain, made = keygen_for(current_project(), selector, domain, ed25519)
    for key in made:
        typer.echo(f"wrote {key.path} (private key, mode 0600: back it up with the store)")
    typer.echo("\npublish in DNS (zone-file syntax; a web form takes the quoted text joined):")
    for key in made:
        typer.echo(zone_line(key.name, key.record))
    typer.echo("\nthen add to briefing.yaml:\ndkim:\n"
               f"  domain: {domain}\n  selector: {selector}")
    for key in made:
        typer.echo(f"  {key.config_line}")
    typer.echo("\nand run 'briefing doctor' once the record is published")


@app.command()
def doctor(issue: IssueArg = None,
           resolver: Annotated[str | None, typer.Option(
               "--resolver", metavar="HOST[:PORT]",
               help="Ask this DNS server (default: the system's resolver).")] = None,
           output: Annotated[OutputFormat, typer.Option(
               "--format", help="Output: text, or json for CI.")] = OutputFormat.text,
           live: Annotated[bool, typer.Option(
               "--live", help="Also POST to the one-click URL and, with --to, send one test "
                              "copy through the relay.")] = False,
           to: Annotated[str | None, typer.Option(
               "--to", metavar="ADDRESS", help="With --live: where the test copy goes.")] = None,
           smtp: Annotated[str | None, typer.Option(
               "--smtp", metavar="URL", help="The relay, as for send (default: smtp.url).")] = None,
           sendmail: Annotated[str | None, typer.Option(
               "--sendmail", metavar="COMMAND", help="Or a sendmail command, as for send.")
           ] = None,
           insecure: Annotated[bool, typer.Option(
               "--insecure", help="Local test servers only, as for send.")] = False,
           timeout: Annotated[float, typer.Option(
               "--timeout", metavar="SECONDS", min=0.1, max=300,
               help="Deadline for each DNS lookup and HTTP request.")] = 5.0) -> None:
    """Check everything about sending an issue: DKIM, SPF, DMARC and MX records, alignment,
    the one-click link, size, placeholders, unsubscribes and complaints; one line per check
    with its fix. Exits 1 when any check fails."""
    from ..deliver.dnschecks import split_resolver
    from ..deliver.doctor import DoctorOptions, diagnose

    if resolver is not None:
        try:
            split_resolver(resolver)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="'--resolver'") from None
    result = diagnose(current_project(), issue, DoctorOptions(
        resolver=resolver, live=live, to=to or "", smtp=smtp, sendmail=sendmail,
        insecure=insecure, deadline=timeout))
    if output is OutputFormat.json:
        typer.echo(result.json(), nl=False)
    else:
        for line in result.lines():
            typer.echo(line)
    raise typer.Exit(0 if result.ok else 1)
