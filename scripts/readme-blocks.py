#!/usr/bin/env python3
"""Runs every shell block of README.md in a fresh clone of this repository and compares the
output blocks printed beside them (CI runs it; so can you, after committing).

- A ```sh block runs as one bash script (set -euo pipefail) from the clone's root; it must exit 0.
  Its lines that run the test suite (`swift test`) are left out: CI runs the suite itself.
- An untagged block whose lines start with `$ ` is a transcript: each `$ COMMAND` runs from the
  clone's root and what it prints (stdout and stderr, as a terminal shows them) must equal the
  lines under it, up to the next `$ ` line.
- An untagged block right after a ```sh block (prose between them, no other block) is that
  block's standard output and must equal it.
- `<!-- readme-blocks: skip REASON -->` on the line before a block leaves it out, saying why.

`metapool` is installed into a temporary prefix by the README's own install command
(scripts/install.sh with PREFIX set), and that prefix's bin is first on PATH.

Usage: scripts/readme-blocks.py [README.md]     exit 0 when every block ran and matched
"""
import os
import re
import subprocess
import sys
import tempfile


def blocks(text):
    """(tag, lines, skip_reason, start_line) for every fenced block, in order."""
    lines = text.split("\n")
    out, i = [], 0
    while i < len(lines):
        m = re.match(r"^(\s*)```(\S*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        indent, tag, start = len(m.group(1)), m.group(2), i
        j = i + 1
        while j < len(lines) and not re.match(r"^\s*```\s*$", lines[j]):
            j += 1
        body = [line[indent:] if line[:indent].strip() == "" else line for line in lines[i + 1:j]]
        skip = None
        if start > 0:
            s = re.match(r"^\s*<!--\s*readme-blocks:\s*skip\s*(.*?)\s*-->\s*$", lines[start - 1])
            if s:
                skip = s.group(1) or "marked skip"
        out.append((tag, body, skip, start + 1))
        i = j + 1
    return out


def normalise(text):
    return "\n".join(line.rstrip() for line in text.strip("\n").split("\n"))


def main():
    readme_path = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "README.md")
    repo = subprocess.run(["git", "-C", os.path.dirname(readme_path), "rev-parse", "--show-toplevel"],
                          check=True, capture_output=True, text=True).stdout.strip()
    work = tempfile.mkdtemp(prefix="metapool-readme-")
    clone = os.path.join(work, "MetaPool")
    subprocess.run(["git", "clone", "-q", repo, clone], check=True)
    prefix = os.path.join(work, "prefix")
    env = dict(os.environ, PREFIX=prefix, PATH=os.path.join(prefix, "bin") + os.pathsep + os.environ["PATH"])
    readme = open(os.path.join(clone, os.path.relpath(readme_path, repo)), encoding="utf-8").read()
    print(f"readme-blocks: {readme_path} in a fresh clone at {clone}", flush=True)

    failures, ran, previous_sh_stdout = [], 0, None
    for tag, body, skip, line in blocks(readme):
        where = f"README.md:{line}"
        if skip:
            print(f"  skip {where}: {skip}", flush=True)
            previous_sh_stdout = None
            continue
        if tag == "sh":
            script = []
            for command in body:
                if re.search(r"\bswift test\b", command):
                    print(f"  skip {where}: `{command.strip()}` (CI runs the test suite itself)", flush=True)
                    continue
                script.append(command)
            print(f"  run  {where}: {len([c for c in script if c.strip() and not c.strip().startswith('#')])} command line(s)", flush=True)
            r = subprocess.run(["bash", "-c", "set -euo pipefail\n" + "\n".join(script)], cwd=clone, env=env,
                               capture_output=True, text=True)
            ran += 1
            if r.returncode != 0:
                failures.append(f"{where}: exit {r.returncode}\n{r.stderr[-3000:]}")
            previous_sh_stdout = r.stdout
            continue
        if tag == "" and body and body[0].startswith("$ "):
            commands, current = [], None
            for text in body:
                if text.startswith("$ "):
                    current = [text[2:], []]
                    commands.append(current)
                else:
                    current[1].append(text)
            for command, expected in commands:
                r = subprocess.run(["bash", "-c", command + " 2>&1"], cwd=clone, env=env, capture_output=True, text=True)
                ran += 1
                if normalise(r.stdout) != normalise("\n".join(expected)):
                    failures.append(f"{where}: `$ {command}` printed\n{r.stdout}\ninstead of\n" + "\n".join(expected))
            print(f"  ran  {where}: {len(commands)} transcript command(s)", flush=True)
            previous_sh_stdout = None
            continue
        if tag == "" and previous_sh_stdout is not None:
            ran += 1
            if normalise(previous_sh_stdout) != normalise("\n".join(body)):
                failures.append(f"{where}: the block above printed\n{previous_sh_stdout}\ninstead of\n" + "\n".join(body))
            print(f"  compared {where} with the output of the block above", flush=True)
        previous_sh_stdout = None

    for f in failures:
        print("FAILED " + f, file=sys.stderr)
    print(f"readme-blocks: {ran} runs/comparisons, {len(failures)} failed", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
