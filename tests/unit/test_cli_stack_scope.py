"""The CLI gets the stack's domain and owner as the function does: ``--domain``/``--domain-owner``, else
DOMAIN_NAME/DOMAIN_OWNER. Rules without ``domain`` (the bundled ones) mean it; rules naming another are
refused. Also: events of another region, as the parser reports them."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from promoter.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, main
from promoter.events import OtherRegionEvent, parse_event, parse_sqs_body

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = str(ROOT / "functions/promoter/promotion-rules.yaml")


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(autouse=True)
def no_stack_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "DOMAIN_NAME",
        "DOMAIN_OWNER",
        "ALLOWED_SOURCE_REPOSITORIES",
        "ALLOWED_DESTINATION_REPOSITORIES",
    ):
        monkeypatch.delenv(name, raising=False)


def event_file(tmp_path: Path, **detail: object) -> Path:
    event = json.loads((ROOT / "events/generic-published.json").read_text())
    event["detail"].update(detail)
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    return path


def test_rules_check_of_rules_without_domain_needs_no_stack() -> None:
    code, out, err = run(["rules", "check", BUNDLED])
    assert (code, err) == (EXIT_OK, "")
    assert out.splitlines()[0].startswith("stable-npm-pypi-to-release: <stack domain>/staging -> release")


@pytest.mark.parametrize("how", ["option", "environment"])
def test_rules_check_against_the_stacks_domain(how: str, monkeypatch: pytest.MonkeyPatch) -> None:
    argv = ["rules", "check", BUNDLED]
    if how == "option":
        argv += ["--domain", "mycorp"]
    else:
        monkeypatch.setenv("DOMAIN_NAME", "mycorp")
    code, out, _ = run(argv)
    assert code == EXIT_OK
    assert out.splitlines()[0].startswith("stable-npm-pypi-to-release: mycorp/staging -> release")


def test_rules_check_refuses_a_rule_of_another_domain_than_the_stacks(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n  - {name: r, domain: acme, sourceRepository: staging, destinationRepositories: [release]}\n"
    )
    code, _, err = run(["rules", "check", str(rules), "--domain", "mycorp", "--domain-owner", "111122223333"])
    assert code == EXIT_FAILED
    assert err.startswith(
        "promoter: error: invalid rules: rule 'r', field 'domain': 'acme' is not the stack's domain"
    )
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize(
    "argv", [["--domain", "My_Corp"], ["--domain", "corp\n"], ["--domain-owner", "12345"]], ids=str
)
def test_a_bad_stack_domain_or_owner_is_a_usage_error(argv: list[str]) -> None:
    code, _, err = run(["rules", "check", BUNDLED, *argv])
    assert code == EXIT_USAGE
    assert err.startswith("promoter: error: --domain")


def test_explain_with_rules_without_domain_asks_for_the_stacks(tmp_path: Path) -> None:
    event = event_file(tmp_path)
    code, _, err = run(["explain", "--rules", BUNDLED, str(event)])
    assert code == EXIT_FAILED
    assert "field 'domain': is required: pass --domain (or set DOMAIN_NAME)" in err


def test_explain_with_the_stacks_domain_matches_the_bundled_rules(tmp_path: Path) -> None:
    event = event_file(tmp_path, domainName="mycorp", domainOwner="111122223333")
    code, out, err = run(
        ["explain", "--rules", BUNDLED, str(event), "--domain", "mycorp", "--domain-owner", "111122223333"]
    )
    assert code == EXIT_OK, err
    assert "generic-to-release" in out
    assert "release" in out


def test_an_event_of_another_region_is_reported_with_its_candidate() -> None:
    event = json.loads((ROOT / "events/generic-published.json").read_text())
    assert parse_event(event, region=event["region"]).package == event["detail"]["packageName"]
    with pytest.raises(OtherRegionEvent) as caught:
        parse_event({**event, "region": "eu-west-1"}, region="us-east-1")
    assert (caught.value.region, caught.value.candidate.package) == (
        "eu-west-1",
        event["detail"]["packageName"],
    )
    with pytest.raises(OtherRegionEvent):
        parse_sqs_body(json.dumps({**event, "region": "eu-west-1"}), region="us-east-1")
    # no region to compare with (the CLI, tests), or none in the event: not checked
    assert parse_event({**event, "region": "eu-west-1"}).package
    assert parse_event({k: v for k, v in event.items() if k != "region"}, region="us-east-1").package


def test_rules_check_without_a_domain_still_applies_domain_qualified_allow_lists(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ALLOWED_SOURCE_REPOSITORIES", "acme/staging")
    monkeypatch.setenv("ALLOWED_DESTINATION_REPOSITORIES", "acme/release")
    assert run(["rules", "check", BUNDLED])[0] == EXIT_OK
    monkeypatch.setenv("ALLOWED_DESTINATION_REPOSITORIES", "acme/public")
    code, _, err = run(["rules", "check", BUNDLED])
    assert code == EXIT_FAILED
    assert "field 'destinationRepositories': 'release' is not in ALLOWED_DESTINATION_REPOSITORIES" in err
