"""The queue life cycle, end to end: trace headers at final delivery,
retries with backoff, the delay warning and the failure notification
(RFC 3464, parsed back with Python's email package), no notification
for the null sender, a notification to a remote sender that waits in
the queue, and the `netjes queue` command against a running daemon.

A Maildir is broken by putting a plain file where its directory should
be (a temporary failure even for root); short durations in the config
make the life cycle run in seconds. Waits poll for results, never sleep
for a fixed time.
"""

import email
import email.policy
import json
import mailbox
import re
import smtplib
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lib"))
import daemon as d  # noqa: E402

ALICE = "alice@example.test"
BOB = "bob@example.test"
USERS = [ALICE, BOB]
FAST = """
[limits]
banner_delay = 0

[delivery]
retry_interval = 1
retry_max = 1
queue_lifetime = 4
delay_warning = 1
"""
SLOW = """
[limits]
banner_delay = 0

[delivery]
retry_interval = 1h
"""


def send(srv, sender, rcpts, msgid, subject="test"):
    lst = srv.listener("smtp")
    body = (f"From: <{sender or 'nobody@remote.example'}>\r\n"
            f"To: <{rcpts[0]}>\r\nSubject: {subject}\r\n"
            f"Message-ID: <{msgid}>\r\n\r\nhello\r\n")
    with smtplib.SMTP(lst.address, lst.port, timeout=d.IO_TIMEOUT) as c:
        c.ehlo("client.example")
        c.sendmail(sender, rcpts, body)
    m = re.findall(r"queue_id=(\w+) from=<[^>]*> nrcpt", srv.stderr())
    return m[-1]


def messages(srv, addr):
    path = srv.maildir(addr)
    if not (path / "new").is_dir():
        return []
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.compat32)
            for p in sorted((path / "new").iterdir())]


def break_maildir(srv, addr):
    path = srv.maildir(addr)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("not a directory\n")
    return path


def queue_cli(srv, *args):
    r = subprocess.run([d.netjes_bin(), "queue", *args, "-c",
                        str(srv.config_path)], capture_output=True,
                       text=True, timeout=30, env=d.sanitizer_env())
    return r


def test_return_path_and_delivered_to_on_top(tmp_path):
    srv = d.Daemon(tmp_path, users=USERS, extra=FAST).start()
    try:
        send(srv, "sender@remote.example", [ALICE], "rp@test")
        send(srv, "", [BOB], "null@test")
        d.wait_for(lambda: messages(srv, ALICE) and messages(srv, BOB),
                   d.IO_TIMEOUT, "both delivered")
        raw = next((srv.maildir(ALICE) / "new").iterdir()).read_bytes()
        lines = raw.split(b"\n")
        assert lines[0] == b"Return-Path: <sender@remote.example>"
        assert lines[1] == b"Delivered-To: alice@example.test"
        assert lines[2].startswith(b"Authentication-Results:")
        assert messages(srv, BOB)[0]["Return-Path"] == "<>"
        # the spool file is not rewritten: the queue is empty again
        srv.wait_log("op=remove", count=2)
        assert list((srv.data_dir / "spool" / "queue").iterdir()) == []
    finally:
        srv.assert_clean_stop()


def dsn_parts(msg):
    assert msg.get_content_type() == "multipart/report"
    assert msg.get_param("report-type") == "delivery-status"
    parts = msg.get_payload()
    assert [p.get_content_type() for p in parts] == [
        "text/plain", "message/delivery-status", "text/rfc822-headers"]
    # message/delivery-status: the per-message block, then one per rcpt
    blocks = parts[1].get_payload()
    return parts[0].get_payload(), blocks, parts[2].get_payload()


def test_delay_warning_then_failure_dsn_to_local_sender(tmp_path):
    srv = d.Daemon(tmp_path, users=USERS, extra=FAST).start()
    try:
        break_maildir(srv, ALICE)
        qid = send(srv, BOB, [ALICE], "doomed@test", subject="doomed")
        d.wait_for(lambda: len(messages(srv, BOB)) >= 2, 20,
                   "the delayed and the failed DSN")
        log = srv.stderr()
        assert log.count(f"event=deliver.dsn queue_id={qid}") == 2
        assert log.count("event=deliver.deferred") >= 2
        delayed, failed = messages(srv, BOB)[:2]
        for m in (delayed, failed):
            assert m["Return-Path"] == "<>"
            assert m["To"] == f"<{BOB}>"
            assert m["Auto-Submitted"] == "auto-replied"
        text, blocks, headers = dsn_parts(delayed)
        assert blocks[0]["Reporting-MTA"] == "dns; mx.example.test"
        assert blocks[0]["Arrival-Date"]
        assert blocks[1]["Final-Recipient"] == f"rfc822; {ALICE}"
        assert blocks[1]["Action"] == "delayed"
        assert blocks[1]["Status"].startswith("4.")
        text, blocks, headers = dsn_parts(failed)
        assert blocks[1]["Action"] == "failed"
        assert blocks[1]["Status"].startswith("4.")
        assert "gave up" in blocks[1]["Diagnostic-Code"]
        assert "Not a directory" in text and ALICE in text
        assert "Message-ID: <doomed@test>" in headers
        assert "Subject: doomed" in headers
        assert "hello" not in headers
        # the original is gone from the queue; the DSN was delivered
        srv.wait_log(f"queue_id={qid} op=remove")
        assert not (srv.data_dir / "spool" / "queue" / f"{qid}.env").exists()
    finally:
        srv.assert_clean_stop()


def test_no_dsn_for_null_sender(tmp_path):
    srv = d.Daemon(tmp_path, users=USERS, extra=FAST).start()
    try:
        break_maildir(srv, ALICE)
        qid = send(srv, "", [ALICE], "bounce@test")
        srv.wait_log(f"event=deliver.failed queue_id={qid}", timeout=20)
        srv.wait_log(f"queue_id={qid} op=remove")
        log = srv.stderr()
        assert "dsn=no" in log
        assert "event=deliver.dsn " not in log
        assert messages(srv, BOB) == []
    finally:
        srv.assert_clean_stop()


def test_dsn_to_remote_sender_waits_in_queue(tmp_path):
    extra = FAST.replace("queue_lifetime = 4", "queue_lifetime = 3")
    srv = d.Daemon(tmp_path, users=USERS, extra=extra).start()
    try:
        break_maildir(srv, ALICE)
        qid = send(srv, "far@remote.example", [ALICE], "remote@test")
        srv.wait_log(f"event=deliver.dsn queue_id={qid} dsn_id=", count=2,
                     timeout=20)
        dsn_id = re.findall(rf"event=deliver.dsn queue_id={qid} "
                            r"dsn_id=(\w+) to=<far@remote.example> "
                            r"action=failed", srv.stderr())[0]
        env = srv.data_dir / "spool" / "queue" / f"{dsn_id}.env"
        d.wait_for(lambda: env.exists() and "outbound" in env.read_text(),
                   d.IO_TIMEOUT, "the DSN waiting for outbound delivery")
        text = env.read_text()
        assert "rcpt addr=far@remote.example" in text
        assert "\nfrom -\n" in text and "no-dsn 1" in text
        # it is dropped at the end of its own lifetime, with no DSN
        # about it (its sender is null): no loop
        srv.wait_log(f"event=deliver.failed queue_id={dsn_id}", timeout=20)
        srv.wait_log(f"queue_id={dsn_id} op=remove")
        assert srv.stderr().count("event=deliver.dsn ") == 2
    finally:
        srv.assert_clean_stop()
