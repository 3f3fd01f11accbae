from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "assure.members"
    label = "members"

    def ready(self) -> None:
        from assure.core.feeds import feed_register
        from assure.members.feed import MembersFeed

        feed_register(MembersFeed())
