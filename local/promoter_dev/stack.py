"""The stack's event wiring (rule -> queue -> DLQ), deployed into the local AWS from template.yaml itself.

The demo and the end-to-end test must exercise the event pattern, queue settings and redrive
policy a deployment would get, not a hand-written copy of them. moto's CloudFormation creates
these resources from the template's own Parameters, Conditions and resource definitions; the
function itself is not part of this stack because it runs under the runtime emulator, and the
event source mapping between queue and function is emulated by :mod:`promoter_dev.esm` with the
template's batch settings. moto's CloudFormation cannot create AWS::SQS::QueuePolicy (it warns
and skips it); its SQS would not enforce the policy anyway, so the template's policy is checked
statically instead (tests/unit/test_template.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from promoter_dev import cfn

WIRING_RESOURCES = (
    "EventsQueue",
    "DeadLetterQueue",
    "EventsQueuePolicy",
    "UndeliveredEventsQueue",
    "UndeliveredEventsQueuePolicy",
    "PackageVersionRule",
)
WIRING_OUTPUTS = (
    "EventsQueueArn",
    "DeadLetterQueueArn",
    "UndeliveredEventsQueueUrl",
    "PackageVersionRuleArn",
)
QUEUE_EVENT = "PackageVersionEvents"


@dataclass(frozen=True)
class EventWiring:
    """What the local stack created, and the event source mapping settings the template gives."""

    stack_name: str
    rule_arn: str
    queue_url: str
    queue_arn: str
    dead_letter_queue_url: str
    dead_letter_queue_arn: str
    batch_size: int
    batching_window_seconds: int
    report_batch_item_failures: bool
    undelivered_events_queue_url: str = ""
    """The rule target's dead-letter queue: events EventBridge could not deliver to the events queue."""

    @property
    def rule_name(self) -> str:
        return self.rule_arn.rsplit("/", 1)[-1]


def wiring_template(template: Mapping[str, Any]) -> dict[str, Any]:
    """The template reduced to its event wiring, with its own parameters and conditions."""
    resources = template["Resources"]
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "codeartifact-promoter event wiring (local)",
        "Parameters": template.get("Parameters", {}),
        "Conditions": template.get("Conditions", {}),
        "Resources": {name: resources[name] for name in WIRING_RESOURCES},
        "Outputs": {name: template["Outputs"][name] for name in WIRING_OUTPUTS},
    }


def queue_event_settings(template: Mapping[str, Any]) -> dict[str, Any]:
    """The function's SQS event (the event source mapping) as the template declares it."""
    function = template["Resources"][cfn.FUNCTION_ID]
    event = function["Properties"]["Events"][QUEUE_EVENT]
    if event.get("Type") != "SQS":
        raise cfn.TemplateError(f"{cfn.FUNCTION_ID}.Events.{QUEUE_EVENT} is not an SQS event")
    properties: dict[str, Any] = event["Properties"]
    return properties


def deploy_event_wiring(
    cloudformation: Any,
    sqs: Any,
    *,
    template: Mapping[str, Any] | None = None,
    parameters: Mapping[str, str] | None = None,
    stack_name: str = "codeartifact-promoter",
) -> EventWiring:
    """Create the wiring stack through CloudFormation and return where its pieces are."""
    source = template if template is not None else cfn.load_template()
    cloudformation.create_stack(
        StackName=stack_name,
        TemplateBody=json.dumps(wiring_template(source)),
        Parameters=[
            {"ParameterKey": k, "ParameterValue": v}
            for k, v in cfn.stack_parameters(source, parameters).items()
        ],
    )
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    if stack["StackStatus"] != "CREATE_COMPLETE":
        raise RuntimeError(f"stack {stack_name} is {stack['StackStatus']}: {stack.get('StackStatusReason')}")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}

    def url(arn: str) -> str:
        queue_url: str = sqs.get_queue_url(QueueName=arn.rsplit(":", 1)[-1])["QueueUrl"]
        return queue_url

    settings = queue_event_settings(source)
    return EventWiring(
        stack_name=stack_name,
        rule_arn=outputs["PackageVersionRuleArn"],
        queue_url=url(outputs["EventsQueueArn"]),
        queue_arn=outputs["EventsQueueArn"],
        dead_letter_queue_url=url(outputs["DeadLetterQueueArn"]),
        dead_letter_queue_arn=outputs["DeadLetterQueueArn"],
        batch_size=int(settings.get("BatchSize", 10)),
        batching_window_seconds=int(settings.get("MaximumBatchingWindowInSeconds", 0)),
        report_batch_item_failures="ReportBatchItemFailures" in settings.get("FunctionResponseTypes", []),
        undelivered_events_queue_url=outputs["UndeliveredEventsQueueUrl"],
    )
