"""Versioning: what `lilypad`'s closure hash costs per decorated function, against `inspect.getsource`.

The functions are the realistic prompts of `tests/lilypad/versioning_cases/prompts.py`: a bare
`@llm.call`, one with a tool, two helpers, a class and a helper module, an `@llm.agent`, a prompt
made in a factory (a closure cell), and an `@llm.tool`.

For each function:
- floor: `inspect.getsource` of the prompt function alone (no parsing, nothing followed), the
  least any source-based versioning does;
- cold: `closure(fn)` after `clear_cache()`: the modules parsed again and the installed versions
  looked up again, as on the first call in a new process;
- warm modules: `closure(fn)` with only the per-function cache cleared: the first call of a
  function whose module another versioned function already parsed (the usual case);
- cached: `closure(fn)` again, what every later call pays (a weak-dictionary lookup).

The shipped Mirascope's `ops.version` cannot run here: it needs the old `mirascope` package and
runs `ruff` in a subprocess twice per function, so it is not measured (its cost is dominated by
two process starts, tens of milliseconds). Rounds alternate between the contestants; each figure
is the fastest round (min of N). Timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import inspect
import sys
import time
from collections.abc import Callable
from pathlib import Path

from mirascope.lilypad import _versioning
from mirascope.lilypad._versioning import clear_cache, closure

CASES = Path(__file__).resolve().parents[1] / "tests" / "lilypad" / "versioning_cases"
sys.path.insert(0, str(CASES))
import prompts  # noqa: E402  # pyright: ignore[reportMissingImports]  # the application module being versioned


def per_call_us(action: Callable[[], object], repeat: int, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeat):
            action()
        best = min(best, (time.perf_counter() - start) / repeat)
    return best * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()

    functions: dict[str, Callable[..., object]] = dict(prompts.PROMPTS)
    print("Versioning (closure hash) per decorated function, µs; ratios against inspect.getsource in this run")
    print("The shipped Mirascope ops.version is not measured: it needs the old package and ruff in a subprocess.")
    columns = ("getsource", 11), ("cold", 11), ("warm mod.", 11), ("cached", 9), ("cold/floor", 12), ("warm/floor", 12)
    header = f"{'function':<22}" + "".join(f"{title:>{width}}" for title, width in columns)
    print(header)
    print("-" * len(header))
    for name, fn in functions.items():
        target = _versioning._unwrap(fn)[0]  # pyright: ignore[reportPrivateUsage]

        def floor(target: object = target) -> object:
            return inspect.getsource(target)  # pyright: ignore[reportArgumentType]

        def cold(fn: Callable[..., object] = fn) -> object:
            clear_cache()
            return closure(fn)

        def warm(fn: Callable[..., object] = fn) -> object:
            _versioning._closures.clear()  # pyright: ignore[reportPrivateUsage]
            return closure(fn)

        def cached(fn: Callable[..., object] = fn) -> object:
            return closure(fn)

        results = {"floor": float("inf"), "cold": float("inf"), "warm": float("inf"), "cached": float("inf")}
        for _ in range(args.rounds):  # alternate, so machine noise hits every contestant
            for label, action in (("floor", floor), ("cold", cold), ("warm", warm), ("cached", cached)):
                repeat = args.repeat * (100 if label == "cached" else 1)
                results[label] = min(results[label], per_call_us(action, repeat, 1))
        print(
            f"{name:<22}{results['floor']:>11.1f}{results['cold']:>11.1f}{results['warm']:>11.1f}"
            f"{results['cached']:>9.2f}{results['cold'] / results['floor']:>11.1f}x"
            f"{results['warm'] / results['floor']:>11.1f}x"
        )
    found = closure(prompts.recommend_with_tools)
    print(
        f"\nrecommend_with_tools reaches {found.code.count(chr(10)) + 1} lines of code in 2 modules; "
        f"dependencies {dict(found.dependencies)}"
    )


if __name__ == "__main__":
    main()
