"""Moderator and admin rules."""

from __future__ import annotations

import pytest

from bot.core.permissions import is_admin, is_moderator, require_admin, require_moderator
from bot.errors import PermissionDenied


@pytest.mark.parametrize(
    ("admin", "manage", "roles", "role_id", "expected"),
    [
        (True, False, [], None, True),
        (False, True, [], None, True),
        (False, False, [5], 5, True),
        (False, False, [5], 6, False),
        (False, False, [], None, False),
    ],
)
def test_is_moderator(
    admin: bool, manage: bool, roles: list[int], role_id: int | None, expected: bool
) -> None:
    assert (
        is_moderator(
            administrator=admin, manage_messages=manage, role_ids=roles, moderator_role_id=role_id
        )
        is expected
    )


def test_require_raises_friendly_errors() -> None:
    with pytest.raises(PermissionDenied, match="Only moderators"):
        require_moderator(
            administrator=False, manage_messages=False, role_ids=[], moderator_role_id=None
        )
    with pytest.raises(PermissionDenied, match="Only server admins"):
        require_admin(administrator=False, manage_guild=False)
    assert is_admin(administrator=False, manage_guild=True)
