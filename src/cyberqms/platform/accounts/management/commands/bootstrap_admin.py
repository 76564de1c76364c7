from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cyberqms.platform.accounts.bootstrap import bootstrap_administrator


class Command(BaseCommand):
    help = "Create the first administrator of a new installation and print a one-time password."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", required=True, help="Printed full name")
        parser.add_argument("--email", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            issued = bootstrap_administrator(
                username=options["username"], full_name=options["name"], email=options["email"]
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(f"Administrator {issued.user.username} created.")
        self.stdout.write(f"One-time password (change at first sign-in): {issued.password}")
