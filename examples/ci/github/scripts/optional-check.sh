#!/usr/bin/env bash
# PLACEHOLDER RUNNER: `catoiac doctor` (issue #15) and `catoiac health` (issue #13) do not exist yet.
#
#   optional-check.sh doctor --stack prod
#   optional-check.sh health --stack prod --wait 5m
#
# Runs `catoiac <command> <args>` when the installed catoiac has that command, and fails the step
# when it fails. Until then it prints a notice and succeeds, so the workflows can already name the
# step; once catoiac ships the command, the step starts gating with no workflow change.
set -euo pipefail

cmd="${1:?usage: optional-check.sh COMMAND [ARGS...]}"
shift
if catoiac "$cmd" --help >/dev/null 2>&1; then
  exec catoiac "$cmd" "$@"
fi
echo "::notice::catoiac $cmd is not available in this catoiac version yet: step skipped (placeholder)"
