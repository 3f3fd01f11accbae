from tests.franceconnect.provider import fc_provider_for_testserver  # noqa: F401 - fixture
