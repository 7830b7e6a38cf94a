"""One cold start, in a fresh interpreter: ``python -m perfbench.cold_child SPEC.json RESULT.json``.

The clock starts before any import of boto3 or of the function, like a Lambda Init phase that
begins once the runtime is up; the event and context are prepared before it, as the runtime does.
Both wall time and the process's CPU time are taken: on a busy machine only the CPU time says what
the start costs, since Lambda gives an initialising environment a whole CPU.
"""

import time

T0 = time.perf_counter()

import json  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
from importlib import import_module  # noqa: E402
from typing import Any  # noqa: E402


def _peak_rss_kb() -> int:
    """VmHWM: unlike ru_maxrss, which Linux carries over from the parent across exec."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> None:
    spec_path, result_path = sys.argv[1], sys.argv[2]
    with open(spec_path, encoding="utf-8") as f:
        spec: dict[str, Any] = json.load(f)
    from promoter_dev.lambda_context import LambdaContext  # noqa: PLC0415 - after the clock starts

    context = LambdaContext(60.0)
    event = spec.get("event")
    overhead = time.perf_counter() - T0  # spec reading and the context: the runtime's work, not timed
    start, cpu_start = time.perf_counter(), time.process_time()
    result: dict[str, Any] = {}
    if spec["mode"] == "floor":
        import boto3  # noqa: PLC0415 - this import is what the floor measures

        imported, cpu_imported = time.perf_counter(), time.process_time()
        boto3.client("codeartifact")
    else:
        module_name, _, attr = spec["handler"].rpartition(".")
        handler = getattr(import_module(module_name), attr)
        imported, cpu_imported = time.perf_counter(), time.process_time()
        result["response"] = handler(event, context)
    end, cpu_end = time.perf_counter(), time.process_time()
    result.update(
        seconds=end - start,
        import_seconds=imported - start,
        invoke_seconds=end - imported,
        cpu_seconds=cpu_end - cpu_start,
        cpu_import_seconds=cpu_imported - cpu_start,
        untimed_overhead_seconds=overhead,
        max_rss_kb=_peak_rss_kb(),
        modules=len(sys.modules),
    )
    with open(result_path, "w", encoding="utf-8") as f:
        json.dump(result, f, default=str)


if __name__ == "__main__":
    main()
