"""Load the demo alliance for people trying Round Table. Safe to run again: it changes nothing twice."""

from datetime import time

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from alliances import services
from alliances.models import Alliance, Member
from meetings.demo import demo_meetings

DEMO_EMAIL = "demo@example.org"
DEMO_PASSWORD = "roundtable-demo"  # noqa: S105 - printed for the person trying the app on their own machine

PEOPLE = [
    ("ana@example.org", "Ana Rivera", "es", "Escuela Montessori Juan Ponce de León"),
    ("ben@example.org", "Ben Okafor", "en", "Neighbourhood Library Friends"),
    ("carmen@example.org", "Carmen Nguyen", "es", "Barrio Health Clinic"),
    ("dario@example.org", "Dario Silva", "en", "Parents for Reading"),
    ("elena@example.org", "Elena Haddad", "es", "Tenants' Association"),
]
NORMS = [
    "We start and end on time.",
    "Everyone speaks once before anyone speaks twice.",
    "We decide by consensus; a block comes with a reason.",
]


class Command(BaseCommand):
    help = "Create the demo alliance and a demo site operator (idempotent), and print the demo login."

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        demo = User.objects.filter(email=DEMO_EMAIL).first()
        if demo is None:
            demo = User.objects.create_superuser(
                DEMO_EMAIL, DEMO_PASSWORD, display_name="Dana Demo", time_zone="America/Puerto_Rico"
            )
        alliance = Alliance.objects.filter(slug="barrio-readers").first()
        if alliance is None:
            alliance = services.alliance_create(
                name="Barrio Readers Alliance", slug="barrio-readers", created_by=demo, organisation="Round Table demo"
            )
            services.charter_set_purpose(
                alliance=alliance,
                purpose="Every child in our barrio reads with joy by the end of third grade.",
                agreed_on=timezone.localdate(),
                by=demo,
            )
            for text in NORMS:
                services.norm_add(alliance=alliance, text=text, agreed_on=None, by=demo)
            services.charter_set_logistics(
                alliance=alliance,
                by=demo,
                cadence="monthly",
                cadence_custom="",
                meeting_weekday=1,
                meeting_time=time(18, 0),
                meeting_duration_minutes=90,
                time_zone="America/Puerto_Rico",
                venue_address="Biblioteca Municipal, Calle Loíza 100, San Juan",
                video_link="https://meet.example.org/barrio-readers",
                info_sharing="Shared folder for agendas and notes; the mailing list for everything else.",
                info_link="",
            )
        for email, name, language, organisation in PEOPLE:
            person = User.objects.filter(email=email).first()
            if person is None:
                person = User.objects.create_user(
                    email,
                    DEMO_PASSWORD,
                    display_name=name,
                    language=language,
                    time_zone="America/Puerto_Rico",
                    email_confirmed_at=timezone.now(),
                )
            Member.objects.get_or_create(alliance=alliance, user=person, defaults={"organisation": organisation})
        demo_meetings(alliance=alliance)
        logins = ", ".join([DEMO_EMAIL, *(email for email, *_ in PEOPLE)])
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo alliance ready. Sign in at /accounts/login/ as any of {logins}, password {DEMO_PASSWORD}. "
                f"{DEMO_EMAIL} is the steward and the site operator (the admin, and /outbox/); "
                "every email is also written in full to var/mail/."
            )
        )
