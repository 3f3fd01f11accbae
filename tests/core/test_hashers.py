"""Argon2id with the settings' cost (ADR 0002), and upgrades when the cost changes."""

from __future__ import annotations

from django.contrib.auth.hashers import check_password, identify_hasher, make_password


def test_codes_are_hashed_with_argon2id_at_the_configured_cost(settings):
    settings.ARGON2_MEMORY_COST_KIB = 19456
    settings.ARGON2_TIME_COST = 2
    encoded = make_password("un code assez long 2026")
    assert encoded.startswith("argon2$argon2id$")
    assert "m=19456,t=2,p=1" in encoded
    assert check_password("un code assez long 2026", encoded)
    assert not check_password("un code assez long 2027", encoded)


def test_a_hash_made_with_another_cost_is_upgraded_at_next_login(settings):
    settings.ARGON2_MEMORY_COST_KIB = 8192
    settings.ARGON2_TIME_COST = 1
    old = make_password("un code assez long 2026")
    hasher = identify_hasher(old)
    assert not hasher.must_update(old)

    settings.ARGON2_MEMORY_COST_KIB = 19456
    settings.ARGON2_TIME_COST = 2
    assert hasher.must_update(old)
    upgraded = []
    assert check_password("un code assez long 2026", old, setter=upgraded.append)
    assert upgraded == ["un code assez long 2026"]
