"""A review fits in a GitHub comment (at most 65,536 characters): summary first, details in
``<details>`` blocks, cut with a pointer to the full review, which ``--full-output`` keeps whole.

``fleet-preview.json.gz`` is the real first preview of a 60-branch fleet (60 sites, 120 ranges, 60
hosts, 120 firewall rules in 6 sections: ``tests/golden/make_preview.py fleet``)."""

from __future__ import annotations

import gzip
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from catoiac.cli import main
from catoiac.cli.review import DEFAULT_MAX_SIZE
from catoiac.drift.review import GITHUB_COMMENT_LIMIT, build, parse_preview

GOLDEN = Path(__file__).resolve().parent / "golden"
FLEET = GOLDEN / "fleet-preview.json.gz"


@pytest.fixture(scope="module")
def fleet_text() -> str:
    return gzip.decompress(FLEET.read_bytes()).decode()


@pytest.fixture(scope="module")
def cut(fleet_text, tmp_path_factory) -> tuple[str, str]:
    """(comment, full review) as the CLI writes them."""
    tmp = tmp_path_factory.mktemp("fleet")
    res = CliRunner().invoke(main, ["review", "-", "--full-output", str(tmp / "full.md")], input=fleet_text)
    assert res.exit_code == 0, res.output
    return res.stdout, (tmp / "full.md").read_text()


def balanced(text: str) -> bool:
    return text.count("<details") == text.count("</details>") and text.count("<summary>") == text.count(
        "</summary>"
    )


def test_the_fleet_review_is_cut_to_fit_a_github_comment(cut):
    comment, full = cut
    assert len(full.encode()) > 100_000, "the whole review would not fit"
    assert len(comment.encode()) <= DEFAULT_MAX_SIZE < GITHUB_COMMENT_LIMIT
    assert balanced(comment) and balanced(full)
    assert "> **Details are cut to fit a pull-request comment.** The full review: `" in comment
    assert re.search(r"\n_\d+ of 241 resource change\(s\)(, and part of one more,)? are not shown here\. Full review: `[^`]+full\.md`, kept with this run\._\n$", comment)  # fmt: skip


def test_the_summary_comes_first_and_names_every_site(cut):
    comment, _ = cut
    head = comment.split("\n### ", 1)[0]
    if os.environ.get("CATOIAC_UPDATE_GOLDEN"):
        (GOLDEN / "review-fleet-head.md").write_text(re.sub(r"`[^`]*full\.md`", "`FULL`", head))
    assert re.sub(r"`[^`]*full\.md`", "`FULL`", head) == (GOLDEN / "review-fleet-head.md").read_text()
    assert head.startswith(
        "## Pulumi preview review · stack `fleet` (project `catoiac-test`)\n\n**242 to create**"
    )
    for i in range(1, 61):
        assert f"\n| Site Branch {i:02d} | create 4 |" in head
    assert comment.index("| Site Branch 60 |") < comment.index("<details")


def test_the_full_review_holds_every_change(cut):
    _, full = cut
    assert full.count("<details") == 241
    assert len(re.findall(r"\*\*new rule `Branch \d\d: (block social|guests web only)`\*\*", full)) == 120
    for i in range(1, 61):
        assert f"\n### Site Branch {i:02d}\n" in full
    assert "Details are cut" not in full


def test_the_pointer_can_be_a_link_and_the_limit_can_be_lifted(fleet_text):
    url = "https://github.com/acme/netops/actions/runs/42"
    res = CliRunner().invoke(main, ["review", "-", "--full-report-url", url], input=fleet_text)
    assert f"The full review: [the full review]({url})." in res.stdout
    whole = CliRunner().invoke(main, ["review", "-", "--max-size", "0"], input=fleet_text)
    assert "Details are cut" not in whole.stdout and whole.stdout.count("<details") == 241


@pytest.mark.parametrize("limit", [20_000, 3_000, 800])
def test_any_limit_is_kept_even_when_the_summary_alone_is_longer(fleet_text, limit):
    data, _ = parse_preview(fleet_text)
    text = build(data).markdown(limit=limit, pointer="`review-full.md`")
    assert len(text.encode()) <= limit
    assert text.startswith("## Pulumi preview review · stack `fleet`") and balanced(text)
    assert text.rstrip().endswith("Full review: `review-full.md`._")


def test_a_small_review_is_not_cut_and_its_details_are_open():
    text = (GOLDEN / "review.md").read_text()
    assert "Details are cut" not in text and "<details open>" in text and "<details>" not in text
