"""A form on the open web is used to mail-bomb strangers: the limits under bounded bursts on the
real endpoint (waitress) with a real SMTP server (aiosmtpd), and every bad input answered clearly
with no mail and no traceback on the server's stderr."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

from endpoint_helpers import request
from signup_helpers import (
    CONSENT,
    FORM,
    events,
    mails_to,
    post_form,
    sign_up,
    signup_endpoint,
    signup_project,
    wait_for,
)
from smtp_server import Server


def error_of(answer) -> str:
    """The first error message on a form page given back."""
    found = re.search(r'<p class="error"[^>]*>(.*?)</p>', answer.text)
    assert found, answer.text
    return found.group(1)


def test_the_same_address_a_thousand_times_gets_one_mail(factory) -> None:
    project, port = signup_project(factory)
    with Server() as mail, signup_endpoint(project, port, mail):
        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(lambda i: sign_up(port, "target@example.org").status,
                                    range(1000)))
        assert answers == [200] * 1000  # the same page each time: it tells nobody anything
        wait_for(lambda: mails_to(mail, "target@example.org"), "the confirmation mail")
        # A differently spelt address is the same mailbox (compared without regard to case).
        assert sign_up(port, "TARGET@Example.org").status == 200
    assert len(mail.received) == 1
    assert [e["kind"] for e in events(project)] == ["signup"]


def test_five_hundred_addresses_in_a_minute_get_at_most_the_hourly_cap(factory) -> None:
    project, port = signup_project(factory, extra="  hourly_cap: 100\n")
    with Server() as mail:
        with signup_endpoint(project, port, mail) as served:
            with ThreadPoolExecutor(4) as pool:
                statuses = list(pool.map(lambda i: sign_up(port, f"r{i}@example.org").status,
                                         range(500)))
            assert sorted(set(statuses)) == [200, 429]
            assert statuses.count(200) == 100
            refused = sign_up(port, "late@example.org")
            assert refused.status == 429
            assert refused.headers["retry-after"] == "3600"
            assert "<h1>Please try again later</h1>" in refused.text
            wait_for(lambda: len(mail.received) >= 100, "100 confirmation mails")
        ours = [line for line in served.stderr.splitlines()  # waitress: "Task queue depth"
                if not line.startswith("Task queue depth is ")]
        assert ours == ["briefing endpoint: sign-up cap reached: 100 confirmation mails in the "
                        "last hour; answering 429 until the hour has room"]  # once, for 400
        assert len(mail.received) == 100
        # A restart forgets nothing: the hour is still full, and the addresses mailed today
        # are still mailed today.
        with signup_endpoint(project, port, mail):
            assert sign_up(port, "new-after-restart@example.org").status == 429
    assert len(mail.received) == 100
    assert len(events(project)) == 100


def test_a_filled_in_honeypot_gets_the_same_page_and_no_mail(factory) -> None:
    project, port = signup_project(factory)
    with Server() as mail, signup_endpoint(project, port, mail):
        bot = [sign_up(port, f"bot{i}@example.org", website="http://spam.invalid/")
               for i in range(50)]
        person = sign_up(port, "person@example.org")
        assert {(a.status, a.text) for a in bot} == {(200, person.text)}
        wait_for(lambda: mails_to(mail, "person@example.org"), "the person's mail")
    assert [m.rcpt_tos for m in mail.received] == [["person@example.org"]]
    assert len(events(project)) == 1


FIELDS = {"address": "ok@example.org", "name": "", "website": "", "consent": CONSENT,
          "page": ""}


def test_every_bad_input_gets_a_clear_answer_and_no_mail(factory) -> None:
    project, port = signup_project(factory)
    long_name = "N" * 101
    table = [  # (fields changed, status, the error shown above the form)
        ({"address": ""}, 400, "Please enter your email address."),
        ({"address": "not-an-address"}, 400,
         "not-an-address is not a valid email address: write it like name@example.org."),
        ({"address": "a@b"}, 400,
         "a@b is not a valid email address: write it like name@example.org."),
        ({"address": "Ann &lt;ann@example.org&gt;".replace("&lt;", "<").replace("&gt;", ">")},
         400, "That is not an email address: write only the address, like name@example.org."),
        ({"address": "a@example.org\r\nBcc: x@example.org"}, 400,
         "That is not an email address: write only the address, like name@example.org."),
        ({"address": "x" * 250 + "@example.org"}, 400,
         "That is not an email address: write only the address, like name@example.org."),
        ({"address": "ann@exämple.org"}, 400,
         "ann@exämple.org has non-ASCII characters, which need SMTPUTF8; this newsletter "
         "sends to plain ASCII addresses only. Write the domain in its ASCII form: "
         "ann@xn--exmple-cua.org."),
        ({"address": "änn@example.org"}, 400,
         "änn@example.org has non-ASCII characters, which need SMTPUTF8; this newsletter "
         "sends to plain ASCII addresses only. Use an ASCII address for this reader; the "
         "domain&#x27;s ASCII form is example.org."),
        ({"name": long_name}, 400, "Your name is longer than 100 characters."),
        ({"name": "Ann\nBcc: x@example.org"}, 400,
         "Your name must not contain line breaks or control characters."),
        ({"consent": ""}, 400,
         "This form is out of date or was not made here. Please use the form below."),
        ({"consent": "x" * 64}, 400,
         "This form is out of date or was not made here. Please use the form below."),
    ]
    with Server() as mail, signup_endpoint(project, port, mail):
        for change, status, error in table:
            answer = post_form(port, {**FIELDS, **change})
            assert (answer.status, error_of(answer)) == (status, error), change
            assert '<form method="post">' in answer.text  # the form back, to fix and resend
            assert 'name="consent" value="' + CONSENT in answer.text
        kept = post_form(port, {**FIELDS, "address": "not-an-address", "name": "<b>Ann</b>"})
        assert 'value="not-an-address"' in kept.text  # what they typed, escaped
        assert 'value="&lt;b&gt;Ann&lt;/b&gt;"' in kept.text
        assert 'aria-invalid="true" aria-describedby="address-error"' in kept.text

        raw = [  # (method, path, body, headers, status)
            ("POST", "/s", b"address=\xff@example.org", {"Content-Type": FORM}, 400),
            ("POST", "/s", b"address=%FF%40example.org&consent=" + CONSENT.encode(),
             {"Content-Type": FORM}, 400),
            ("POST", "/s", urlencode([("x", "1")] * 65).encode(), {"Content-Type": FORM}, 400),
            ("POST", "/s", b'{"address": "a@example.org"}',
             {"Content-Type": "application/json"}, 415),
            ("POST", "/s", b"address=" + b"a" * 5000, {"Content-Type": FORM}, 413),
            ("PUT", "/s", b"", {}, 405),
            ("DELETE", "/c/abc", b"", {}, 405),
            ("GET", "/s/", None, {}, 404),
        ]
        for method, path, body, headers, status in raw:
            answer = request(port, method, path, body, headers)
            assert answer.status == status, (method, path, answer.text)
            if path == "/s" and status in (400, 415):
                assert error_of(answer) == "The form could not be read. Please fill it in " \
                                           "again.", body
    assert mail.received == []
    assert events(project) == []


def test_without_signup_there_is_no_form(factory) -> None:
    from endpoint_helpers import endpoint
    project = factory()
    assert project.cli("subscribers", "endpoint-key").code == 0
    with endpoint(project) as served:
        assert request(served.port, "GET", "/s").status == 404
        assert request(served.port, "POST", "/c/abc", b"").status == 404


def test_an_endpoint_that_cannot_send_or_sign_says_so_at_start(factory, tmp_path) -> None:
    project, port = signup_project(factory, readers=())
    started = project.cli("subscribers", "serve", "--port", str(port))
    assert (started.code, started.err) == (1, (
        "briefing.yaml: error: signup: needs a way to send the confirmation mail, and there "
        "is no smtp.url (set smtp.url (send uses it too), or pass --smtp "
        "smtp://host:587)\n"))
    # An endpoint key written before sign-up existed has no sign-up line.
    key = project.root / ".briefing" / "endpoint.key"
    old = tmp_path / "old-endpoint.key"
    old.write_text("".join(line for line in key.read_text().splitlines(keepends=True)
                           if not line.startswith("signup ")))
    started = project.cli("subscribers", "serve", "--port", str(port), "--key", str(old),
                          "--smtp", "smtp://127.0.0.1:1", "--insecure")
    assert (started.code, started.err) == (1, (
        ".briefing/endpoint.key: error: has no sign-up line (it was written before sign-up "
        "existed): the form cannot make confirmation links (in the editor's project run "
        "'briefing subscribers endpoint-key', and copy .briefing/endpoint.key here again)\n"))
