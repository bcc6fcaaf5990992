"""Where a role is held for a case of an office: one rule (`place_role`) for the database and for
the dry run's catalogue, so the two cannot disagree."""

from __future__ import annotations

import pytest

from engine.org import offices as org


@pytest.mark.parametrize("office", [code for code, *_ in org.OFFICES])
def test_the_catalogue_and_the_database_place_every_role_alike(world, office):
    with world.uow() as tx:
        stored = org.StoredOrganisation(tx.session)
        for role in [*org.ROLES, "No Such Role", None]:
            assert org.place_role(org.Catalogue(), role, office) == org.place_role(stored, role, office), role


def test_country_roles_are_held_in_the_office_regional_ones_in_its_region_hq_ones_at_headquarters():
    catalogue = org.Catalogue()
    assert org.place_role(catalogue, "Chief of Mission", "HTI") == "HTI"
    assert org.place_role(catalogue, "Regional Director", "HTI") == "RO-AMERICAS"
    assert org.place_role(catalogue, "Regional Director", "RO-AMERICAS") == "RO-AMERICAS"
    assert org.place_role(catalogue, "MEFM Approver", "PAN") == "HQ"
    assert org.place_role(catalogue, "Chief of Mission", "NOWHERE") is None


def test_holders_are_the_active_users_with_the_role_in_that_office(world):
    with world.uow() as tx:
        assert [u.email for u in org.holders(tx.session, "Chief of Mission", "PAN")] == ["chief-of-mission@pan.demo"]
        assert org.holders(tx.session, "Chief of Mission", "RO-AMERICAS") == []
        assert org.holders(tx.session, None, "PAN") == []
