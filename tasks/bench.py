"""The benchmark's to-dos (alliances/management/commands/seed_bench.py): 40,000 of them, 8,000 open.

They are spread over the alliances by size (the large alliance of 400 holds about ten times a typical
one's), most of them written down at one of the alliance's meetings held. The two people the benchmark
signs in as own a share an active organiser has: a tenth of the to-dos of every alliance they are in, so
that *My to-dos* lists a few hundred across several alliances and pages its open ones. Rows go in with
bulk inserts; the alliances' page versions are renewed after (bulk inserts send no signal).
"""

import random
from collections import defaultdict
from datetime import datetime, timedelta

from django.utils import timezone

from accounts.models import User
from alliances import versions
from alliances.models import Alliance, Member
from meetings.models import Meeting
from tasks.models import Todo

TODOS, OPEN_TODOS = 40_000, 8_000
SMOKE_TODOS, SMOKE_OPEN_TODOS = 300, 60
# The part of each alliance's to-dos that the bench steward and member own, in the alliances they are in.
SIGNED_IN_SHARE = 0.1
DROPPED_SHARE = 0.05
TEXTS = [
    "Ask the library for the community room",
    "Send the flyer to the printer",
    "Call the school about the book fair",
    "Write to the council about the reading corner",
    "Collect the donated books from the clinic",
    "Draft the newsletter paragraph on the summer programme",
    "Book the hall for the next meeting",
    "Find two volunteers for Saturday's read-aloud",
    "Share the meeting notes with the parents' group",
    "Check the budget for the library cards",
]
DROP_REASONS = ["The fair was cancelled.", "Someone else did it already.", "No longer needed after the vote."]


def bench_todos(
    *,
    members_by_alliance: dict[Alliance, list[Member]],
    signed_in: list[User],
    smoke: bool,
    rng: random.Random,
) -> int:
    """Create the to-dos and return how many; open ones are due around today, some already overdue."""
    total, open_total = (SMOKE_TODOS, SMOKE_OPEN_TODOS) if smoke else (TODOS, OPEN_TODOS)
    now = timezone.now()
    today = now.date()
    held: dict[int, list[tuple[int, datetime]]] = defaultdict(list)
    for meeting_id, alliance_id, starts_at in (
        Meeting.objects.filter(starts_at__lt=now).order_by("starts_at").values_list("pk", "alliance_id", "starts_at")
    ):
        held[alliance_id].append((meeting_id, starts_at))
    weights = [len(members) for members in members_by_alliance.values()]
    counts, open_counts = _shares(total, weights), _shares(open_total, weights)
    signed_in_ids = {user.pk for user in signed_in}
    rows = []
    for (alliance, members), count, open_count in zip(members_by_alliance.items(), counts, open_counts, strict=True):
        mine = [m for m in members if m.user_id in signed_in_ids]
        others = [m for m in members if m.user_id not in signed_in_ids] or members
        meetings = held.get(alliance.pk, [])
        for number in range(count):
            # The newest are open (due around today); the older ones are done or, a few, dropped.
            is_open = number >= count - open_count
            owner = rng.choice(mine) if mine and rng.random() < SIGNED_IN_SHARE * len(mine) else rng.choice(others)
            meeting = meetings[min(len(meetings) - 1, number * len(meetings) // count)] if meetings else None
            created = meeting[1] if meeting else now - timedelta(days=rng.randint(1, 700))
            if is_open:
                due_on = today + timedelta(days=rng.randint(-21, 35))
            else:
                due_on = created.date() + timedelta(days=rng.randint(3, 28))
            dropped = not is_open and rng.random() < DROPPED_SHARE
            rows.append(
                Todo(
                    alliance=alliance,
                    meeting_id=meeting[0] if meeting and rng.random() < 0.8 else None,
                    text=rng.choice(TEXTS),
                    owner=owner,
                    due_on=due_on,
                    status=Todo.Status.OPEN if is_open else Todo.Status.DROPPED if dropped else Todo.Status.DONE,
                    drop_reason=rng.choice(DROP_REASONS) if dropped else "",
                    done_at=None if is_open or dropped else created + timedelta(days=rng.randint(1, 20)),
                    created_by=owner,
                    created_at=created,
                    updated_at=created,
                )
            )
    Todo.objects.bulk_create(rows, batch_size=5000)
    versions.bump(*(alliance.pk for alliance in members_by_alliance))
    return len(rows)


def _shares(total: int, weights: list[int]) -> list[int]:
    """`total` split in proportion to `weights`, exactly (the largest remainders get the units left over)."""
    whole = sum(weights)
    exact = [total * weight / whole for weight in weights]
    shares = [int(part) for part in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: exact[i] - shares[i], reverse=True)
    for i in by_remainder[: total - sum(shares)]:
        shares[i] += 1
    return shares
