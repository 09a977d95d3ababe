#!/usr/bin/env python3
"""Generate the Terraform README tables (terraform-docs markdown-table format).

terraform-docs itself cannot be installed from the registries the build machines
reach, so this reads the `.tf` files of a configuration directly: a small HCL
scanner (strings, heredocs, comments, nesting) finds the top-level `terraform`,
`variable`, `output`, `resource`, `data` and `module` blocks and the raw text of
their arguments. The tables go between the `<!-- BEGIN_TF_DOCS -->` and
`<!-- END_TF_DOCS -->` markers of the directory's README.md.

Usage:
  docs.py DIR...           rewrite the tables in DIR/README.md
  docs.py --check DIR...   exit 1 (and show a diff) when a README is out of date
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

BEGIN = "<!-- BEGIN_TF_DOCS -->"
END = "<!-- END_TF_DOCS -->"


# --- scanning HCL -------------------------------------------------------------


def _skip_string(text: str, i: int) -> int:
    """`text[i]` is an opening quote; return the index just past the closing one."""
    i += 1
    depth = 0  # nesting of ${ ... } inside the string
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if depth == 0 and c == '"':
            return i + 1
        if text.startswith("${", i) or text.startswith("%{", i):
            depth += 1
            i += 2
            continue
        if depth and c == "}":
            depth -= 1
        elif depth and c == '"':
            i = _skip_string(text, i)
            continue
        i += 1
    raise ValueError("unterminated string")


HEREDOC = re.compile(r"<<(-?)([A-Za-z_][A-Za-z0-9_]*)[ \t]*\n")


def _skip_heredoc(text: str, i: int) -> int:
    m = HEREDOC.match(text, i)
    assert m
    end = re.compile(r"^[ \t]*" + re.escape(m.group(2)) + r"[ \t]*$", re.M).search(text, m.end())
    if not end:
        raise ValueError(f"unterminated heredoc {m.group(2)}")
    return end.end()


def _skip_comment(text: str, i: int) -> int:
    if text.startswith("/*", i):
        return text.index("*/", i) + 2
    nl = text.find("\n", i)
    return len(text) if nl < 0 else nl


def _is_comment(text: str, i: int) -> bool:
    return text[i] == "#" or text.startswith("//", i) or text.startswith("/*", i)


def _matching(text: str, i: int) -> int:
    """`text[i]` opens a bracket; return the index of its closing bracket."""
    pairs = {"{": "}", "[": "]", "(": ")"}
    stack = [pairs[text[i]]]
    i += 1
    while i < len(text):
        c = text[i]
        if c == '"':
            i = _skip_string(text, i)
            continue
        if HEREDOC.match(text, i):
            i = _skip_heredoc(text, i)
            continue
        if _is_comment(text, i):
            i = _skip_comment(text, i)
            continue
        if c in pairs:
            stack.append(pairs[c])
        elif c in ")]}":
            if c != stack.pop():
                raise ValueError(f"unbalanced {c!r}")
            if not stack:
                return i
        i += 1
    raise ValueError("unbalanced brackets")


@dataclass
class Block:
    type: str
    labels: list[str]
    body: str
    attrs: dict[str, str] = field(default_factory=dict)


BLOCK_HEAD = re.compile(r'([A-Za-z_][A-Za-z0-9_-]*)((?:[ \t]+"[^"]*")*)[ \t]*\{')
ATTR_HEAD = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*)[ \t]*=(?!=)[ \t]*")


def _items(body: str) -> tuple[list[Block], dict[str, str]]:
    """Split a body into its blocks and its attributes (raw expression text)."""
    blocks: list[Block] = []
    attrs: dict[str, str] = {}
    i = 0
    while i < len(body):
        c = body[i]
        if c.isspace():
            i += 1
            continue
        if _is_comment(body, i):
            i = _skip_comment(body, i)
            continue
        m = BLOCK_HEAD.match(body, i)
        if m:
            close = _matching(body, m.end() - 1)
            labels = re.findall(r'"([^"]*)"', m.group(2))
            blocks.append(Block(m.group(1), labels, body[m.end() : close]))
            i = close + 1
            continue
        m = ATTR_HEAD.match(body, i)
        if not m:
            raise ValueError(f"cannot parse near: {body[i:i + 40]!r}")
        j = m.end()
        # The expression runs to the end of the line, across brackets, strings and heredocs.
        while j < len(body) and body[j] != "\n":
            if body[j] in "{[(":
                j = _matching(body, j) + 1
            elif body[j] == '"':
                j = _skip_string(body, j)
            elif HEREDOC.match(body, j):
                j = _skip_heredoc(body, j)
            elif _is_comment(body, j):
                break
            else:
                j += 1
        attrs[m.group(1)] = body[m.end() : j].strip()
        i = j
    for b in blocks:
        _, b.attrs = _items(b.body)
    return blocks, attrs


def parse_dir(path: Path) -> list[Block]:
    blocks: list[Block] = []
    for tf in sorted(path.glob("*.tf")):
        if tf.name.endswith("_override.tf") or tf.name == "override.tf":
            continue
        found, _ = _items(tf.read_text())
        blocks.extend(found)
    return blocks


# --- values -------------------------------------------------------------------


def string_value(expr: str) -> str:
    """The text of a quoted string or heredoc expression (descriptions)."""
    m = HEREDOC.match(expr)
    if m:
        content = expr[m.end() :]
        content = content[: content.rstrip().rfind("\n") + 1] if "\n" in content.rstrip() else ""
        if m.group(1) == "-":
            content = textwrap.dedent(content)
        return content.strip()
    if expr.startswith('"') and expr.endswith('"'):
        return (
            expr[1:-1]
            .replace('\\"', '"')
            .replace("\\n", "\n")
            .replace("$${", "${")
            .replace("\\\\", "\\")
        )
    return expr


def normalize_expr(expr: str) -> str:
    """Re-indent a multi-line expression so its closing line starts at column 0."""
    lines = expr.split("\n")
    if len(lines) == 1:
        return expr
    rest = textwrap.dedent("\n".join(lines[1:]))
    return lines[0] + "\n" + rest


def cell(text: str) -> str:
    """Markdown table cell: multi-line text joined with <br>, pipes escaped."""
    text = text.replace("|", "\\|")
    return "<br>".join(line for line in text.strip().split("\n"))


def code_cell(expr: str) -> str:
    expr = normalize_expr(expr)
    if "\n" not in expr:
        return "`" + expr.replace("|", "\\|") + "`"
    escaped = expr.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")
    return "<pre>" + "<br>".join(escaped.split("\n")) + "</pre>"


def anchor(kind: str, name: str) -> str:
    escaped = name.replace("_", "\\_")
    return f'<a name="{kind}_{name}"></a> [{name}](#{kind}\\_{escaped})'


# --- rendering ----------------------------------------------------------------


def render(blocks: list[Block]) -> str:
    out: list[str] = []

    terraform = [b for b in blocks if b.type == "terraform"]
    reqs: list[tuple[str, str]] = []
    for t in terraform:
        if "required_version" in t.attrs:
            reqs.append(("terraform", string_value(t.attrs["required_version"])))
        for rp in (b for b in _items(t.body)[0] if b.type == "required_providers"):
            for name, expr in _items(rp.body)[1].items():
                version = re.search(r'version\s*=\s*"([^"]*)"', expr)
                reqs.append((name, version.group(1) if version else "n/a"))
    out += ["## Requirements", "", "| Name | Version |", "|------|---------|"]
    out += [f"| {anchor('requirement', n)} | {v} |" for n, v in reqs]
    out.append("")

    modules = sorted((b for b in blocks if b.type == "module"), key=lambda b: b.labels[0])
    if modules:
        out += ["## Modules", "", "| Name | Source | Version |", "|------|--------|---------|"]
        for m in modules:
            src = string_value(m.attrs.get("source", ""))
            out.append(f"| {anchor('module', m.labels[0])} | {src} | {string_value(m.attrs.get('version', 'n/a'))} |")
        out.append("")

    resources = sorted(
        (b for b in blocks if b.type in ("resource", "data")),
        key=lambda b: (b.labels[0], b.labels[1], b.type),
    )
    if resources:
        out += ["## Resources", "", "| Name | Type |", "|------|------|"]
        for r in resources:
            rtype, name = r.labels
            if rtype.startswith("aws_"):
                kind = "resources" if r.type == "resource" else "data-sources"
                link = f"https://registry.terraform.io/providers/hashicorp/aws/latest/docs/{kind}/{rtype[4:]}"
            else:
                link = f"https://developer.hashicorp.com/terraform/language/resources/{rtype.replace('_', '-')}"
            prefix = "data." if r.type == "data" else ""
            out.append(f"| [{prefix}{rtype}.{name}]({link}) | {'resource' if r.type == 'resource' else 'data source'} |")
        out.append("")

    variables = sorted((b for b in blocks if b.type == "variable"), key=lambda b: b.labels[0])
    out += ["## Inputs", ""]
    if variables:
        out += ["| Name | Description | Type | Default | Required |", "|------|-------------|------|---------|:--------:|"]
        for v in variables:
            name = v.labels[0]
            desc = cell(string_value(v.attrs.get("description", '""')))
            typ = code_cell(v.attrs.get("type", "any"))
            required = "default" not in v.attrs
            default = "n/a" if required else code_cell(v.attrs["default"])
            out.append(f"| {anchor('input', name)} | {desc} | {typ} | {default} | {'yes' if required else 'no'} |")
    else:
        out.append("No inputs.")
    out.append("")

    outputs = sorted((b for b in blocks if b.type == "output"), key=lambda b: b.labels[0])
    out += ["## Outputs", ""]
    if outputs:
        out += ["| Name | Description |", "|------|-------------|"]
        for o in outputs:
            desc = cell(string_value(o.attrs.get("description", '""')))
            out.append(f"| {anchor('output', o.labels[0])} | {desc} |")
    else:
        out.append("No outputs.")

    return "\n".join(out)


def update(readme: str, tables: str) -> str:
    if BEGIN not in readme or END not in readme:
        raise ValueError(f"missing {BEGIN} / {END} markers")
    head, rest = readme.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{tables}\n{END}{tail}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="fail if a README is out of date")
    parser.add_argument("dirs", nargs="+", type=Path)
    args = parser.parse_args()

    stale = 0
    for d in args.dirs:
        readme_path = d / "README.md"
        try:
            readme = readme_path.read_text()
            new = update(readme, render(parse_dir(d)))
        except (OSError, ValueError) as e:
            print(f"{readme_path}: {e}", file=sys.stderr)
            return 2
        if new == readme:
            continue
        if args.check:
            stale += 1
            sys.stdout.writelines(
                difflib.unified_diff(readme.splitlines(True), new.splitlines(True), str(readme_path), f"{readme_path} (generated)")
            )
        else:
            readme_path.write_text(new)
            print(f"updated {readme_path}")
    if stale:
        print(f"\n{stale} README(s) out of date: run `just docs-terraform`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
