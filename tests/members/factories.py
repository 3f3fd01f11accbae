"""Factories for the register: valid NIRs with their keys, believable names and addresses."""

from __future__ import annotations

import datetime as dt

import factory

from assure.members.models import Beneficiary, Member
from assure.members.nir import with_key


def _nir(n: int) -> str:
    # Sex 1/2, year 85, month 05, department 75, commune 056, order from the sequence.
    return with_key(f"{1 + n % 2}8505" + "75" + "056" + f"{n % 1000:03d}")


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    external_id = factory.Sequence(lambda n: f"M{n:08d}")
    nir = factory.Sequence(
        lambda n: with_key(f"{1 + n % 2}85{(n // 1000) % 12 + 1:02d}75056{n % 1000:03d}")
    )
    birth_name = factory.Sequence(lambda n: f"DUPONT{chr(65 + n % 26)}")
    usual_name = None
    given_names = "Camille Marie"
    sex = factory.Sequence(lambda n: "M" if n % 2 == 0 else "F")
    birth_date = dt.date(1985, 5, 14)
    birth_place_insee = "75056"
    birth_country_insee = "99100"
    vitale_serial = factory.Sequence(lambda n: f"{100000000 + n}")
    email = factory.Sequence(lambda n: f"membre{n}@example.org")
    phone = "0601020304"
    address_line1 = "12 rue des Lilas"
    postal_code = "75014"
    city = "Paris"
    country = "FR"
    iban = "FR7630006000011234567890189"
    bic = "AGRIFRPP"
    bank_holder = "Camille Dupont"
    coverage_start = dt.date(2010, 1, 1)
    exemptions = factory.LazyFunction(list)


class BeneficiaryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Beneficiary

    member = factory.SubFactory(MemberFactory)
    external_id = factory.Sequence(lambda n: f"B{n:08d}")
    nir = None
    birth_name = "DUPONT"
    given_names = "Léa"
    sex = "F"
    birth_date = dt.date(2015, 3, 2)
    relation = Beneficiary.Relation.CHILD
