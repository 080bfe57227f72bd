"""``catoiac review`` on a stored, real ``pulumi preview --json`` (creates, updates, a replace, deletes,
firewall rule moves, a secret): the Markdown must match the golden file byte for byte.

Regenerate the preview with ``tests/golden/make_preview.py``; rewrite the golden Markdown after an
intended change with ``CATOIAC_UPDATE_GOLDEN=1``."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from review_support import ids_masked

from catoiac.drift.review import publishes, review, steps_of

GOLDEN = Path(__file__).resolve().parent / "golden"
PREVIEW = GOLDEN / "review-preview.json"
EXPECTED = GOLDEN / "review.md"


def preview() -> dict:
    return json.loads(PREVIEW.read_text())


def test_review_of_the_stored_preview_matches_the_golden_markdown():
    text = review(preview())
    if os.environ.get("CATOIAC_UPDATE_GOLDEN"):
        EXPECTED.write_text(text)
    assert text == EXPECTED.read_text()


def test_rule_moves_are_moves_and_one_publish_per_changed_policy():
    steps, _ = steps_of(preview())
    corp = next(s for s in steps if s.name == "corp")
    moves = [(c.item, c.desired, c.live) for c in corp.changes if c.op == "moved"]
    assert moves == [
        ("Block ads", {"section": "Corporate", "index": 0}, {"section": "Corporate", "index": 2}),
        ("Guest web", {"section": "Guests", "index": 0}, {"section": "Guests", "index": 1}),
    ]
    assert publishes(steps) == 1


def test_replacements_and_deletions_are_called_out_as_destructive():
    text = review(preview())
    warning = text.split("> [!WARNING]")[1].split("###")[0]
    assert (
        "**replace** SocketSite `porto` (Porto · 10.41.0.0/24)" in warning and "`connection_type`" in warning
    )
    assert "**delete** SocketSite `faro` (Faro · 10.42.0.0/24)" in warning
    assert "**delete** NetworkRange `faro-lab` (Lab · 10.42.8.0/24)" in warning


def test_children_are_grouped_under_their_site_even_when_the_site_is_new():
    text = review(preview())
    braga = text.split("### Site Braga")[1].split("###")[0]
    assert "create NetworkRange <code>braga-lan</code> (LAN · 10.43.8.0/24)" in braga
    assert "| `site_id` | _(the new site Braga, known after up)_ |" in braga


def test_secret_inputs_stay_masked_even_when_the_preview_shows_them():
    data = preview()
    assert "md5-key" not in PREVIEW.read_text()
    leaked = copy.deepcopy(data)
    for step in leaked["steps"]:
        if step["urn"].endswith("::lisbon-core"):
            step["newState"]["inputs"]["md5_auth_key"] = "plain-md5-key"
    text = review(leaked)
    assert "plain-md5-key" not in text
    assert "| `metric` | `100` | `50` |" in text  # the rest of the step is still reviewed


def test_the_review_command_reads_stdin_and_exits_2_on_destructive_changes_only_when_asked():
    exe = shutil.which("catoiac", path=str(Path(sys.executable).parent))
    plain = subprocess.run([exe, "review"], input=PREVIEW.read_text(), capture_output=True, text=True)
    assert plain.returncode == 0 and plain.stdout == EXPECTED.read_text()
    strict = subprocess.run(
        [exe, "review", str(PREVIEW), "--fail-on-destructive"], capture_output=True, text=True
    )
    assert strict.returncode == 2
    bad = subprocess.run([exe, "review"], input="not json", capture_output=True, text=True)
    assert bad.returncode == 1 and "pulumi preview --json" in bad.stderr
    assert bad.stdout.startswith("## Pulumi preview review") and "> **The preview failed" in bad.stdout


@pytest.mark.slow
def test_stored_preview_is_what_pulumi_produces_today(pulumi_workspace):
    """The golden input is a real preview: regenerate it against the emulator and compare reviews."""
    sys.path.insert(0, str(GOLDEN))
    from make_preview import generate

    assert ids_masked(review(generate())) == ids_masked(EXPECTED.read_text())


pytest_plugins = ("pulumi_helpers",)
