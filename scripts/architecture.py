#!/usr/bin/env python3
"""Holds Vakt's shape, as docs/architecture.md draws it; the test script runs it before the
lints. It fails, naming every offence, when:

- a crate depends on a crate of its own layer or one above (cargo metadata, normal and build
  dependencies; tools may use anything below them);
- a pure crate or the service layer reads the wall clock or unseeded randomness outside the
  two sanctioned places in vakt-core (SystemClock, OsEntropy);
- modules of one crate import each other in a loop (use crate::..., use super::...);
- a source file has more than 800 lines outside its tests.

Functions longer than 120 lines are clippy's to refuse (clippy.toml, too_many_lines).
"""

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The layers, bottom up. A crate may depend only on crates of lower layers.
LAYERS = {
    "vakt-core": 1,
    "vakt-dc09": 2,
    "vakt-link": 2,
    "vakt-panel": 3,
    "vakt-store": 3,
    "vakt-engine": 4,
    "vakt-service": 4,
    "vakt-store-sql": 4,
    "vakt-receiver": 4,
    "vakt-notify": 4,
    "vakt-store-sqlite": 5,
    "vakt-store-postgres": 5,
    "vakt-web": 5,
    "vakt-sim": 5,
    "vakt": 6,
    "vakt-bench": 7,
    "vakt-testkit": 7,
    "vakt-store-conformance": 7,
}

# Dependencies refused whatever the layers say: the web side speaks to panels through the
# link's vocabulary (vakt-link), never through the simulated panel or the simulator.
FORBIDDEN = {("vakt-web", "vakt-panel"), ("vakt-web", "vakt-sim")}

# Crates that take time and randomness only as arguments.
PURE = ["vakt-core", "vakt-dc09", "vakt-link", "vakt-panel", "vakt-service", "vakt-engine"]
IMPURE_CALLS = re.compile(
    r"SystemTime::now|Instant::now|rand::random|rand::rng\(|make_rng|thread_rng|rand::fill|OsRng|from_os_rng"
)
# The sanctioned readers: the one clock and the one source of OS randomness.
SANCTIONED = {("vakt-core", "src/time.rs"), ("vakt-core", "src/random.rs")}

FILE_LINES_MAX = 800


def crate_dirs():
    return {p.parent.name: p.parent for p in sorted((ROOT / "crates").glob("*/Cargo.toml"))}


def check_layers(problems):
    meta = json.loads(
        subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--no-deps", "--offline"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    for package in meta["packages"]:
        name = package["name"]
        if name not in LAYERS:
            problems.append(f"{name}: not in the layer table of scripts/architecture.py")
            continue
        for dep in package["dependencies"]:
            other = dep["name"]
            if other not in LAYERS or dep.get("kind") == "dev":
                continue
            if (name, other) in FORBIDDEN:
                problems.append(f"{name} must not depend on {other}")
            elif LAYERS[other] >= LAYERS[name]:
                problems.append(
                    f"{name} (layer {LAYERS[name]}) depends on {other} (layer {LAYERS[other]})"
                )


def code_lines(text):
    """The lines before the file's inline test module, if it has one."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.strip() == "#[cfg(test)]" and i + 1 < len(lines) and lines[i + 1].startswith("mod tests"):
            return lines[:i]
    return lines


def check_purity(problems, dirs):
    for crate in PURE:
        for path in sorted((dirs[crate] / "src").rglob("*.rs")):
            relative = str(path.relative_to(dirs[crate]))
            if (crate, relative) in SANCTIONED or path.name == "tests.rs":
                continue
            for number, line in enumerate(code_lines(path.read_text()), 1):
                if IMPURE_CALLS.search(line) and not line.lstrip().startswith("//"):
                    problems.append(
                        f"{crate}/{relative}:{number}: the wall clock or unseeded randomness "
                        "in a pure crate; take a Clock or an Entropy"
                    )


def module_of(src, path):
    """`crate::a::b` names of a source file: src/a/b.rs and src/a/b/mod.rs are a::b."""
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] == "mod":
        parts.pop()
    if parts in (["lib"], ["main"]):
        return ()
    return tuple(parts)


USE = re.compile(r"\buse\s+((?:crate|super)(?:::\w+)*)(?:::\{([^;]*)\})?")
# A path written out in the code: `crate::console::message_page(...)`.
INLINE = re.compile(r"(?<![\w:])((?:crate|super)(?:::\w+)+)")


def check_loops(problems, dirs):
    for crate, directory in dirs.items():
        src = directory / "src"
        files = {module_of(src, p): p for p in src.rglob("*.rs")}
        edges = {m: set() for m in files}
        for module, path in files.items():
            text = "\n".join(code_lines(path.read_text()))
            matches = list(USE.finditer(text)) + list(INLINE.finditer(text))
            for match in matches:
                head = match.group(1).split("::")
                if head[0] == "crate":
                    target = head[1:]
                else:
                    target = list(module)
                    for part in head:
                        if part == "super":
                            target = target[:-1]
                        else:
                            target.append(part)
                names = [target]
                if match.re is USE and match.group(2):
                    names = [target + [n.strip().split("::")[0]] for n in match.group(2).split(",") if n.strip()]
                for name in names:
                    # The longest prefix that is a file of the crate.
                    for cut in range(len(name), 0, -1):
                        if tuple(name[:cut]) in files:
                            other = tuple(name[:cut])
                            # A parent module re-exporting or routing to its children is
                            # not a loop with them; only sideways and upward edges count.
                            if other != module and other[: len(module)] != module:
                                edges[module].add(other)
                            break
        for cycle in cycles(edges):
            shown = " -> ".join(str(files[m].relative_to(ROOT)) for m in cycle)
            problems.append(f"{crate}: modules import each other in a loop: {shown}")


def cycles(edges):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on.add(node)
        for other in edges.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in list(edges):
        if node not in index:
            visit(node)
    return found


def check_sizes(problems, dirs):
    for crate, directory in dirs.items():
        for path in sorted((directory / "src").rglob("*.rs")):
            if path.name == "tests.rs":
                continue
            count = len(code_lines(path.read_text()))
            if count > FILE_LINES_MAX:
                problems.append(
                    f"{path.relative_to(ROOT)}: {count} lines outside its tests (most {FILE_LINES_MAX})"
                )


def main():
    problems = []
    dirs = crate_dirs()
    check_layers(problems)
    check_purity(problems, dirs)
    check_loops(problems, dirs)
    check_sizes(problems, dirs)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) with the architecture (see docs/architecture.md)")
        return 1
    print("architecture: layers, purity, no module loops, file sizes: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
