"""How `send` knows message.eml is current: the build's record (.briefing/builds/<ISSUE>.json)
when it matches, a render and a byte comparison when it does not. A table of real changes made
after a build, and what the dry run says for each."""

from __future__ import annotations

import re

import pytest

from conftest import BRIEF, ISSUE, make_project

SEND = ("send", "--smtp", "smtp://127.0.0.1:9", "--insecure")
STALE = ("out/2026-W07/message.eml: error: is out of date with the briefs (or was edited) "
         "(run 'briefing build 2026-W07' first)\n")
TEMPLATE = "<mjml><mj-body><mj-section><mj-column><mj-text>{{ issue.title }}</mj-text>" \
           "</mj-column></mj-section></mj-body></mjml>\n"


def _imports(stderr: str) -> set[str]:
    return {m.split(".")[0] for m in re.findall(r"^import time:[^|]*\|[^|]*\| *(\S+)$", stderr,
                                                   re.MULTILINE)}


def _edit_brief(root) -> None:
    (root / "briefs/2026-W07/issue.yaml").write_text(ISSUE.replace("A test issue", "Renamed"))


def _same_brief_again(root) -> None:  # saved again, the same bytes: still current
    path = root / "briefs/2026-W07/industry.yaml"
    path.write_bytes(path.read_bytes())


def _edit_message(root) -> None:
    path = root / "out/2026-W07/message.eml"
    path.write_bytes(path.read_bytes().replace(b"A test issue", b"A tost issue"))


def _no_record(root) -> None:  # built by an older briefing: rendered and compared
    (root / ".briefing/builds/2026-W07.json").unlink()


def _damaged_record(root) -> None:
    (root / ".briefing/builds/2026-W07.json").write_text("{not json")


def _template_without_effect(root) -> None:  # the record differs, the rendered bytes do not
    (root / "templates").mkdir()
    (root / "templates/unused.txt").write_text("notes\n")


def _template_with_effect(root) -> None:
    (root / "templates").mkdir()
    (root / "templates/email.mjml.j2").write_text(TEMPLATE)


def _config_comment(root) -> None:  # briefing.yaml saved with a comment: same message
    path = root / "briefing.yaml"
    path.write_text(path.read_text() + "# a note\n")


@pytest.mark.parametrize("change, error, rendered", [
    (None, "", False),
    (_same_brief_again, "", False),
    (_edit_brief, STALE, True),
    (_edit_message, STALE, True),
    (_no_record, "", True),
    (_damaged_record, "", True),
    (_template_without_effect, "", True),
    (_template_with_effect, STALE, True),
    (_config_comment, "", True),
], ids=lambda v: getattr(v, "__name__", None) or repr(v)[:20])
def test_send_proves_the_message_current(tmp_path, change, error, rendered) -> None:
    project = make_project(tmp_path / "news", briefs={"industry.yaml": BRIEF})
    assert project.cli("build").code == 0
    assert (project.root / ".briefing/builds/2026-W07.json").is_file()
    if change is not None:
        change(project.root)
    result = project.cli(*SEND, env={"PYTHONPROFILEIMPORTTIME": "1"})
    imports = _imports(result.err)
    # The preflight's deliverability warnings (no dkim:, init's example.org) are not errors.
    messages = "".join(line + "\n" for line in result.err.splitlines()
                       if not line.startswith(("import time:", "warning: ")))
    assert (result.code, messages) == ((1, error) if error else (0, ""))
    # Rendering needs the templates and MJML; a matching record needs neither.
    assert ({"jinja2", "mjml"} <= imports) is rendered, imports & {"jinja2", "mjml"}
    if not error:
        assert "would send: 1 message" in result.out
        assert project.cli("build").code == 0  # a rebuild writes the record again
        assert "jinja2" not in _imports(project.cli(
            *SEND, env={"PYTHONPROFILEIMPORTTIME": "1"}).err)
