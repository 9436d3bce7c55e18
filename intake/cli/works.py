"""Commands on the works: `intake decide` (overrule a verdict) and `intake package` (the download upward)."""

from __future__ import annotations

from pathlib import Path

import click

from campaign.notice import MailboxKind
from ingest.selection import STAGE_NAMES
from intake.cli.base import Context, cli, fail, pass_ctx
from intake.cli.mail import replies_line
from intake.cli.users import cli_actor
from store.enums import MessageStatus, SelectionStage


@cli.command()
@click.argument("message_id", metavar="ID", type=int)
@click.argument("verdict", type=click.Choice(["accept", "reject"]))
@click.option("--reason", required=True, help="Why (told to the unit in the correction, kept in the audit log).")
@click.option("--no-send", is_flag=True, help="Change the verdict without telling the unit.")
@pass_ctx
def decide(ctx: Context, message_id: int, verdict: str, reason: str, no_send: bool) -> None:
    """Overrule the verdict of message ID (as `intake messages` lists it): accept or reject it, with a reason.

    The unit gets a correction in the style of the other replies (sent now, like rerun's replies),
    unless --no-send; counts, the digest and the export follow the new verdict.
    """
    from ingest.decide import DecisionRefused, overrule

    app = ctx.app()
    try:
        outcome = overrule(
            sessions=app.sessions,
            settings=app.settings,
            renderer=app.renderer,
            blobs=app.blobs,
            message_id=message_id,
            verdict=MessageStatus.ACCEPTED if verdict == "accept" else MessageStatus.REJECTED,
            reason=reason,
            actor=cli_actor(),
            send=not no_send,
        )
    except DecisionRefused as exc:
        fail(str(exc))
    click.echo(f"message {outcome.message_id}: {outcome.before.value} -> {outcome.after.value}")
    if outcome.reply is None:
        if no_send:
            click.echo("the unit is not told (--no-send)")
        elif outcome.already_told:
            click.echo(f"no correction: the last reply the unit got already said {outcome.after.value}")
        else:
            click.echo("no correction: the sender has no usable address")
        return
    click.echo(replies_line(app.send_replies()))


def _nothing_at(kind: str, stage: SelectionStage) -> str:
    """Why no package is written: no work has reached the stage, and where works are brought there."""
    if stage is SelectionStage.RECOMMENDED:
        page = "/province"
    else:
        page = "/collections/KIND" if kind == "province" else f"/collections/{kind}"
    scope = "the province" if kind == "province" else kind
    return (
        f"nothing to package: no work of {scope} is at {stage.value} ({STAGE_NAMES[stage]}) yet; "
        f"mark works {STAGE_NAMES[stage]} in the workbench ({page}), or choose another stage with --stage"
    )


PACKAGE_KINDS = [k.value for k in MailboxKind if k is not MailboxKind.OFFLINE_ACTIVITY]


@cli.command()
@click.argument("kind", type=click.Choice([*PACKAGE_KINDS, "province"]))
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The .zip to write.")
@click.option(
    "--stage",
    type=click.Choice([s.value for s in SelectionStage]),
    help="Works that reached this stage (default: selected for a collection, recommended for province).",
)
@pass_ctx
def package(ctx: Context, kind: str, out: Path, stage: str | None) -> None:
    """The package to hand upward: a folder per work (序号_单位_作品名称) with its original files and
    the list in Annex 2's terms (附件2_报送作品表.xlsx), as one zip.

    KIND is a collection (its selected works, 推荐) or `province` (the province's recommendation,
    a folder per category).
    """
    from report.package import entries, write

    app = ctx.app()
    province = kind == "province"
    kinds = [b.kind for b in app.settings.mailboxes if b.kind is not MailboxKind.OFFLINE_ACTIVITY]
    chosen = list(dict.fromkeys(kinds)) if province else [MailboxKind(kind)]
    if not province and MailboxKind(kind) not in kinds:
        fail(f"no mailbox of kind {kind} in the configuration")
    level = SelectionStage(stage) if stage else SelectionStage.RECOMMENDED if province else SelectionStage.SELECTED
    items = entries(app, kinds=chosen, stage=level)
    if not items:
        fail(_nothing_at(kind, level))
    partial = out.with_name(f".{out.name}.partial")
    try:
        summary = write(items, app.blobs, partial, kinds=chosen, stage=level, by_kind=province)
        partial.replace(out)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        fail(f"cannot write {out}: {exc.strerror or exc}")
    click.echo(f"{out}: {summary.works} works, {summary.files} files, {summary.bytes} bytes")
