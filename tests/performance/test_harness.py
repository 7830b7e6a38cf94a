"""Fast checks of the benchmark's own pieces and of the cold-start path it measures (run by `make test`).

The benchmark is only as good as its ground truth: the workload generator says what must be copied,
the naive reference must copy exactly that, and the template reader must see the deployed settings.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from perfbench import fake_codeartifact, naive, runner, template, workload
from promoter_dev.lambda_context import LambdaContext


def test_workload_ground_truth_matches_the_naive_reference(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a burst with Maven multi-event versions, duplicates, echoes and excluded packages
    plan = workload.make_plan(packages=40, events=160, rules=8)
    burst = workload.build_burst(plan, events=160)
    rules_file = tmp_path / "rules.json"
    rules_file.write_text(workload.rules_document(plan.rules))
    monkeypatch.setenv("PROMOTION_RULES_FILE", str(rules_file))
    recorder = fake_codeartifact.Recorder()
    monkeypatch.setattr(naive, "_client", fake_codeartifact.FakeCodeArtifactClient(recorder))
    monkeypatch.setattr(naive, "_rules", None)
    # When the naive reference promoter handles it as one batch
    response = naive.lambda_handler(workload.sqs_batch(burst.events), LambdaContext())
    # Then it copied exactly the expected versions, one call per matching event and destination
    assert response == {"batchItemFailures": []}
    assert recorder.copied() == plan.expected
    assert len(recorder.calls) == burst.naive_calls
    assert plan.minimum_calls == len(recorder.groups()) < burst.naive_calls
    assert len(burst.events) == 160


def test_template_settings_are_read_from_template_yaml() -> None:
    if not (template.ROOT / "template.yaml").exists():
        pytest.skip("no template.yaml")
    settings = template.load()
    assert settings.source == "template.yaml"
    assert settings.handler == "app.lambda_handler"
    assert settings.batch_size >= 1
    assert settings.max_concurrency >= 2
    assert settings.visibility_timeout_seconds >= settings.timeout_seconds
    assert settings.environment.get("POWERTOOLS_SERVICE_NAME")
    assert template.rules_file(settings).exists()


_INVOKE = textwrap.dedent(
    """
    import json, sys
    from perfbench import fake_codeartifact, workload
    from promoter_dev.lambda_context import LambdaContext
    recorder = fake_codeartifact.Recorder(denied_packages=set(json.loads(sys.argv[2])))
    fake_codeartifact.install(recorder)
    import app
    events = json.loads(open(sys.argv[1]).read())
    response = app.lambda_handler(workload.sqs_batch(events), LambdaContext())
    print(json.dumps({
        "response": response,
        "batch_module_loaded": "aws_lambda_powertools.utilities.batch" in sys.modules,
        "calls": len(recorder.calls),
    }))
    """
)


def _invoke_fresh(tmp_path: Path, denied: list[str]) -> dict[str, object]:
    """One cold invocation in a fresh interpreter with the template's environment and a fake client."""
    plan = workload.make_plan(packages=4, events=8, rules=4)
    burst = workload.build_burst(plan, events=8)
    rules_file = tmp_path / "rules.json"
    rules_file.write_text(workload.rules_document(plan.rules))
    events_file = tmp_path / "events.json"
    events_file.write_text(json.dumps(burst.events))
    env = runner.child_env(template.load(), rules_file=rules_file, unpaced=True)
    proc = subprocess.run(
        [sys.executable, "-c", _INVOKE, str(events_file), json.dumps(denied)],
        cwd=template.FUNCTION_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.skipif(not runner.promoter_present(), reason="functions/promoter/app.py does not exist yet")
def test_a_batch_without_failures_does_not_load_the_batch_processor(tmp_path: Path) -> None:
    # Given a fresh process (a cold start) and a batch whose copies all succeed
    # When the handler returns
    result = _invoke_fresh(tmp_path, denied=[])
    # Then the partial batch response is empty and Powertools' batch module was never imported
    assert result["response"] == {"batchItemFailures": []}
    assert result["batch_module_loaded"] is False
    assert result["calls"]


@pytest.mark.skipif(not runner.promoter_present(), reason="functions/promoter/app.py does not exist yet")
def test_a_failing_record_is_handed_back_to_the_queue(tmp_path: Path) -> None:
    # Given a batch where one package's copy is refused (a call-level error: the record must be retried)
    plan = workload.make_plan(packages=4, events=8, rules=4)
    denied = next(v.package.name for v in plan.destinations)
    # When the handler returns
    result = _invoke_fresh(tmp_path, denied=[denied])
    # Then exactly that package's records are handed back
    response = result["response"]
    assert isinstance(response, dict)
    failures = response["batchItemFailures"]
    assert failures, result
    burst = workload.build_burst(plan, events=8)
    records = workload.sqs_batch(burst.events)["Records"]
    details = {r["messageId"]: json.loads(r["body"])["detail"] for r in records}
    denied_ids = {
        message_id
        for message_id, d in details.items()
        if d["packageName"] == denied and d["repositoryName"] == workload.SOURCE
    }
    assert {f["itemIdentifier"] for f in failures} == denied_ids
