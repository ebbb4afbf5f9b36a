"""An SMTP server of another family than nodemailer's, for the SMTP tests: aiosmtpd.

Started by aiosmtpd-peer.ts as `python3 aiosmtpd-peer.py '<json configuration>'`. Listens on a free
loopback port and writes one JSON object a line to stdout: {"event": "listening", "port": N} first,
then {"event": "connection"} for each connection, {"event": "message", ...} for each message it
keeps (raw bytes in base64, envelope, MAIL FROM parameters, TLS, authenticated user) and
{"event": "auth-failure"} for each refused login. A line "sync" on stdin is answered with
{"event": "sync"}. It runs until stdin closes or it is terminated.

Configuration (every key optional):
  tls          "none" | "starttls" | "implicit"; cert and key are PEM file paths for the last two
  auth         {"user": ..., "pass": ...}: AUTH PLAIN and LOGIN, offered after STARTTLS only
  pipelining   advertise PIPELINING (aiosmtpd reads pipelined commands in order but does not say so)
  smtputf8     advertise SMTPUTF8 (default true)
  eightBitMime advertise 8BITMIME (default true); false also refuses any 8-bit byte in the message
  rules        faults to inject, each matching a stage and optionally a recipient, the message number
               (MAIL FROM count since start, from 1) or its number on its connection:
               {"stage": "mail" | "rcpt" | "data", "recipient": ..., "message": n, "onConnection": n,
                "reply": "421 4.7.0 ...", "action": "drop" | "accept-then-drop" | "reply-then-close",
                "times": n}
               A 421 reply closes the connection after it is sent (RFC 5321 3.8). "drop" closes it
               without a reply; at the data stage "accept-then-drop" keeps the message first, and
               "reply-then-close" keeps it, answers 250 and closes.
"""

import asyncio
import base64
import json
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

config = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
rules = [dict(rule) for rule in config.get("rules", [])]
counters = {"connections": 0, "messages": 0}


def emit(event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def matching_rule(stage, server, recipient=None):
    for rule in rules:
        if rule.get("stage") != stage:
            continue
        if "recipient" in rule and rule["recipient"] != recipient:
            continue
        if "message" in rule and rule["message"] != server.mailroom_message:
            continue
        if "onConnection" in rule and rule["onConnection"] != server.mailroom_on_connection:
            continue
        times = rule.get("times")
        if times is not None:
            if times <= 0:
                continue
            rule["times"] = times - 1
        return rule
    return None


async def hang_up(server, reply=None):
    """Sends the reply, if any, and ends the connection; returns only by being cancelled."""
    transport = server.transport
    if reply is not None:
        await server.push(reply)
    if transport.can_write_eof():
        # A FIN after the reply: commands the client pipelined meanwhile are read, not answered
        # with a reset that could destroy the reply before the client reads it.
        transport.write_eof()
    else:
        transport.close()
    try:
        await asyncio.Future()
    finally:
        transport.close()


def keep(server, session, envelope):
    auth = session.auth_data
    emit({
        "event": "message",
        "connection": server.mailroom_connection,
        "number": server.mailroom_message,
        "onConnection": server.mailroom_on_connection,
        "from": envelope.mail_from,
        "to": list(envelope.rcpt_tos),
        "mailOptions": list(envelope.mail_options),
        "secure": session.ssl is not None or config.get("tls") == "implicit",
        "user": auth.login.decode("utf-8") if isinstance(auth, LoginPassword) else None,
        "raw": base64.b64encode(envelope.original_content).decode("ascii"),
    })


class Handler:
    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if config.get("pipelining"):
            responses.insert(1, "250-PIPELINING")
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        counters["messages"] += 1
        server.mailroom_message = counters["messages"]
        server.mailroom_on_connection += 1
        rule = matching_rule("mail", server)
        if rule:
            return await self.act(server, rule)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        rule = matching_rule("rcpt", server, address)
        if rule:
            return await self.act(server, rule)
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        rule = matching_rule("data", server)
        action = rule.get("action") if rule else None
        if rule and action is None:
            return await self.act(server, rule)
        if action == "drop":
            await hang_up(server)
        keep(server, session, envelope)
        if action == "accept-then-drop":
            await hang_up(server)
        if action == "reply-then-close":
            await hang_up(server, "250 2.0.0 OK: queued")
        return "250 2.0.0 OK: queued"

    async def act(self, server, rule):
        reply = rule.get("reply")
        if rule.get("action") == "drop" or reply is None:
            await hang_up(server)
        if reply.startswith("421"):
            await hang_up(server, reply)
        return reply


def authenticator(server, session, envelope, mechanism, auth_data):
    expected = config.get("auth")
    if expected and isinstance(auth_data, LoginPassword):
        if auth_data.login.decode() == expected["user"] and auth_data.password.decode() == expected["pass"]:
            return AuthResult(success=True, auth_data=auth_data)
    emit({"event": "auth-failure"})
    return AuthResult(success=False, handled=False)


class PeerSMTP(SMTP):
    """Counts connections and the messages on each; kept here, as STARTTLS starts a new session."""

    def connection_made(self, transport):
        first = self.transport is None
        super().connection_made(transport)
        if first:
            counters["connections"] += 1
            self.mailroom_connection = counters["connections"]
            self.mailroom_on_connection = 0
            self.mailroom_message = 0
            emit({"event": "connection", "id": counters["connections"]})


def tls_context():
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(config["cert"], config["key"])
    return context


async def main():
    tls = config.get("tls", "none")
    context = tls_context() if tls in ("starttls", "implicit") else None
    handler = Handler()

    def factory():
        return PeerSMTP(
            handler,
            hostname="aiosmtpd.test",
            tls_context=context if tls == "starttls" else None,
            require_starttls=False,
            authenticator=authenticator if config.get("auth") else None,
            auth_require_tls=tls != "none",
            enable_SMTPUTF8=config.get("smtputf8", True),
            decode_data=not config.get("eightBitMime", True),
            data_size_limit=64 * 1024 * 1024,
        )

    loop = asyncio.get_running_loop()
    server = await loop.create_server(factory, "127.0.0.1", 0, ssl=context if tls == "implicit" else None)
    emit({"event": "listening", "port": server.sockets[0].getsockname()[1]})
    # A "sync" line on stdin is answered once every event before it has been written, so the
    # test can wait for what the server saw; stdin closing (the test is done) ends the server.
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = await reader.readline()
        if not line:
            break
        if line.strip() == b"sync":
            emit({"event": "sync"})
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
