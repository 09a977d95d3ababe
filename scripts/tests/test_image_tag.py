"""Tests of image_tag (scripts/images/lib.sh), the tag `just build` gives its images, in a
scratch git repository: the tag carries the version, the commit and the architecture; any
change from HEAD (a tracked file's content, binary or text, an untracked file's name or
content) gives another tag, and an ignored file does not; sha256sum and macOS's shasum give
the same tag.   python3 -m unittest discover -s scripts/tests   (`just test-scripts`)
"""

import os
import re
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

LIB = Path(__file__).resolve().parents[2] / "scripts/images/lib.sh"
BASH = shutil.which("bash")


class ImageTag(unittest.TestCase):
    def setUp(self):
        self.repo = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.repo)
        self.git("init", "-q")
        (self.repo / "Cargo.toml").write_text('[workspace.package]\nversion = "1.2.3"\n')
        (self.repo / ".gitignore").write_text("target/\n")
        (self.repo / "data.bin").write_bytes(bytes(range(256)))
        self.git("add", ".")
        self.git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "first")

    def git(self, *args):
        return subprocess.run(["git", *args], cwd=self.repo, check=True, capture_output=True, text=True).stdout.strip()

    def tag(self, arch="arm64", path=None):
        env = dict(os.environ, PATH=path or os.environ["PATH"])
        out = subprocess.run([BASH, "-c", f'source "{LIB}" && image_tag {arch}'], cwd=self.repo, env=env,
                             check=True, capture_output=True, text=True)
        return out.stdout.strip()

    def test_a_clean_tree_names_version_commit_and_architecture(self):
        sha = self.git("rev-parse", "--short=8", "HEAD")
        self.assertEqual(self.tag("arm64"), f"1.2.3-{sha}-arm64")
        self.assertEqual(self.tag("amd64"), f"1.2.3-{sha}-amd64")

    def test_every_change_gives_its_own_tag(self):
        clean = self.tag()
        seen = {clean}
        (self.repo / "new.txt").write_text("one")            # an untracked file
        seen.add(self.tag())
        (self.repo / "new.txt").write_text("two")            # its content
        seen.add(self.tag())
        (self.repo / "new.txt").rename(self.repo / "other.txt")  # its name
        seen.add(self.tag())
        (self.repo / "data.bin").write_bytes(bytes(range(255, -1, -1)))  # a tracked binary file
        seen.add(self.tag())
        self.assertEqual(len(seen), 5, seen)
        for tag in seen - {clean}:
            self.assertRegex(tag, rf"^{re.escape(clean)}-dirty-[0-9a-f]{{12}}$")
        # The same tree gives the same tag again.
        self.assertEqual(self.tag(), self.tag())

    def test_ignored_files_do_not_count(self):
        clean = self.tag()
        (self.repo / "target").mkdir()
        (self.repo / "target" / "out.o").write_text("build output")
        self.assertEqual(self.tag(), clean)

    def test_shasum_gives_the_same_tag(self):
        (self.repo / "new.txt").write_text("one")
        # A PATH with what image_tag runs but no sha256sum, as on macOS.
        bin_dir = self.repo.parent / f"{self.repo.name}-bin"
        bin_dir.mkdir()
        self.addCleanup(shutil.rmtree, bin_dir)
        for tool in ("git", "sed", "head", "cut", "shasum", "perl", "cat"):
            os.symlink(shutil.which(tool), bin_dir / tool)
        self.assertIsNone(shutil.which("sha256sum", path=str(bin_dir)))
        self.assertEqual(self.tag(path=str(bin_dir)), self.tag())


if __name__ == "__main__":
    unittest.main()
