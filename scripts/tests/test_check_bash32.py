"""Tests of scripts/check-bash32: each construct of bash32/bad.sh is reported on its own, with
its rule; the safe forms and look-alikes of bash32/good.sh are not; both fixtures are real bash
(bash 5 parses them); and the scripts of the build-and-push path, with everything they source,
pass.   python3 -m unittest discover -s scripts/tests   (`just test-scripts`)
"""

import importlib.machinery
import importlib.util
import re
import subprocess
import sys
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "bash32"
loader = importlib.machinery.SourceFileLoader("check_bash32", str(ROOT / "scripts/check-bash32"))
spec = importlib.util.spec_from_loader("check_bash32", loader)
check = importlib.util.module_from_spec(spec)
sys.modules["check_bash32"] = check  # (dataclasses look their module up there)
loader.exec_module(check)

EXPECT = re.compile(r"# expect: ([a-z0-9-]+)$")


class BadConstructs(unittest.TestCase):
    def test_each_construct_is_reported_alone_with_its_rule(self):
        lines = (FIXTURES / "bad.sh").read_text().splitlines()
        context = [line for line in lines if not EXPECT.search(line)]
        cases = [(line, EXPECT.search(line).group(1)) for line in lines if EXPECT.search(line)]
        self.assertGreaterEqual(len(cases), 50)
        for line, rule in cases:
            with self.subTest(line=line):
                # The fixture's set-up (set -u, the arrays) and this one line.
                text = "\n".join(context + [line]) + "\n"
                found = {(f.line, f.rule) for f in check.check_text(text)}
                self.assertEqual(found, {(len(context) + 1, rule)})

    def test_the_whole_fixture_reports_each_line_once(self):
        text = (FIXTURES / "bad.sh").read_text()
        want = {(n, EXPECT.search(line).group(1)) for n, line in enumerate(text.splitlines(), 1) if EXPECT.search(line)}
        self.assertEqual({(f.line, f.rule) for f in check.check_text(text)}, want)

    def test_every_rule_has_a_case(self):
        rules = {rule for rule, *_ in check.PATTERNS} | {"empty-array", "sha256sum"}
        lines = (FIXTURES / "bad.sh").read_text().splitlines()
        covered = {m.group(1) for m in map(EXPECT.search, lines) if m}
        self.assertEqual(rules - covered, set())


class SafeForms(unittest.TestCase):
    def test_safe_forms_and_look_alikes_pass(self):
        self.assertEqual(check.check_text((FIXTURES / "good.sh").read_text()), [])


class Fixtures(unittest.TestCase):
    def test_fixtures_are_bash(self):
        for name in ("bad.sh", "good.sh"):
            with self.subTest(name=name):
                subprocess.run(["bash", "-n", str(FIXTURES / name)], check=True)


class ThePath(unittest.TestCase):
    def test_the_path_passes(self):
        for rel in check.PATH:
            with self.subTest(script=rel):
                self.assertEqual(check.check_text((ROOT / rel).read_text()), [])

    def test_the_path_holds_what_its_scripts_source(self):
        for rel in check.PATH:
            text = (ROOT / rel).read_text()
            for sourced in re.findall(r"^\s*(?:source|\.)\s+\"?([^\s\"]+)", text, re.M):
                # Paths are written from the repository root or relative to the script's directory.
                name = sourced.replace('$(dirname "$0")/', "").replace("${BASH_SOURCE%/*}/", "")
                candidates = {name, str(Path(rel).parent / Path(name).name)}
                with self.subTest(script=rel, sources=sourced):
                    self.assertTrue(candidates & set(check.PATH), f"{rel} sources {sourced}, which check-bash32 does not check")


if __name__ == "__main__":
    unittest.main()
