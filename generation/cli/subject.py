"""`memorial subject …`: create, inspect, share and delete a subject's vault."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from assets.errors import UsageError
from ..paths import validate_subject_name
from ..summary import subject_summary
from ..vault import create_vault, delete_subject, list_subjects
from ..vault.consent import EXAMPLE, load_consent_file
from ..vault.roles import ROLES, Action, authorize, matrix_markdown
from ..vault.store import ORIGINAL_PREFIX
from .common import NEW_PASS_ENV, ask_passphrase, member_option, unlock


@click.group()
def subject() -> None:
    """Create, inspect, share and delete a subject (the person remembered).

    \b
    Example:
      memorial subject create rose --consent consent.toml
      memorial subject show rose
    """


@subject.command("consent-example")
def consent_example() -> None:
    """Print a commented consent file to fill in.

    \b
    Example:
      memorial subject consent-example > consent.toml
    """
    click.echo(EXAMPLE, nl=False)


@subject.command("roles")
def roles() -> None:
    """Print the permission matrix: which role may do what, and the consent it needs.

    \b
    Example:
      memorial subject roles
    """
    click.echo(matrix_markdown())


@subject.command()
@click.argument("name")
@click.option("--consent", "consent_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Consent record (TOML); see `memorial subject consent-example`.")
@click.option("--owner", default=lambda: os.environ.get("USER") or "owner", show_default="$USER",
              help="Member name of the owner who creates the subject.")
def create(name: str, consent_file: Path, owner: str) -> None:
    """Create a subject's encrypted vault from a consent record.

    \b
    Example:
      memorial subject create rose --consent consent.toml --owner anna
    """
    validate_subject_name(name)
    record = load_consent_file(consent_file)
    passphrase = ask_passphrase(f"New passphrase for {owner}", confirm=True)
    with create_vault(name, record, owner, passphrase) as vault:
        click.echo(f"Created subject '{name}' with owner '{owner}'.")
        click.echo(subject_summary(vault))


@subject.command("list")
def list_cmd() -> None:
    """List subjects (names only; no passphrase needed).

    \b
    Example:
      memorial subject list
    """
    subjects = list_subjects()
    if not subjects:
        click.echo("No subjects yet. Create one with `memorial subject create NAME --consent FILE`.")
    for item in subjects:
        if "error" in item:
            click.echo(f"{item['name']:<24} unreadable: {item['error']}")
        else:
            click.echo(f"{item['name']:<24} created {item['created'][:10]}  {item['members']} member(s)")


@subject.command()
@click.argument("name")
@member_option
def show(name: str, member: str | None) -> None:
    """Summarise a subject: consent, members and what the vault holds.

    \b
    Example:
      memorial subject show rose
    """
    with unlock(name, member, Action.SHOW) as vault:
        click.echo(subject_summary(vault))


@subject.command()
@click.argument("name")
@member_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def audit(name: str, member: str | None, as_json: bool) -> None:
    """Verify the hash-chained audit log and print it.

    \b
    Example:
      memorial subject audit rose
    """
    with unlock(name, member, Action.READ_AUDIT) as vault:
        entries = vault.audit_entries()
        for e in entries:
            if as_json:
                click.echo(json.dumps({"seq": e.seq, "time": e.time, "member": e.member,
                                       "action": e.action, "detail": e.detail}, ensure_ascii=False))
            else:
                detail = " ".join(f"{k}={v}" for k, v in e.detail.items())
                click.echo(f"{e.seq:5d}  {e.time}  {e.member:<12} {e.action:<20} {detail}")
        if not as_json:
            click.echo(f"Audit log verified: {len(entries)} entries, hash chain intact.")


@subject.command()
@click.argument("name")
@member_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def delete(name: str, member: str | None, yes: bool) -> None:
    """Delete a subject for good: keys destroyed, every blob removed.

    Consider `memorial subject export-memories` first: nothing can be recovered afterwards.

    \b
    Example:
      memorial subject delete rose
    """
    vault = unlock(name, member, Action.DELETE)
    if not yes:
        typed = click.prompt(f"This destroys everything stored for '{name}'. Type the subject name to confirm")
        if typed != name:
            vault.close()
            raise UsageError("confirmation did not match; nothing was deleted")
    delete_subject(vault)
    click.echo(f"Deleted subject '{name}': keys destroyed, all data removed.")


@subject.group()
def member() -> None:
    """Add, remove and list the members who share a subject.

    \b
    Example:
      memorial subject member add rose tom --role family
    """


@member.command("add")
@click.argument("name")
@click.argument("new_member")
@click.option("--role", type=click.Choice(ROLES), required=True, help="Role of the new member.")
@member_option
def member_add(name: str, new_member: str, role: str, member: str | None) -> None:
    """Give a new member access with their own passphrase (owner only).

    The new member's passphrase is asked for, or read from $MEMORIAL_NEW_PASSPHRASE.

    \b
    Example:
      memorial subject member add rose dr-lee --role therapist
    """
    with unlock(name, member, Action.MANAGE_MEMBERS) as vault:
        passphrase = ask_passphrase(f"Passphrase for {new_member}", env=NEW_PASS_ENV, confirm=True)
        vault.add_member(new_member, role, passphrase)
        click.echo(f"Added '{new_member}' as {role} of '{name}'.")


@member.command("remove")
@click.argument("name")
@click.argument("old_member")
@member_option
def member_remove(name: str, old_member: str, member: str | None) -> None:
    """Remove a member's key slot (owner only).

    \b
    Example:
      memorial subject member remove rose tom
    """
    with unlock(name, member, Action.MANAGE_MEMBERS) as vault:
        vault.remove_member(old_member)
        click.echo(f"Removed '{old_member}' from '{name}'.")


@member.command("list")
@click.argument("name")
@member_option
def member_list(name: str, member: str | None) -> None:
    """List members and their roles.

    \b
    Example:
      memorial subject member list rose
    """
    with unlock(name, member, Action.SHOW) as vault:
        for who, role in sorted(vault.members().items()):
            click.echo(f"{who:<24} {role}")


@subject.command()
@click.argument("name")
@member_option
def passphrase(name: str, member: str | None) -> None:
    """Change your own passphrase (the new one from a prompt or $MEMORIAL_NEW_PASSPHRASE).

    \b
    Example:
      memorial subject passphrase rose
    """
    with unlock(name, member) as vault:
        vault.change_passphrase(ask_passphrase("New passphrase", env=NEW_PASS_ENV, confirm=True))
        click.echo(f"Passphrase of '{vault.member}' changed.")


@subject.command()
@click.argument("name")
@click.option("--consent", "consent_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The renewed or changed consent record (TOML).")
@member_option
def consent(name: str, consent_file: Path, member: str | None) -> None:
    """Replace the consent record, e.g. to renew it before it expires (owner only).

    \b
    Example:
      memorial subject consent rose --consent consent-2027.toml
    """
    record = load_consent_file(consent_file)
    with unlock(name, member) as vault:
        authorize(vault.role, record, Action.MANAGE_CONSENT)  # the role, and the new record's validity
        vault.set_consent(record)
        click.echo(f"Consent of '{name}' updated; scopes: {', '.join(record.scopes)}; expires {record.expires}.")


@subject.command()
@click.argument("name")
@member_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def revoke(name: str, member: str | None, yes: bool) -> None:
    """Revoke consent: afterwards only export-memories and delete work (owner only).

    \b
    Example:
      memorial subject revoke rose
    """
    with unlock(name, member, Action.MANAGE_CONSENT) as vault:
        if not yes and not click.confirm(f"Revoke consent for '{name}'? This cannot be undone"):
            raise UsageError("not revoked")
        vault.revoke_consent()
        click.echo(f"Consent for '{name}' revoked.")


@subject.command("export-memories")
@click.argument("name")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@member_option
def export_memories(name: str, out_dir: Path, member: str | None) -> None:
    """Decrypt the original photos, videos and recordings back into a folder (owner only).

    Existing files in the folder are never overwritten.

    \b
    Example:
      memorial subject export-memories rose ~/rose-memories
    """
    from ..ingest.originals import original_chunks

    with unlock(name, member, Action.EXPORT_MEMORIES) as vault:
        out_dir.mkdir(parents=True, exist_ok=True)
        originals = vault.list(ORIGINAL_PREFIX)
        written = 0
        for blob in originals:
            filename = Path(blob.meta.get("filename") or blob.key.rsplit("/", 1)[-1]).name or "memory"
            target = out_dir / filename
            stem, suffix, n = target.stem, target.suffix, 1
            while target.exists():
                target = out_dir / f"{stem} ({n}){suffix}"
                n += 1
            with open(target, "xb") as fh:
                for chunk in original_chunks(vault, blob.key):  # long videos are stored in parts
                    fh.write(chunk)
            written += 1
        vault.log("export_memories", files=written)
        click.echo(f"Wrote {written} original file(s) to {out_dir}.")
