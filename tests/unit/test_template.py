"""template.yaml's promises, checked on the template itself (and on its SAM translation), offline.

`make template-check` runs sam validate --lint, cfn-lint and checkov; these tests pin what those
tools cannot know: the wiring's numbers, the environment contract with the function, and that the
role can do nothing beyond the configured domain, repositories, parameter and bus.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from promoter_dev import cfn
from promoter_dev.template_check import skips_without_reason

TEMPLATE = cfn.load_template()
ACCOUNT = cfn.ACCOUNT_ID
ARN = f"arn:aws:codeartifact:us-east-1:{ACCOUNT}"
PHYSICAL = {
    "EventsQueue.Arn": "arn:aws:sqs:us-east-1:123456789012:events",
    "EventsQueue.QueueName": "events",
    "DeadLetterQueue.Arn": "arn:aws:sqs:us-east-1:123456789012:dlq",
    "DeadLetterQueue.QueueName": "dlq",
    "PromoterLogGroup.Arn": "arn:aws:logs:us-east-1:123456789012:log-group:promoter:*",
    "PackageVersionRule.Arn": "arn:aws:events:us-east-1:123456789012:rule/promoter",
    "ReconcileScheduleRule.Arn": "arn:aws:events:us-east-1:123456789012:rule/reconcile",
    "PromoterFunction": "promoter",
    "PromoterFunction.Arn": "arn:aws:lambda:us-east-1:123456789012:function:promoter",
    "PromoterLogGroup": "promoter",
    "EventsQueue": "https://sqs/events",
    "DeadLetterQueue": "https://sqs/dlq",
    "AlarmTopic": "arn:aws:sns:us-east-1:123456789012:alarms",
    "UndeliveredEventsQueue.Arn": "arn:aws:sqs:us-east-1:123456789012:undelivered",
    "UndeliveredEventsQueue.QueueName": "undelivered",
    "UndeliveredEventsQueue": "https://sqs/undelivered",
    **{
        f"{alarm}.Arn": f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{alarm}"
        for alarm in (
            "VersionsFailedAlarm",
            "DeadLetterQueueAlarm",
            "UndeliveredEventsAlarm",
            "EventsQueueAgeAlarm",
            "FunctionErrorsAlarm",
        )
    },
}


CURSOR_ARN = f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/codeartifact-promoter/promo/reconcile-cursor"


def resolver(**overrides: str) -> cfn.Resolver:
    return cfn.Resolver(TEMPLATE, overrides, physical_ids=PHYSICAL, stack_name="promo")


def active(r: cfn.Resolver, logical_id: str) -> bool:
    condition = TEMPLATE["Resources"][logical_id].get("Condition")
    return condition is None or r.condition(condition)


def statements(r: cfn.Resolver) -> list[dict[str, Any]]:
    policies = cfn.resource(r, "PromoterRole")["Policies"]
    return [s for p in policies for s in p["PolicyDocument"]["Statement"]]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def grants(r: cfn.Resolver) -> dict[str, set[str]]:
    """action -> resources it is allowed on."""
    result: dict[str, set[str]] = {}
    for statement in statements(r):
        assert statement["Effect"] == "Allow"
        for action in as_list(statement["Action"]):
            result.setdefault(action, set()).update(as_list(statement["Resource"]))
    return result


# --------------------------------------------------------------------------- the function


def test_function_runs_the_promoter_on_arm64_with_a_runtime_sam_build_builds_here() -> None:
    function = cfn.function_config(resolver())

    assert function.handler == "app.lambda_handler"
    assert (function.code_dir / "app.py").is_file()
    assert (function.code_dir / "promotion-rules.yaml").is_file()
    # python3.13 through SAM CLI's uv build method: uv installs wheels for the target Python and
    # platform, so no python3.13 interpreter or container is needed (tests/e2e/test_sam_build.py).
    assert function.runtime == "python3.13"
    assert TEMPLATE["Resources"]["PromoterFunction"]["Metadata"]["BuildMethod"] == "python-uv"
    assert TEMPLATE["Globals"]["Function"]["Architectures"] == ["arm64"]


def test_default_environment_is_the_functions_contract() -> None:
    env = cfn.function_config(resolver()).environment

    assert env == {
        "POWERTOOLS_SERVICE_NAME": "codeartifact-promoter",
        "POWERTOOLS_METRICS_NAMESPACE": "CodeArtifactPromoter",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "PROMOTER_TRACING": "false",
        "PROMOTION_RULES_FILE": "promotion-rules.yaml",
        "DOMAIN_NAME": "acme",
        "DOMAIN_OWNER": "",
        "ALLOWED_SOURCE_REPOSITORIES": "staging",
        "ALLOWED_DESTINATION_REPOSITORIES": "release",
        "OUTCOME_EVENT_BUS": "",
        "PROMOTER_COPY_RATE": "2.5",
        "PROMOTER_COPY_PACING": "adaptive",
        "RECONCILE_CURSOR_PARAMETER": "/codeartifact-promoter/promo/reconcile-cursor",
    }


def test_rules_from_a_parameter_the_stack_creates() -> None:
    r = resolver(PromotionRules="rules: []")
    env = cfn.function_config(r).environment

    assert env["PROMOTION_RULES_PARAMETER"] == "/codeartifact-promoter/promo/rules"
    assert "PROMOTION_RULES_FILE" not in env
    assert active(r, "RulesParameter")
    assert cfn.resource(r, "RulesParameter")["Name"] == "/codeartifact-promoter/promo/rules"
    assert grants(r)["ssm:GetParameter"] == {
        f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/codeartifact-promoter/promo/rules",
        CURSOR_ARN,
    }


def test_rules_from_a_parameter_the_stack_references() -> None:
    r = resolver(PromotionRulesParameterName="/platform/promotion-rules")
    env = cfn.function_config(r).environment

    assert env["PROMOTION_RULES_PARAMETER"] == "/platform/promotion-rules"
    assert "PROMOTION_RULES_FILE" not in env
    assert not active(r, "RulesParameter")
    assert grants(r)["ssm:GetParameter"] == {
        f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/platform/promotion-rules",
        CURSOR_ARN,
    }


def test_tracing_is_off_by_default_and_active_only_when_asked() -> None:
    off, on = resolver(), resolver(Tracing="true")

    assert off.resolve(TEMPLATE["Globals"]["Function"]["Tracing"]) == "PassThrough"
    assert on.resolve(TEMPLATE["Globals"]["Function"]["Tracing"]) == "Active"
    assert cfn.function_config(on).environment["PROMOTER_TRACING"] == "true"
    assert not any(a.startswith("xray:") for a in grants(off))
    assert grants(on)["xray:PutTraceSegments"] == {"*"}


# --------------------------------------------------------------------------- events -> queue -> function


def test_rule_matches_package_version_changes_of_the_domain_and_source_repositories() -> None:
    r = resolver(SourceRepositories="staging,qa.internal", DomainOwner="210987654321")
    rule = cfn.resource(r, "PackageVersionRule")

    assert rule["EventBusName"] == "default"
    assert rule["EventPattern"] == {
        "source": ["aws.codeartifact"],
        "detail-type": ["CodeArtifact Package Version State Change"],
        "detail": {
            "domainName": ["acme"],
            "domainOwner": ["210987654321"],
            "repositoryName": ["staging", "qa.internal"],
        },
    }
    assert [t["Arn"] for t in rule["Targets"]] == [PHYSICAL["EventsQueue.Arn"]]


def only_the_rule_may_send(sid: str, queue: str) -> list[dict[str, Any]]:
    """The one statement of a queue policy that lets the package version rule, and nothing else, send."""
    return [
        {
            "Sid": sid,
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": PHYSICAL[f"{queue}.Arn"],
            "Condition": {"ArnEquals": {"aws:SourceArn": PHYSICAL["PackageVersionRule.Arn"]}},
        }
    ]


def test_only_the_rule_may_send_to_the_queue() -> None:
    policy = cfn.resource(resolver(), "EventsQueuePolicy")["PolicyDocument"]

    assert policy["Statement"] == only_the_rule_may_send("PackageVersionEventsOnly", "EventsQueue")


def test_queue_outlives_six_function_timeouts_and_redrives_to_an_encrypted_dlq() -> None:
    r = resolver()
    queue, dlq = cfn.resource(r, "EventsQueue"), cfn.resource(r, "DeadLetterQueue")
    timeout = cfn.function_config(r).timeout

    assert queue["VisibilityTimeout"] >= 6 * timeout
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": PHYSICAL["DeadLetterQueue.Arn"],
        "maxReceiveCount": 5,
    }
    assert queue["SqsManagedSseEnabled"] is True
    assert dlq["SqsManagedSseEnabled"] is True
    assert dlq["MessageRetentionPeriod"] > queue["MessageRetentionPeriod"]


def test_event_source_mapping_reports_partial_failures_and_respects_the_copy_quota() -> None:
    translated = cfn.translate(TEMPLATE)
    mapping = translated["Resources"]["PromoterFunctionPackageVersionEvents"]

    assert mapping["Type"] == "AWS::Lambda::EventSourceMapping"
    props = mapping["Properties"]
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["MaximumBatchingWindowInSeconds"] > 0
    assert props["BatchSize"] <= 10
    # 2 is the minimum MaximumConcurrency; with CopyRatePerInvocation 2.5 they share the 5/s quota.
    assert props["ScalingConfig"] == {"MaximumConcurrency": 2}
    rate = float(resolver().parameters["CopyRatePerInvocation"])
    assert rate * props["ScalingConfig"]["MaximumConcurrency"] <= 5


def test_reconcile_runs_hourly_by_default_and_an_empty_schedule_disables_it() -> None:
    hourly, never = resolver(), resolver(ReconcileSchedule="")

    assert cfn.resource(hourly, "ReconcileScheduleRule")["ScheduleExpression"] == "rate(1 hour)"
    assert (
        cfn.resource(hourly, "ReconcileScheduleRule")["Targets"][0]["Arn"] == PHYSICAL["PromoterFunction.Arn"]
    )
    assert active(hourly, "ReconcileSchedulePermission")
    assert not active(never, "ReconcileScheduleRule")
    assert not active(never, "ReconcileSchedulePermission")


def test_reconcile_keeps_its_cursor_in_a_parameter_of_the_stack_and_may_touch_only_that() -> None:
    hourly, never = resolver(), resolver(ReconcileSchedule="")

    # The stack creates the parameter (a String starting as "{}": from the beginning) and names it to the
    # function; the role may read and write that one parameter, and nothing else in SSM
    parameter = cfn.resource(hourly, "ReconcileCursorParameter")
    assert parameter["Name"] == "/codeartifact-promoter/promo/reconcile-cursor"
    assert (parameter["Type"], parameter["Value"]) == ("String", "{}")
    assert cfn.function_config(hourly).environment["RECONCILE_CURSOR_PARAMETER"] == parameter["Name"]
    allowed = grants(hourly)
    assert allowed["ssm:GetParameter"] == {CURSOR_ARN}
    assert allowed["ssm:PutParameter"] == {CURSOR_ARN}
    # Without a schedule there is no cursor, no permission and no alarm
    assert not active(never, "ReconcileCursorParameter")
    assert "RECONCILE_CURSOR_PARAMETER" not in cfn.function_config(never).environment
    assert not any(a.startswith("ssm:") for a in grants(never))
    assert not active(never, "ReconcileErrorsAlarm")


def test_reconcile_errors_alarm_notifies_like_the_others_and_is_on_the_dashboard() -> None:
    r = resolver(AlarmEmail="ops@example.com")
    alarm = cfn.resource(r, "ReconcileErrorsAlarm")

    assert (alarm["Namespace"], alarm["MetricName"]) == ("CodeArtifactPromoter", "ReconcileErrors")
    assert alarm["Dimensions"] == [{"Name": "service", "Value": "codeartifact-promoter"}]
    assert (alarm["Statistic"], alarm["ComparisonOperator"], alarm["Threshold"]) == (
        "Sum",
        "GreaterThanThreshold",
        0,
    )
    # every run emits a datapoint (0 when clean): between runs the alarm keeps the last run's state
    assert alarm["TreatMissingData"] == "ignore"
    assert alarm["AlarmActions"] == [PHYSICAL["AlarmTopic"]]
    assert alarm["OKActions"] == [PHYSICAL["AlarmTopic"]]
    assert "AlarmActions" not in cfn.resource(resolver(), "ReconcileErrorsAlarm")
    text = json.dumps(json.loads(cfn.resource(resolver(), "Dashboard")["DashboardBody"]))
    assert '{CodeArtifactPromoter,ErrorCode,service} MetricName=\\"ReconcileErrors\\"' in text


def test_outcome_events_go_to_the_given_bus_only() -> None:
    off, on = resolver(), resolver(OutcomeEventBus="platform-events")

    assert "events:PutEvents" not in grants(off)
    assert cfn.function_config(on).environment["OUTCOME_EVENT_BUS"] == "platform-events"
    assert grants(on)["events:PutEvents"] == {f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/platform-events"}


# --------------------------------------------------------------------------- least privilege


def expected_arns(kind: str, repositories: list[str], owner: str = ACCOUNT) -> set[str]:
    base = f"arn:aws:codeartifact:us-east-1:{owner}"
    suffix = "/*" if kind == "package" else ""
    return {f"{base}:{kind}/acme/{repo}{suffix}" for repo in repositories}


@pytest.mark.parametrize(
    ("sources", "destinations"),
    [
        (["staging"], ["release"]),
        (["dev", "staging"], ["staging", "release", "mirror.eu"]),
        (["a1", "b2", "c3", "d4", "e5"], ["r1", "r2", "r3", "r4", "r5"]),
    ],
)
def test_role_reaches_exactly_the_configured_repositories(
    sources: list[str], destinations: list[str]
) -> None:
    r = resolver(SourceRepositories=",".join(sources), DestinationRepositories=",".join(destinations))
    allowed = grants(r)

    assert allowed["codeartifact:ReadFromRepository"] == expected_arns("repository", sources)
    assert allowed["codeartifact:DescribePackageVersion"] == expected_arns("package", sources)
    assert allowed["codeartifact:CopyPackageVersions"] == expected_arns(
        "repository", destinations
    ) | expected_arns("package", destinations)
    # reconcile enumerates sources only; it reads a destination one package at a time
    assert allowed["codeartifact:ListPackages"] == expected_arns("repository", sources)
    assert allowed["codeartifact:ListPackageVersions"] == expected_arns("package", sources + destinations)
    assert allowed["codeartifact:DescribeDomain"] == {f"{ARN}:domain/acme"}
    # after a NOT_ALLOWED, the copier reads the destination package's origin controls
    assert allowed["codeartifact:DescribePackage"] == expected_arns("package", destinations)
    # promoter revoke: statuses of the destinations' packages, nothing else
    assert allowed["codeartifact:UpdatePackageVersionsStatus"] == expected_arns("package", destinations)


# What every configuration of the function needs: write its logs and consume its events queue.
LOG_AND_QUEUE_ACTIONS = {
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes",
}


def test_role_allows_nothing_else_and_no_wildcard_resource() -> None:
    allowed = grants(resolver())

    assert set(allowed) == LOG_AND_QUEUE_ACTIONS | {
        "codeartifact:DescribeDomain",
        "codeartifact:ReadFromRepository",
        "codeartifact:ListPackages",
        "codeartifact:DescribePackage",
        "codeartifact:DescribePackageVersion",
        "codeartifact:ListPackageVersions",
        "codeartifact:CopyPackageVersions",
        "codeartifact:UpdatePackageVersionsStatus",
        "ssm:GetParameter",  # the reconcile cursor
        "ssm:PutParameter",
    }
    # Wildcards only as "every package of this repository" and "every stream of this log group".
    for resource in {res for resources in allowed.values() for res in resources}:
        assert "*" not in resource.removesuffix("/*").removesuffix(":*"), resource
    assert allowed["logs:PutLogEvents"] == {PHYSICAL["PromoterLogGroup.Arn"]}
    assert allowed["sqs:ReceiveMessage"] == {PHYSICAL["EventsQueue.Arn"]}


def test_another_accounts_domain_is_addressed_by_its_owner() -> None:
    allowed = grants(resolver(DomainOwner="210987654321"))

    assert allowed["codeartifact:ReadFromRepository"] == expected_arns(
        "repository", ["staging"], "210987654321"
    )


def test_sam_translation_keeps_the_template_role_and_adds_no_policies() -> None:
    translated = cfn.translate(TEMPLATE)
    roles = [k for k, v in translated["Resources"].items() if v["Type"] == "AWS::IAM::Role"]
    function = translated["Resources"]["PromoterFunction"]["Properties"]

    assert roles == ["PromoterRole"]
    assert function["Role"] == {"Fn::GetAtt": ["PromoterRole", "Arn"]}
    assert function["Architectures"] == ["arm64"]
    assert function["LoggingConfig"] == {"LogGroup": {"Ref": "PromoterLogGroup"}}


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("staging", True),
        ("a1,b2,c3,d4,e5", True),
        ("a1,b2,c3,d4,e5,f6", False),  # IAM has five slots; a sixth would be unreachable
        ("staging,", False),
        ("stag*", False),
        ("", False),
    ],
)
def test_repository_lists_are_validated_at_deploy_time(value: str, accepted: bool) -> None:
    pattern = TEMPLATE["Parameters"]["SourceRepositories"]["AllowedPattern"]

    assert (re.fullmatch(pattern, value) is not None) is accepted
    assert TEMPLATE["Parameters"]["DestinationRepositories"]["AllowedPattern"] == pattern


# --------------------------------------------------------------------------- operations


def test_alarms_watch_failed_versions_the_dlq_and_function_errors() -> None:
    r = resolver(AlarmEmail="ops@example.com")
    failed = cfn.resource(r, "VersionsFailedAlarm")
    dlq = cfn.resource(r, "DeadLetterQueueAlarm")
    errors = cfn.resource(r, "FunctionErrorsAlarm")

    # final failures only: retryable ones go back to the queue, and those that never heal reach the DLQ
    assert (failed["Namespace"], failed["MetricName"]) == ("CodeArtifactPromoter", "VersionsFailedFinal")
    assert (dlq["MetricName"], dlq["Dimensions"]) == (
        "ApproximateNumberOfMessagesVisible",
        [{"Name": "QueueName", "Value": "dlq"}],
    )
    assert (errors["Namespace"], errors["MetricName"]) == ("AWS/Lambda", "Errors")
    for alarm in (failed, dlq, errors):
        assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)
        assert alarm["AlarmActions"] == [PHYSICAL["AlarmTopic"]]
    assert active(r, "AlarmTopicSubscription")
    assert not active(resolver(), "AlarmTopic")
    assert "AlarmActions" not in cfn.resource(resolver(), "VersionsFailedAlarm")


def test_dashboard_shows_outcomes_and_failures_by_error_code() -> None:
    body = json.loads(cfn.resource(resolver(), "Dashboard")["DashboardBody"])
    text = json.dumps(body)

    for metric in (
        "VersionsPromoted",
        "VersionsSuperseded",
        "VersionsDeferred",
        "VersionsFailedFinal",
        "VersionsFailedRetryable",
    ):
        assert f'"{metric}"' in text
    assert '{CodeArtifactPromoter,ErrorCode,service} MetricName=\\"VersionsFailed\\"' in text


def test_outputs_name_the_queue_dlq_function_log_group_and_dashboard() -> None:
    outputs = TEMPLATE["Outputs"]
    assert {
        "EventsQueueUrl",
        "DeadLetterQueueUrl",
        "FunctionName",
        "FunctionArn",
        "LogGroupName",
        "DashboardUrl",
    } <= set(outputs)
    assert outputs["LogGroupName"]["Value"] == {"Ref": "PromoterLogGroup"}
    assert "#dashboards:name=${Dashboard}" in outputs["DashboardUrl"]["Value"]["Fn::Sub"]


def test_every_checkov_skip_says_why() -> None:
    assert skips_without_reason(cfn.TEMPLATE) == []
