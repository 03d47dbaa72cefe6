"""Import cost of `from mirascope import llm` against `import httpx`, in fresh processes.

Each statement runs in a new interpreter, interleaved, `--runs` times; the cost is the median
wall time minus that of an interpreter that imports nothing. The target is a ratio <= 1.0.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

STATEMENTS = {
    "nothing": "pass",
    "import httpx": "import httpx",
    "from mirascope import llm": "from mirascope import llm",
}


def _once(statement: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", statement], check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name in STATEMENTS}
    for statement in STATEMENTS.values():
        _once(statement)  # warm the bytecode caches
    for _ in range(args.runs):
        for name, statement in STATEMENTS.items():
            times[name].append(_once(statement))
    base = statistics.median(times["nothing"])
    httpx_cost = statistics.median(times["import httpx"]) - base
    llm_cost = statistics.median(times["from mirascope import llm"]) - base
    print(f"import cost in fresh processes (median of {args.runs}, interpreter start subtracted)")
    print(f"  import httpx               {httpx_cost * 1e3:7.1f} ms")
    print(f"  from mirascope import llm  {llm_cost * 1e3:7.1f} ms")
    print(f"  ratio llm / httpx          {llm_cost / httpx_cost:7.2f}x  (target <= 1.00)")


if __name__ == "__main__":
    main()
