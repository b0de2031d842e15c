"""checkov on the CloudFormation templates, against the accepted findings.

Run by tests/run with the pinned checkov's own interpreter
(.venv-checkov/bin/python tests/checkov_gate.py). Fails when checkov reports a
finding that deploy/checkov-accepted.yaml does not list (by check id and
resource, so a new resource is a new finding even for a listed check), when an
entry there no longer matches a finding (fixed: remove it), when an entry has
no reason, and when a template suppresses a check inline (accepted findings
live in the one reviewed file), or checkov scanned nothing.
"""

import json
import subprocess
import sys
from pathlib import Path

import yaml

TEMPLATES = "deploy/cloudformation"
ACCEPTED = "deploy/checkov-accepted.yaml"


def accepted_findings(path):
    doc = yaml.safe_load(Path(path).read_text())
    accepted, problems = {}, []
    for entry in doc.get("accepted") or []:
        check = entry.get("check")
        reason = (entry.get("reason") or "").strip()
        resources = entry.get("resources") or []
        if not check or not resources:
            problems.append(f"{path}: an entry needs a check and its resources: {entry}")
        if not reason:
            problems.append(f"{path}: {check} has no reason")
        for resource in resources:
            if (check, resource) in accepted:
                problems.append(f"{path}: {check} {resource} is listed twice")
            accepted[(check, resource)] = reason
    return accepted, problems


def run_checkov(directory):
    checkov = Path(sys.executable).parent / "checkov"
    # --skip-download: no calls to the Prisma Cloud API; the checks ship with checkov.
    command = [str(checkov), "-d", directory, "--framework", "cloudformation", "--skip-download", "-o", "json"]
    run = subprocess.run(command, capture_output=True, text=True)
    try:
        reports = json.loads(run.stdout)
    except json.JSONDecodeError:
        sys.exit(f"checkov printed no JSON report (exit {run.returncode}):\n{run.stdout}\n{run.stderr}")
    # One report per framework: a list when there are several, an object when one.
    reports = reports if isinstance(reports, list) else [reports]
    return [r for r in reports if r.get("check_type") == "cloudformation"]


def main():
    accepted, problems = accepted_findings(ACCEPTED)
    reports = run_checkov(TEMPLATES)
    if not reports or not any(r.get("summary", {}).get("resource_count", 0) for r in reports):
        problems.append(f"checkov scanned no CloudFormation resources in {TEMPLATES}")
    found, names, passed, version = {}, {}, 0, "?"
    for report in reports:
        summary = report.get("summary", {})
        version = summary.get("checkov_version", version)
        passed += summary.get("passed", 0)
        results = report.get("results", {})
        for error in results.get("parsing_errors", []):
            problems.append(f"checkov cannot parse {error}")
        for check in results.get("failed_checks", []):
            key = (check["check_id"], check["resource"])
            found[key] = f'{Path(check["file_abs_path"]).resolve().relative_to(Path.cwd())}:{check["file_line_range"][0]}'
            names[check["check_id"]] = check["check_name"]
        for check in results.get("skipped_checks", []):
            problems.append(
                f'{check["check_id"]} on {check["resource"]} is suppressed in the template; '
                f"list accepted findings with their reasons in {ACCEPTED} instead"
            )
    new = sorted(set(found) - set(accepted))
    stale = sorted(set(accepted) - set(found))
    for check, resource in new:
        problems.append(f'new finding {check} ({names[check]}) on {resource} at {found[(check, resource)]}: '
                        f"fix it in services/switchboard/src/cloudformation.rs, or accept it with a reason in {ACCEPTED}")
    for check, resource in stale:
        problems.append(f"{ACCEPTED}: {check} on {resource} is no longer reported: remove the entry")
    if problems:
        print(f"checkov {version} on {TEMPLATES}:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        sys.exit(1)
    print(f"deploy: checkov {version} clean but for {len(found)} accepted findings ({ACCEPTED}), {passed} checks passed")


if __name__ == "__main__":
    main()
