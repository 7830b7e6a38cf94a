"""template.yaml's hardened configuration: the stack's domain reaches the function, no event dies without a
trace (the rule target's dead-letter queue, its alarm, the events queue's age alarm), all on the dashboard."""

from __future__ import annotations

import json

import pytest
from promoter_dev import cfn

from .test_template import (
    LOG_AND_QUEUE_ACTIONS,
    PHYSICAL,
    TEMPLATE,
    active,
    grants,
    only_the_rule_may_send,
    resolver,
)


def test_domain_name_has_no_default_so_a_deployment_must_name_it() -> None:
    assert "Default" not in TEMPLATE["Parameters"]["DomainName"]
    with pytest.raises(cfn.TemplateError, match="DomainName has no default"):
        cfn.Resolver(TEMPLATE, {}, physical_ids=PHYSICAL, local_parameters={})


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        ({"DomainName": "mycorp"}, ("mycorp", "")),
        ({"DomainName": "mycorp", "DomainOwner": "210987654321"}, ("mycorp", "210987654321")),
    ],
)
def test_the_function_is_told_the_stacks_domain_and_owner(
    parameters: dict[str, str], expected: tuple[str, str]
) -> None:
    r = cfn.Resolver(TEMPLATE, parameters, physical_ids=PHYSICAL, local_parameters={})
    env = cfn.function_config(r).environment
    assert (env["DOMAIN_NAME"], env["DOMAIN_OWNER"]) == expected
    # the same domain and owner the event rule listens to
    pattern = cfn.resource(r, "PackageVersionRule")["EventPattern"]["detail"]
    assert pattern["domainName"] == [expected[0]]
    assert pattern["domainOwner"] == [expected[1] or cfn.ACCOUNT_ID]


def test_the_rule_target_retries_then_keeps_undeliverable_events() -> None:
    (target,) = cfn.resource(resolver(), "PackageVersionRule")["Targets"]
    assert target["Arn"] == PHYSICAL["EventsQueue.Arn"]
    assert target["DeadLetterConfig"] == {"Arn": PHYSICAL["UndeliveredEventsQueue.Arn"]}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0
    assert 0 < target["RetryPolicy"]["MaximumEventAgeInSeconds"] <= 86400
    queue = cfn.resource(resolver(), "UndeliveredEventsQueue")
    assert queue["SqsManagedSseEnabled"] is True  # EventBridge cannot use the AWS managed KMS key
    assert queue["MessageRetentionPeriod"] == 1209600


def test_only_the_package_version_rule_may_send_to_the_undelivered_events_queue() -> None:
    policy = cfn.resource(resolver(), "UndeliveredEventsQueuePolicy")
    assert policy["Queues"] == [PHYSICAL["UndeliveredEventsQueue"]]
    assert policy["PolicyDocument"]["Statement"] == only_the_rule_may_send(
        "UndeliverableEventsOfTheRuleOnly", "UndeliveredEventsQueue"
    )


def test_alarms_on_undelivered_events_and_a_stalled_events_queue_notify_the_alarm_email() -> None:
    r = resolver(AlarmEmail="ops@example.com")
    undelivered = cfn.resource(r, "UndeliveredEventsAlarm")
    age = cfn.resource(r, "EventsQueueAgeAlarm")
    retention = cfn.resource(r, "EventsQueue")["MessageRetentionPeriod"]

    assert (undelivered["Namespace"], undelivered["MetricName"], undelivered["Dimensions"]) == (
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        [{"Name": "QueueName", "Value": PHYSICAL["UndeliveredEventsQueue.QueueName"]}],
    )
    assert (undelivered["ComparisonOperator"], undelivered["Threshold"]) == ("GreaterThanThreshold", 0)
    assert (age["Namespace"], age["MetricName"], age["Dimensions"]) == (
        "AWS/SQS",
        "ApproximateAgeOfOldestMessage",
        [{"Name": "QueueName", "Value": PHYSICAL["EventsQueue.QueueName"]}],
    )
    assert age["ComparisonOperator"] == "GreaterThanThreshold"
    # Well before SQS deletes the events: the alarm fires (threshold + its evaluation) with days to spare
    assert age["Threshold"] + age["Period"] * age["EvaluationPeriods"] <= retention / 8
    # ... and after a record that fails five deliveries would (that one is the dead-letter queue's business)
    visibility = cfn.resource(r, "EventsQueue")["VisibilityTimeout"]
    assert age["Threshold"] > 5 * visibility
    for alarm in (undelivered, age):
        assert alarm["AlarmActions"] == [PHYSICAL["AlarmTopic"]]
        assert alarm["OKActions"] == [PHYSICAL["AlarmTopic"]]
        assert alarm["TreatMissingData"] == "notBreaching"
    assert active(r, "AlarmTopicSubscription")
    quiet = resolver()
    assert "AlarmActions" not in cfn.resource(quiet, "UndeliveredEventsAlarm")
    assert "AlarmActions" not in cfn.resource(quiet, "EventsQueueAgeAlarm")


def test_the_dashboard_shows_undelivered_events_the_queue_age_and_every_alarm() -> None:
    body = json.loads(cfn.resource(resolver(), "Dashboard")["DashboardBody"])
    metrics = [m for w in body["widgets"] if w["type"] == "metric" for m in w["properties"]["metrics"]]
    flat = json.dumps(metrics)
    assert PHYSICAL["UndeliveredEventsQueue.QueueName"] in flat
    assert "ApproximateAgeOfOldestMessage" in flat
    (alarms,) = [w for w in body["widgets"] if w["type"] == "alarm"]
    shown = set(alarms["properties"]["alarms"])
    for alarm in (
        "UndeliveredEventsAlarm",
        "EventsQueueAgeAlarm",
        "DeadLetterQueueAlarm",
        "FunctionErrorsAlarm",
    ):
        assert TEMPLATE["Resources"][alarm]["Type"] == "AWS::CloudWatch::Alarm"
        assert PHYSICAL[f"{alarm}.Arn"] in shown, alarm


def test_outputs_name_the_undelivered_events_queue() -> None:
    assert "UndeliveredEventsQueueUrl" in TEMPLATE["Outputs"]


def test_every_optional_feature_at_once_adds_only_its_own_permissions() -> None:
    r = resolver(
        DomainOwner="210987654321",
        SourceRepositories="dev,staging",
        DestinationRepositories="release,mirror",
        PromotionRules="rules: []",
        OutcomeEventBus="promotions",
        Tracing="true",
        AlarmEmail="ops@example.com",
    )
    allowed = grants(r)
    codeartifact = {a for a in allowed if a.startswith("codeartifact:")}
    assert set(allowed) - codeartifact == LOG_AND_QUEUE_ACTIONS | {
        "ssm:GetParameter",
        "ssm:PutParameter",
        "events:PutEvents",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
    }
    parameters = f"arn:aws:ssm:us-east-1:{cfn.ACCOUNT_ID}:parameter/codeartifact-promoter/promo"
    # the rules (read) and, with the default schedule, the reconcile cursor (read and written): nothing else
    assert allowed["ssm:GetParameter"] == {f"{parameters}/rules", f"{parameters}/reconcile-cursor"}
    assert allowed["ssm:PutParameter"] == {f"{parameters}/reconcile-cursor"}
    assert allowed["events:PutEvents"] == {f"arn:aws:events:us-east-1:{cfn.ACCOUNT_ID}:event-bus/promotions"}
    for action in codeartifact:
        for arn in allowed[action]:
            assert arn.startswith("arn:aws:codeartifact:us-east-1:210987654321:"), (action, arn)
            assert arn.split(":")[5].split("/")[1] == "acme", (action, arn)
    env = cfn.function_config(r).environment
    assert (env["DOMAIN_NAME"], env["DOMAIN_OWNER"]) == ("acme", "210987654321")
    for alarm in (
        "UndeliveredEventsAlarm",
        "EventsQueueAgeAlarm",
        "DeadLetterQueueAlarm",
        "VersionsFailedAlarm",
        "ReconcileErrorsAlarm",
    ):
        assert cfn.resource(r, alarm)["AlarmActions"] == [PHYSICAL["AlarmTopic"]]
