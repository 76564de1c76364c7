"""factory_boy factories for account rows; roles are granted through services, not here."""

from __future__ import annotations

import factory

from cyberqms.platform.accounts.models import Site, User


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"S{n:02d}")
    name = factory.LazyAttribute(lambda o: f"Site {o.code}")
    country = "CH"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.LazyAttribute(lambda o: o.username.replace("_", " ").title())
    email = factory.LazyAttribute(lambda o: f"{o.username}@x.test")
    kind = "person"
