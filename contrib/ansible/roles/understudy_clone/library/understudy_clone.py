#!/usr/bin/python3
# -*- coding: utf-8 -*-
# Understudy: MIT OR Apache-2.0.
"""Ansible module: run `understudy clone PLAN`, report `changed` honestly."""

DOCUMENTATION = r"""
---
module: understudy_clone
short_description: Clone a PHP/MySQL site with understudy clone
description:
  - Runs C(understudy clone PLAN) on the managed host.
  - C(changed) says whether the target differs afterwards. A clone restores the whole
    database and copies files every time, so its own figures are never zero; instead the
    module prints the target's fingerprint (C(understudy clone --fingerprint)) before and
    after the clone and compares them, part by part.
  - A failed clone fails the task with understudy's own message; the target is then as
    understudy's message says (in the default atomic mode, the database as it was).
  - In check mode, runs C(understudy clone --check) (the doctor: tools, servers, rights,
    space) and C(--dry-run) (the steps), and changes nothing. It reports C(changed=false):
    whether a clone would change the target is known only by running it.
options:
  plan:
    description: The plan file on the managed host.
    type: path
    required: true
  executable:
    description: The understudy binary.
    type: str
    default: understudy
  secrets:
    description:
      - Environment variables for understudy (the passwords the plan reads with
        C(${env:NAME}), C(UNDERSTUDY_SECRET)). Never on a command line, never in the output.
    type: dict
    default: {}
  only:
    description: Parts to run (database, files, config, post), as C(--only).
    type: list
    elements: str
    default: []
  in_place:
    description: Restore into the target database directly (C(--in-place)).
    type: bool
    default: false
  threads:
    description: Rewrite threads (C(-j)); 0 is one per CPU.
    type: int
    default: 0
  report:
    description: Write understudy's JSON report there (C(--report)) and return it.
    type: path
  fingerprint:
    description: Compare the target before and after. Off, every clone reports changed.
    type: bool
    default: true
"""

RETURN = r"""
changed_parts:
  description: The parts of the target that differ afterwards, as "part name".
  type: list
  returned: success
summary:
  description: understudy's last line (time, tables, rows, files).
  type: str
  returned: success
steps:
  description: In check mode, the steps of C(--dry-run).
  type: list
  returned: check mode
report:
  description: understudy's JSON report, when I(report) is given.
  type: dict
  returned: when report is given
"""

import json
import os

from ansible.module_utils.basic import AnsibleModule

PROGRESS = "understudy: clone: "


def understudy_message(stderr):
    """understudy's error, without its progress lines."""
    lines = [l for l in stderr.splitlines() if not l.startswith(PROGRESS)]
    return "\n".join(lines).strip() or stderr.strip()


def main():
    module = AnsibleModule(
        argument_spec=dict(
            plan=dict(type="path", required=True),
            executable=dict(type="str", default="understudy"),
            secrets=dict(type="dict", default={}, no_log=True),
            only=dict(type="list", elements="str", default=[]),
            in_place=dict(type="bool", default=False),
            threads=dict(type="int", default=0),
            report=dict(type="path"),
            fingerprint=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    p = module.params
    exe = module.get_bin_path(p["executable"], required=True)
    # Secrets go to understudy's environment only; understudy keeps them from its children.
    env = {str(k): str(v) for k, v in p["secrets"].items()}
    common = []
    if p["only"]:
        common.append("--only=" + ",".join(p["only"]))
    if p["in_place"]:
        common.append("--in-place")

    def understudy(*args):
        return module.run_command(
            [exe, "clone", p["plan"]] + common + list(args), environ_update=env
        )

    def fail(what, rc, out, err):
        module.fail_json(
            msg=understudy_message(err) or "understudy clone %s exited with %d" % (what, rc),
            rc=rc,
            stdout=out,
            stderr=err,
        )

    if module.check_mode:
        if not os.path.exists(p["plan"]):
            # The template task did not write it either: nothing to ask understudy yet.
            module.exit_json(changed=False, msg="check mode: the plan is not rendered yet")
        rc, out, err = understudy("--check")
        if rc != 0:
            problems = [l for l in out.splitlines() if l.startswith("PROBLEM")]
            module.fail_json(
                msg="\n".join(problems + [understudy_message(err)]).strip(),
                rc=rc,
                stdout=out,
                stderr=err,
            )
        rc, steps, err = understudy("--dry-run")
        if rc != 0:
            fail("--dry-run", rc, steps, err)
        module.exit_json(
            changed=False,
            steps=steps.splitlines(),
            msg="check mode: nothing copied; whether a clone changes the target is known "
            "only after it runs",
        )

    def fingerprint():
        rc, out, err = understudy("--fingerprint")
        if rc != 0:
            fail("--fingerprint", rc, out, err)
        # "part sha256:digest name": keyed by part and name.
        prints = {}
        for line in out.splitlines():
            fields = line.split(" ", 2)
            if len(fields) != 3 or not fields[1].startswith("sha256:"):
                module.fail_json(msg="understudy clone --fingerprint printed %r" % line)
            prints[fields[0] + " " + fields[2]] = fields[1]
        return prints

    before = fingerprint() if p["fingerprint"] else None
    args = []
    if p["threads"]:
        args.append("--threads=%d" % p["threads"])
    if p["report"]:
        args.append("--report=" + p["report"])
    rc, out, err = understudy(*args)
    if rc != 0:
        fail("", rc, out, err)
    progress = [l[len(PROGRESS):] for l in err.splitlines() if l.startswith(PROGRESS)]
    result = dict(summary=progress[-1] if progress else "", stderr_lines=err.splitlines())
    if before is None:
        result["changed"] = True
        result["changed_parts"] = []
    else:
        after = fingerprint()
        parts = sorted(set(before) | set(after))
        result["changed_parts"] = [k for k in parts if before.get(k) != after.get(k)]
        result["changed"] = bool(result["changed_parts"])
    if p["report"]:
        with open(p["report"]) as f:
            result["report"] = json.load(f)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
