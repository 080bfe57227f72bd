#!/usr/bin/env bash
# Preview the stack and turn the preview into the pull request's review.
#
# Environment:
#   STACK               the stack to preview (required)
#   PULUMI_CWD          the Pulumi project folder [default: .]
#   OUT_DIR             where review.md (the comment), review-full.md and preview.json go [default: catoiac-review]
#   REVIEW_FLAGS        extra `catoiac review` flags, e.g. "--fail-on-destructive --fail-on-loosening"
#   NAMES_FROM_STACKS   other stacks (space-separated) whose sites this program refers to by id
#   FULL_REPORT_URL     where readers find review-full.md when the comment is cut (the run's page)
#
# Exit code: catoiac review's. 0: a clean review; 1: the preview failed (an error, a preview cut
# short, or no preview at all: review.md then opens with a banner saying so); 2: REVIEW_FLAGS found
# destructive or security-loosening changes. review.md is written in every case, so the comment
# step can post it even when this step fails.
set -euo pipefail

: "${STACK:?set STACK to the stack to preview}"
cwd="${PULUMI_CWD:-.}"
out="${OUT_DIR:-catoiac-review}"
mkdir -p "$out"
state_dir="$(mktemp -d)" # the state holds encrypted secrets: never next to the uploaded artifacts
trap 'rm -rf "$state_dir"' EXIT

review_args=(--stack "$STACK" -o "$out/review.md" --full-output "$out/review-full.md")
[ -z "${FULL_REPORT_URL:-}" ] || review_args+=(--full-report-url "$FULL_REPORT_URL")
# The preview lists only what changes: the stack's state names the sites that do not.
if pulumi stack export --stack "$STACK" --cwd "$cwd" >"$state_dir/state.json" 2>/dev/null; then
  review_args+=(--state-file "$state_dir/state.json")
fi
for other in ${NAMES_FROM_STACKS:-}; do
  review_args+=(--names-from-stack "$other")
done
# shellcheck disable=SC2206 # REVIEW_FLAGS is a list of flags
review_args+=(${REVIEW_FLAGS:-})

# pipefail: a preview that fails without printing JSON still fails this step. Only pulumi's
# standard output goes into the pipe; its errors stay in the job log.
status=0
pulumi preview --json --stack "$STACK" --cwd "$cwd" --non-interactive |
  tee "$out/preview.json" |
  catoiac review - --cwd "$cwd" "${review_args[@]}" || status=$?

case "$status" in
0) echo "catoiac review: the review is clean" ;;
2) echo "::error::catoiac review: destructive or security-loosening changes (see the review comment)" ;;
*) echo "::error::the preview failed (exit $status): the review comment says why" ;;
esac
exit "$status"
