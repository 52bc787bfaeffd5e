"""A real SMTP server for integration tests: aiosmtpd in a thread, recording what it accepts.

It counts SMTP sessions (one EHLO or HELO per connection that sends), keeps the Message-ID and envelope
recipients of every message it accepted (answered 250), and can be told to
- refuse the next N messages at DATA (a temporary 451 unless `refuse_code` says otherwise),
- refuse the next N recipients at RCPT with a temporary 450,
- hold one DATA (the Nth overall) unanswered until released, to kill a worker while it waits,
- take `data_delay` seconds before answering each DATA (a slow server), or `hold_seconds` before
  accepting the held one instead of refusing it, and
- call `on_accept(number)` just before answering 250 to the Nth DATA (to cut the worker's database
  connection right at that moment).

A refused or held message was never accepted, so it is not recorded: a correct sender tries it again.
"""

import asyncio
import email
import socket
import threading
from collections import Counter
from dataclasses import dataclass

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class Received:
    message_id: str
    recipients: tuple[str, ...]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RecordingHandler:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.received: list[Received] = []
        self.sessions = 0
        self.data_commands = 0
        self.refused = 0
        self.refuse_next = 0
        self.refuse_code = "451 4.3.0 Try again later"
        self.refuse_rcpt_next = 0
        self.refused_rcpt = 0
        self.data_delay = 0.0
        self.hold_seconds: float | None = None
        self.on_accept = None
        self.hold_data_number: int | None = None
        self.holding = threading.Event()  # set while the held DATA waits
        self.release = threading.Event()  # set by the test to let the held DATA end (with a 451)

    # --- Hooks called by aiosmtpd ----------------------------------------------------------------

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        with self._lock:
            self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_HELO(self, server, session, envelope, hostname):
        with self._lock:
            self.sessions += 1
        session.host_name = hostname
        return f"250 {server.hostname}"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self._lock:
            refuse = self.refuse_rcpt_next > 0
            if refuse:
                self.refuse_rcpt_next -= 1
                self.refused_rcpt += 1
        if refuse:
            return "450 4.2.1 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self.data_commands += 1
            number = self.data_commands
            refuse = self.refuse_next > 0
            if refuse:
                self.refuse_next -= 1
                self.refused += 1
        if refuse:
            return self.refuse_code
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        if number == self.hold_data_number:
            self.holding.set()
            if self.hold_seconds is not None:
                await asyncio.sleep(self.hold_seconds)  # then accepted: the sender may have stopped listening
            else:
                # Poll instead of blocking: the event loop serves every other connection meanwhile.
                while not self.release.is_set():
                    await asyncio.sleep(0.02)
                return "451 4.3.0 Held and never accepted"
        parsed = email.message_from_bytes(envelope.content)
        with self._lock:
            # Recorded as accepted before the answer leaves: from here on the server has taken the message.
            self.received.append(
                Received(message_id=parsed["Message-ID"], recipients=tuple(r.lower() for r in envelope.rcpt_tos))
            )
        if self.on_accept is not None:
            self.on_accept(number)
        return "250 Message accepted for delivery"

    # --- Reading the record --------------------------------------------------------------------

    def snapshot(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def by_recipient(self) -> Counter:
        return Counter(r for message in self.snapshot() for r in message.recipients)

    def by_message_id(self) -> Counter:
        return Counter(message.message_id for message in self.snapshot())


class RecordingSMTPServer:
    """`with RecordingSMTPServer() as server:` serves on server.host:server.port until the block ends.

    What it saw is in `server.handler` (a RecordingHandler).
    """

    def __init__(self) -> None:
        self.handler = RecordingHandler()
        self.host = "127.0.0.1"
        self.port = free_port()
        # The hostname matters: without it the Controller binds to ::1 only.
        self.controller = Controller(self.handler, hostname=self.host, port=self.port)

    def __enter__(self) -> "RecordingSMTPServer":
        self.controller.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.handler.release.set()
        self.controller.stop()
