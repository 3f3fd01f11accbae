import pytest
from django.contrib.auth.hashers import check_password

from assure.identity.demo import DEMO_SECRET_CODE, demo_account
from assure.identity.models import Account
from assure.members.nir import format_nir
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


def test_demo_step_gives_the_first_member_a_known_code():
    member = MemberFactory()
    lines = demo_account(True)
    account = Account.objects.get(member=member)
    assert check_password(DEMO_SECRET_CODE, account.secret_code_hash)
    assert not account.must_change_code
    assert format_nir(member.nir) in lines[0]
    assert demo_account(False) == lines
