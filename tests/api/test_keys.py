"""The API-key service: creation, verification, revocation and the in-memory cache."""

from __future__ import annotations

import pytest

from relevo.adapters.db.store import SqlStore
from relevo.services.keys import (
    InvalidScope,
    KeyCache,
    create_key,
    list_keys,
    revoke_key,
    verify_key,
)


def test_a_created_key_verifies_and_only_its_hash_is_stored(store: SqlStore) -> None:
    key_id, plaintext = create_key(store, "gateway", ["ingest", "channel"])

    key = verify_key(store, plaintext)

    assert key is not None
    assert (key.id, key.name, key.scopes) == (key_id, "gateway", {"ingest", "channel"})
    assert key.allows("ingest") and not key.allows("admin")
    [row] = list_keys(store)
    assert plaintext.split("_", 2)[2] not in row.secret_hash
    assert len(row.secret_hash) == 64


def test_admin_allows_every_scope(store: SqlStore) -> None:
    _, plaintext = create_key(store, "ops", ["admin"])

    key = verify_key(store, plaintext)

    assert key is not None
    assert all(key.allows(scope) for scope in ("ingest", "channel", "admin"))


@pytest.mark.parametrize("presented", ["", "rlv_", "rlv__x", "abc_def_ghi", "rlv_abcd1234_"])
def test_malformed_keys_fail(store: SqlStore, presented: str) -> None:
    assert verify_key(store, presented) is None


def test_a_wrong_secret_or_a_revoked_key_fails(store: SqlStore) -> None:
    key_id, plaintext = create_key(store, "gateway", ["ingest"])

    assert verify_key(store, plaintext + "x") is None
    revoke_key(store, key_id)
    assert verify_key(store, plaintext) is None


def test_bad_scopes_and_names_are_refused(store: SqlStore) -> None:
    with pytest.raises(InvalidScope, match="valid scopes are ingest, channel, admin"):
        create_key(store, "gateway", ["root"])
    with pytest.raises(InvalidScope, match="at least one scope"):
        create_key(store, "gateway", [])
    with pytest.raises(ValueError, match="needs a name"):
        create_key(store, "  ", ["ingest"])


def test_the_cache_answers_from_memory_until_it_expires(store: SqlStore) -> None:
    key_id, plaintext = create_key(store, "gateway", ["ingest"])
    now = [0.0]
    cache = KeyCache(store, ttl=30, monotonic=lambda: now[0])

    assert cache.verify(plaintext) is not None
    revoke_key(store, key_id)
    now[0] = 29.0
    assert cache.verify(plaintext) is not None
    now[0] = 31.0
    assert cache.verify(plaintext) is None
