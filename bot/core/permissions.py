"""Who may do what on a server. Checked on our side: Discord's default command permissions
are only a hint that server admins can change.

The permissions are the member's *server-level* ones (their roles; the owner has all), not
those of one channel: a channel overwrite must not give powers over the whole server."""

from __future__ import annotations

from collections.abc import Iterable

from bot.errors import PermissionDenied

MODERATOR_ONLY = (
    "Only moderators can do that (a server role with Manage Messages, "
    "or the server's moderator role)."
)
ADMIN_ONLY = "Only server admins (Manage Server permission) can change these settings."
SERVER_ONLY = "That only works in a server, not in DMs."
ROLES_UNKNOWN = "I couldn't check your roles on this server just now. Try again in a moment."


def is_moderator(
    *,
    administrator: bool,
    manage_messages: bool,
    role_ids: Iterable[int],
    moderator_role_id: int | None,
) -> bool:
    """Moderators: admins, members with Manage Messages, or holders of the configured role."""
    if administrator or manage_messages:
        return True
    return moderator_role_id is not None and moderator_role_id in set(role_ids)


def is_admin(*, administrator: bool, manage_guild: bool) -> bool:
    """Admins: Administrator or Manage Server."""
    return administrator or manage_guild


def require_moderator(
    *,
    administrator: bool,
    manage_messages: bool,
    role_ids: Iterable[int],
    moderator_role_id: int | None,
) -> None:
    """Raise :class:`PermissionDenied` unless :func:`is_moderator`."""
    if not is_moderator(
        administrator=administrator,
        manage_messages=manage_messages,
        role_ids=role_ids,
        moderator_role_id=moderator_role_id,
    ):
        raise PermissionDenied(MODERATOR_ONLY)


def require_admin(*, administrator: bool, manage_guild: bool) -> None:
    """Raise :class:`PermissionDenied` unless :func:`is_admin`."""
    if not is_admin(administrator=administrator, manage_guild=manage_guild):
        raise PermissionDenied(ADMIN_ONLY)
