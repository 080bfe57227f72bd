"""A failed preview must never look like a clean one.

The stored inputs are what the real ``pulumi preview --json`` prints (exit code 1, and still a JSON
document whose ``diagnostics`` hold the errors) for a program that does not parse and for a policy
resource whose check fails; ``tests/golden/make_preview.py failures`` regenerates them, and the slow
test below does so with the real CLI. Any error, a preview cut short or input that is no preview
makes ``catoiac review`` exit 1 with a banner at the top of the Markdown."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from review_support import catoiac, ids_masked

from catoiac.drift.review import build, parse_preview, review

GOLDEN = Path(__file__).resolve().parent / "golden"
SYNTAX = GOLDEN / "preview-syntax-error.json"
RESOURCE = GOLDEN / "preview-resource-error.json"
CLEAN = GOLDEN / "review-preview.json"
BANNER = (
    "> **The preview failed: this review is incomplete. Do not approve it; fix the errors and push again.**"
)


def test_the_installed_command_reads_a_failed_preview_from_a_pipe():
    exe = shutil.which("catoiac", path=str(Path(sys.executable).parent))
    res = subprocess.run([exe, "review", "-"], input=SYNTAX.read_text(), capture_output=True, text=True)
    assert res.returncode == 1 and BANNER in res.stdout


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("CATOIAC_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()


def banner_of(markdown: str) -> str:
    """The lines from the title to the first line after the banner."""
    head = markdown.split("\n\n")
    assert head[0].startswith("## Pulumi preview review"), "the title comes first"
    assert head[1].startswith("> [!CAUTION]\n" + BANNER), "the banner comes right after the title"
    return head[1]


def test_a_program_syntax_error_fails_the_review_with_the_error_in_a_banner():
    text = SYNTAX.read_text()
    data = json.loads(text)
    assert data["changeSummary"] == {"same": 1}, "what pulumi prints: it looks like a clean, empty preview"
    res = catoiac("review", stdin=text)
    assert res.returncode == 1
    golden("review-syntax-error.md", res.stdout)
    banner = banner_of(res.stdout)
    assert "SyntaxError: '(' was never closed" in banner
    assert 'File "/home/runner/work/infra/infra/__main__.py", line 29' in banner  # the program's own frame
    assert "site-packages" not in banner  # not Pulumi's internals
    assert "_What the failed preview got to see, which is not all of it:_\n**1 unchanged**" in res.stdout
    assert "SyntaxError" in res.stderr


def test_a_resource_error_fails_the_review_and_names_the_resource():
    text = RESOURCE.read_text()
    steps = [s["urn"].rsplit("::", 1)[-1] for s in json.loads(text)["steps"]]
    assert "corp" not in steps, "the errored policy is not in the preview's steps at all"
    res = catoiac("review", stdin=text)
    assert res.returncode == 1
    golden("review-resource-error.md", res.stdout)
    banner = banner_of(res.stdout)
    assert (
        "> - InternetFirewallPolicy `corp`: property sections[0].rules[3].name value {<nil>} has a problem: "
        "rule name 'Block ads' is also used by sections[0].rules[2]" in banner
    )
    assert "Resource monitor has terminated" not in banner  # Pulumi's echo of the first error
    assert "InternetFirewallPolicy `corp`" in res.stderr


def test_an_error_diagnostic_fails_a_review_that_otherwise_has_changes():
    data = json.loads(CLEAN.read_text())
    urn = next(s["urn"] for s in data["steps"] if s["urn"].endswith("::braga-lan"))
    data["diagnostics"] = [{"urn": urn, "severity": "error", "message": "error: boom\n"}]
    report = build(data)
    assert report.failed and report.problems[0].text == "boom"
    text = report.markdown()
    assert BANNER in banner_of(text) and "> - NetworkRange `braga-lan`: boom" in text
    assert "### Site Braga" in text  # what the preview did see is still reviewed


def test_warnings_are_listed_and_do_not_fail_the_review():
    data = json.loads(CLEAN.read_text())
    data["diagnostics"] = [{"severity": "warning", "message": "warning: the provider is old\n"}]
    report = build(data)
    assert not report.failed
    assert (
        "<details><summary>1 warning(s) from pulumi</summary>\n\n- the provider is old" in report.markdown()
    )


@pytest.mark.parametrize(
    ("stdin", "reason"),
    [
        ("", "the preview is empty"),
        ("  \n", "the preview is empty"),
        (CLEAN.read_text()[:5000], "the preview is not JSON"),  # a pipe cut short
        ("Previewing update (prod):\n" + CLEAN.read_text(), "the preview is not JSON"),  # stderr mixed in
        ('{"message": "hello"}', "not a `pulumi preview --json` document"),
        ("[1, 2]", "not a `pulumi preview --json` document"),
        ('{"steps": []}', "the preview has no change summary: it did not run to the end"),
    ],
    ids=["empty", "blank", "truncated", "stderr-mixed-in", "other-json", "a-list", "no-summary"],
)
def test_unreadable_or_partial_input_fails_the_review_with_a_banner(stdin, reason):
    res = catoiac("review", stdin=stdin)
    assert res.returncode == 1
    banner = banner_of(res.stdout)
    assert reason in banner and reason in res.stderr


def test_a_failed_preview_exits_1_even_with_the_fail_on_flags_and_writes_both_outputs(tmp_path):
    out, full = tmp_path / "review.md", tmp_path / "full.md"
    res = catoiac(
        "review", str(SYNTAX), "-o", str(out), "--full-output", str(full),
        "--fail-on-destructive", "--fail-on-loosening",
    )  # fmt: skip
    assert res.returncode == 1 and res.stdout == ""
    assert BANNER in out.read_text() and BANNER in full.read_text()


def test_a_clean_preview_has_no_banner():
    text = review(json.loads(CLEAN.read_text()))
    assert "[!CAUTION]" not in text and "preview failed" not in text
    assert parse_preview(CLEAN.read_text())[1] == []


def test_problems_are_the_same_for_a_copy_with_the_steps_in_another_order():
    data = json.loads(RESOURCE.read_text())
    shuffled = copy.deepcopy(data)
    shuffled["steps"].reverse()
    assert [p.text for p in build(data).problems] == [p.text for p in build(shuffled).problems]


@pytest.mark.slow
def test_failed_previews_are_what_pulumi_prints_today(pulumi_workspace):
    """Regenerate both failed previews with the real CLI: same reviews as the stored ones."""
    sys.path.insert(0, str(GOLDEN))
    from make_preview import generate_failures

    fresh = generate_failures()
    syntax, stored = fresh["preview-syntax-error.json"], json.loads(SYNTAX.read_text())
    assert ids_masked(build(syntax).markdown()) == ids_masked(build(stored).markdown())
    # How far Pulumi got before the policy's error depends on its parallel steps: the errors do not.
    resource, stored = fresh["preview-resource-error.json"], json.loads(RESOURCE.read_text())
    assert build(resource).problems == build(stored).problems
    assert not any(s["urn"].endswith("::corp") for s in resource["steps"])


pytest_plugins = ("pulumi_helpers",)
