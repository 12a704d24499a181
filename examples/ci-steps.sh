#!/usr/bin/env bash
# The conformance job's steps. github-actions.yml and gitlab-ci.yml carry them verbatim;
# tests/test_examples.py checks that and runs them against a reference server.
# Needs IPADLOGIN_BASE_URL and IPADLOGIN_TOKEN (CI secrets); every option of
# `ipadlogin-conformance run --help` also reads an IPADLOGIN_* variable.
# IPADLOGIN_PACKAGE overrides what is installed (a wheel, another tag or fork); the
# default is a release tag of the repository (needs git), as the README says.
set -eu
: "${IPADLOGIN_BASE_URL:?is not set: without it the run would test the embedded reference server}"
python -m pip install --quiet "${IPADLOGIN_PACKAGE:-git+https://github.com/ipadlogin-conformance/ipadlogin-conformance@v0.1.0}"
ipadlogin-conformance --version
status=0
ipadlogin-conformance run || status=$?
# On GitHub the tool appends summary.md to the job summary ($GITHUB_STEP_SUMMARY) itself;
# elsewhere the job log is the job page.
summary="${IPADLOGIN_REPORTS_DIR:-reports}/summary.md"
if [ -z "${GITHUB_STEP_SUMMARY:-}" ] && [ -f "$summary" ]; then
  cat "$summary"
fi
exit "$status"
