"""The GitHub workflows are valid YAML, and ci.yml runs .ci/run on Debian 12 for every change.

Nothing here can run GitHub Actions; this catches a workflow that would not even load.
"""

from __future__ import annotations

from pathlib import Path

import yaml

WORKFLOWS = Path(__file__).resolve().parents[1] / ".github" / "workflows"


def test_every_workflow_parses() -> None:
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert files
    for path in files:
        workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert isinstance(workflow, dict) and workflow.get("jobs"), path.name


def test_ci_runs_the_ci_script_on_debian_12_for_pushes_and_pull_requests() -> None:
    workflow = yaml.safe_load((WORKFLOWS / "ci.yml").read_text(encoding="utf-8"))
    # YAML 1.1 reads the bare key `on` as True; GitHub reads it as "on".
    triggers = workflow.get("on", workflow.get(True))
    assert set(triggers) == {"push", "pull_request"}
    (job,) = workflow["jobs"].values()
    assert job["container"]["image"] == "debian:12"
    assert any(step.get("run") == ".ci/run" for step in job["steps"])
