#!/usr/bin/env python3
"""Count test cases from a `bazel test` run and print `N passed, N failed`.

    count_results.py [--bep FILE] [TESTLOGS_DIR]

TESTLOGS_DIR defaults to ./bazel-testlogs. Every `test.xml` under it is a
JUnit file Bazel wrote:

* A test that writes its own XML (gtest does) holds one <testcase> per
  case: each counts, failed if it has <failure>/<error>, skipped (not
  counted) if it has <skipped> or was not run.
* For other tests (sh_test) Bazel writes one <testcase> per target. Then the
  sibling test.log is read instead: every line starting "PASS: " or "FAIL: "
  is one case ("SKIP: " lines are shown, not counted). A target that failed
  without printing a FAIL line (crash, timeout, setup error) adds one failure;
  a target with no such lines at all counts as one case.
* A test.log without test.xml (killed before Bazel wrote it) is a failure.

--bep FILE (Bazel's --build_event_json_file) limits the count to the tests of
that invocation, so results left in bazel-testlogs by earlier runs are never
counted, and counts a test target that has no result (did not build, was
not run) as failed.

Exits 1 if any case failed or nothing ran, else 0.
"""

import argparse
import json
import os
import re
import sys
import urllib.parse
import xml.etree.ElementTree as ET

CASE_LINE = re.compile(r"^(PASS|FAIL|SKIP): (.*)$")
SHARD_DIR = re.compile(r"^(shard_\d+_of_\d+|run_\d+_of_\d+)$")


class Target:
    def __init__(self, label):
        self.label = label
        self.passed = 0
        self.failed = 0
        self.skipped = 0
        self.failures = []   # names of failed cases / reasons
        self.notes = []

    def fail(self, what):
        self.failed += 1
        self.failures.append(what)


def label_from_dir(rel_dir):
    """test/integration/foo_test[/shard_1_of_2] -> //test/integration:foo_test"""
    parts = [p for p in rel_dir.split(os.sep) if p and not SHARD_DIR.match(p)]
    if not parts:
        return "//?"
    return "//%s:%s" % ("/".join(parts[:-1]), parts[-1])


def read_text(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", errors="replace")
    except OSError:
        return None


def case_lines(text):
    out = []
    for line in (text or "").splitlines():
        m = CASE_LINE.match(line.rstrip("\r"))
        if m:
            out.append((m.group(1), m.group(2)))
    return out


def is_bazel_generated(testcases, suites):
    """Bazel's own test.xml: one suite, one testcase named like the suite."""
    if len(testcases) != 1 or len(suites) != 1:
        return False
    return testcases[0].get("name") == suites[0].get("name")


def count_from_log_lines(t, lines, target_failed, why):
    for kind, name in lines:
        if kind == "PASS":
            t.passed += 1
        elif kind == "FAIL":
            t.fail(name)
        else:
            t.skipped += 1
            t.notes.append("skipped: " + name)
    if target_failed and not any(k == "FAIL" for k, _ in lines):
        t.fail("target failed without a FAIL line (%s)" % why)
    if not lines and not target_failed:
        t.passed += 1


def count_xml(t, xml_path, log_path):
    try:
        root = ET.parse(xml_path).getroot()
    except (ET.ParseError, OSError) as e:
        t.fail("unreadable %s: %s" % (xml_path, e))
        return
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    testcases = list(root.iter("testcase"))

    if is_bazel_generated(testcases, suites) or not testcases:
        tc = testcases[0] if testcases else None
        bad = None
        if tc is not None:
            bad = tc.find("failure")
            if bad is None:
                bad = tc.find("error")
        else:
            s = suites[0] if suites else root
            if int(s.get("failures", "0") or 0) + int(s.get("errors", "0") or 0) > 0:
                bad = s
        why = (bad.get("message") if bad is not None else None) or "failed"
        text = read_text(log_path) if log_path else None
        if text is None:
            so = root.find(".//system-out")
            text = so.text if so is not None else ""
        count_from_log_lines(t, case_lines(text), bad is not None, why)
        return

    for tc in testcases:
        name = "%s.%s" % (tc.get("classname", ""), tc.get("name", "?"))
        if tc.find("failure") is not None or tc.find("error") is not None:
            el = tc.find("failure")
            if el is None:
                el = tc.find("error")
            msg = (el.get("message") or (el.text or "")).strip().splitlines()
            t.fail(name + (": " + msg[0] if msg else ""))
        elif (tc.find("skipped") is not None or tc.get("status") == "notrun"
              or tc.get("result") in ("skipped", "suppressed")):
            t.skipped += 1
        else:
            t.passed += 1


def count_unit(t, xml_path, log_path):
    if xml_path and os.path.isfile(xml_path):
        count_xml(t, xml_path, log_path if log_path and os.path.isfile(log_path) else None)
    elif log_path and os.path.isfile(log_path):
        count_from_log_lines(t, case_lines(read_text(log_path)), True, "no test.xml: killed or timed out?")
    else:
        t.fail("no test.xml or test.log")


def walk_testlogs(testlogs):
    """{label: Target} from every test.xml / test.log under testlogs."""
    targets = {}
    for dirpath, dirnames, filenames in os.walk(testlogs, followlinks=True):
        dirnames[:] = [d for d in dirnames if d != "test_attempts" and not d.endswith(".outputs")]
        if "test.xml" not in filenames and "test.log" not in filenames:
            continue
        rel = os.path.relpath(dirpath, testlogs)
        label = label_from_dir(rel)
        t = targets.setdefault(label, Target(label))
        count_unit(t, os.path.join(dirpath, "test.xml") if "test.xml" in filenames else None,
                   os.path.join(dirpath, "test.log") if "test.log" in filenames else None)
    return targets


def uri_to_path(uri):
    if uri.startswith("file://"):
        return urllib.parse.unquote(uri[len("file://"):])
    return None


def read_bep(bep_path):
    """{label: Target} for the tests of one invocation, from BEP JSON."""
    test_targets = set()
    results = {}     # (label, run, shard) -> (attempt, files, status)
    summaries = {}   # label -> overallStatus
    with open(bep_path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            eid = ev.get("id", {})
            if "targetConfigured" in eid:
                kind = ev.get("configured", {}).get("targetKind", "")
                if kind.endswith("_test rule") or kind.endswith(" test"):
                    test_targets.add(eid["targetConfigured"]["label"])
            elif "testResult" in eid:
                r = eid["testResult"]
                key = (r["label"], r.get("run", 1), r.get("shard", 1))
                attempt = r.get("attempt", 1)
                tr = ev.get("testResult", {})
                files = {o.get("name"): uri_to_path(o.get("uri", "")) for o in tr.get("testActionOutput", [])}
                prev = results.get(key)
                if prev is None or attempt >= prev[0]:
                    results[key] = (attempt, files, tr.get("status", "NO_STATUS"))
            elif "testSummary" in eid:
                summaries[eid["testSummary"]["label"]] = ev.get("testSummary", {}).get("overallStatus", "NO_STATUS")

    targets = {}
    for (label, run, shard), (attempt, files, status) in sorted(results.items()):
        t = targets.setdefault(label, Target(label))
        before = t.failed
        count_unit(t, files.get("test.xml"), files.get("test.log"))
        if status not in ("PASSED", "FLAKY") and t.failed == before:
            t.fail("Bazel status %s" % status)
    for label in sorted(test_targets | set(summaries)):
        if label not in targets:
            t = targets.setdefault(label, Target(label))
            t.fail("no test result (%s): did it build?" % summaries.get(label, "NO_STATUS"))
    return targets


def main():
    p = argparse.ArgumentParser(description="Count bazel test results.")
    p.add_argument("testlogs", nargs="?", default="bazel-testlogs")
    p.add_argument("--bep", help="build event JSON file of the bazel test invocation")
    p.add_argument("--extra-pass", action="append", default=[], metavar="NAME",
                   help="count one more passed case (a CI check outside Bazel)")
    p.add_argument("--extra-fail", action="append", default=[], metavar="NAME",
                   help="count one more failed case (a CI check outside Bazel)")
    p.add_argument("-q", "--quiet", action="store_true", help="do not list failed cases")
    a = p.parse_args()

    if a.bep:
        if not os.path.isfile(a.bep):
            print("count_results: no build event file %s" % a.bep)
            print("0 passed, 0 failed")
            return 1
        targets = read_bep(a.bep)
    else:
        if not os.path.isdir(a.testlogs):
            print("count_results: no test logs at %s" % a.testlogs)
            print("0 passed, 0 failed")
            return 1
        targets = walk_testlogs(a.testlogs)

    if a.extra_pass or a.extra_fail:
        t = targets.setdefault("//tools/ci:checks", Target("//tools/ci:checks"))
        t.passed += len(a.extra_pass)
        for what in a.extra_fail:
            t.fail(what)

    passed = failed = skipped = 0
    for label in sorted(targets):
        t = targets[label]
        passed += t.passed
        failed += t.failed
        skipped += t.skipped
        status = "FAILED" if t.failed else "PASSED"
        extra = ", %d skipped" % t.skipped if t.skipped else ""
        print("%-6s %s: %d passed, %d failed%s" % (status, label, t.passed, t.failed, extra))
        if not a.quiet:
            for what in t.failures:
                print("         FAILED CASE: %s" % what)
    if not targets:
        print("count_results: no test results found")
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed > 0 or passed + failed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
