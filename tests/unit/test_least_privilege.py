"""Least privilege, read from the deployed shape: template.yaml translated by SAM (samtranslator), its
intrinsics evaluated for several parameter sets, and every permission the function's role grants checked.

The role may allow only: the CodeArtifact actions the promoter uses, on exactly the configured domain's
source and destination repositories and their packages (never a ``*`` resource, never a wildcard in a
domain or repository segment); ``ssm:GetParameter`` on the rules parameter when one is used;
``ssm:GetParameter`` and ``ssm:PutParameter`` on the reconcile cursor parameter the stack creates when
reconcile is scheduled; ``events:PutEvents`` on the outcome bus when one is set; its own log group; the
events queue it consumes; X-Ray writes when tracing is on. Anything else fails the test.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from samcli.yamlhelper import yaml_parse
from samtranslator.translator.transform import transform  # type: ignore[import-untyped]

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
ACCOUNT, REGION, STACK = "123456789012", "us-east-1", "promoter-stack"
PSEUDO = {
    "AWS::AccountId": ACCOUNT,
    "AWS::Region": REGION,
    "AWS::Partition": "aws",
    "AWS::StackName": STACK,
    "AWS::URLSuffix": "amazonaws.com",
}
NO_VALUE = object()

CODEARTIFACT_SOURCE_REPOSITORY = {"codeartifact:ReadFromRepository", "codeartifact:ListPackages"}
CODEARTIFACT_DESTINATION_REPOSITORY = {"codeartifact:CopyPackageVersions"}
CODEARTIFACT_PACKAGE = {
    "codeartifact:DescribePackage",
    "codeartifact:DescribePackageVersion",
    "codeartifact:ListPackageVersions",
    "codeartifact:CopyPackageVersions",
    "codeartifact:UpdatePackageVersionsStatus",
}
SQS_CONSUMER = {
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes",
}
LOGS = {"logs:CreateLogStream", "logs:PutLogEvents"}
XRAY = {
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
}


@dataclass(frozen=True)
class Scenario:
    name: str
    parameters: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.parameters.setdefault("DomainName", "acme")  # no default: every deployment names its domain

    @property
    def domain(self) -> str:
        return self.parameters["DomainName"]

    @property
    def owner(self) -> str:
        return self.parameters.get("DomainOwner") or ACCOUNT

    @property
    def sources(self) -> set[str]:
        return set(self.parameters.get("SourceRepositories", "staging").split(","))

    @property
    def destinations(self) -> set[str]:
        return set(self.parameters.get("DestinationRepositories", "release").split(","))

    @property
    def cursor_parameter(self) -> str | None:
        if self.parameters.get("ReconcileSchedule", "rate(1 hour)") == "":
            return None
        return f"/codeartifact-promoter/{STACK}/reconcile-cursor"

    @property
    def rules_parameter(self) -> str | None:
        if self.parameters.get("PromotionRules"):
            return f"/codeartifact-promoter/{STACK}/rules"
        return self.parameters.get("PromotionRulesParameterName") or None


SCENARIOS = [
    Scenario("defaults"),
    Scenario(
        "several repositories, another owner",
        {
            "DomainName": "corp",
            "DomainOwner": "111122223333",
            "SourceRepositories": "dev,staging",
            "DestinationRepositories": "release,mirror,archive",
        },
    ),
    Scenario(
        "rules in a stack parameter, outcome bus, tracing",
        {"PromotionRules": "rules: []", "OutcomeEventBus": "promotions", "Tracing": "true"},
    ),
    Scenario("an existing rules parameter", {"PromotionRulesParameterName": "/team/promoter/rules"}),
    Scenario("no reconcile schedule", {"ReconcileSchedule": ""}),
    Scenario(
        "every optional feature at once",
        {
            "DomainName": "corp",
            "DomainOwner": "111122223333",
            "SourceRepositories": "dev,staging",
            "DestinationRepositories": "release,mirror",
            "PromotionRules": "rules: []",
            "OutcomeEventBus": "promotions",
            "Tracing": "true",
            "AlarmEmail": "ops@example.com",
            "ReconcileSchedule": "rate(30 minutes)",
        },
    ),
]


# --------------------------------------------------------------------------- the template as deployed


class Resolver:
    """Evaluates the intrinsics of the translated template for one parameter set."""

    def __init__(self, template: Mapping[str, Any], parameters: Mapping[str, str]) -> None:
        self.template = template
        self.values: dict[str, Any] = {
            name: spec.get("Default", "") for name, spec in (template.get("Parameters") or {}).items()
        }
        self.values.update(parameters)
        self.values.update(PSEUDO)
        self.conditions: dict[str, bool] = {}

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            self.conditions[name] = bool(self.resolve(self.template["Conditions"][name]))
        return self.conditions[name]

    def attribute(self, logical_id: str, attribute: str) -> str:
        kind = self.template["Resources"][logical_id]["Type"]
        return f"{{{kind}:{logical_id}.{attribute}}}"

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.values:
            return self.values[name]
        kind = self.template["Resources"][name]["Type"]
        return f"{{{kind}:{name}}}"

    def sub(self, text: str, variables: Mapping[str, Any]) -> str:
        def replace(match: re.Match[str]) -> str:
            key = match.group(1)
            if key in variables:
                return str(variables[key])
            if "." in key and key.split(".")[0] in self.template["Resources"]:
                return self.attribute(*key.split(".", 1))
            return str(self.ref(key))

        return re.sub(r"\$\{([^}!]+)\}", replace, text)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self.resolve(v) for v in value]
            return [v for v in items if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::Sub":
                if isinstance(arg, str):
                    return self.sub(arg, {})
                return self.sub(arg[0], {k: self.resolve(v) for k, v in arg[1].items()})
            if key == "Fn::If":
                return self.resolve(arg[1] if self.condition(arg[0]) else arg[2])
            if key == "Fn::Select":
                return self.resolve(arg[1])[int(self.resolve(arg[0]))]
            if key == "Fn::Split":
                return str(self.resolve(arg[1])).split(arg[0])
            if key == "Fn::Join":
                return arg[0].join(str(v) for v in self.resolve(arg[1]))
            if key == "Fn::GetAtt":
                logical_id, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.attribute(logical_id, attribute)
            if key == "Fn::Equals":
                left, right = (self.resolve(v) for v in arg)
                return left == right
            if key == "Fn::Not":
                return not self.resolve(arg[0])
            if key == "Fn::And":
                return all(self.resolve(v) for v in arg)
            if key == "Fn::Or":
                return any(self.resolve(v) for v in arg)
            if key == "Condition":
                return self.condition(arg)
            assert not key.startswith("Fn::"), f"the test does not evaluate {key}"
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}


class NoManagedPolicies:
    """SAM asks for AWS managed policies only to expand policy names; a finding here would be a failure."""

    def load(self) -> dict[str, str]:
        return {}


@dataclass
class Deployed:
    scenario: Scenario
    resources: dict[str, Any]

    def of_type(self, kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for logical_id, resource in self.resources.items():
            if resource["Type"] == kind:
                yield logical_id, resource


def deploy(scenario: Scenario) -> Deployed:
    template = yaml_parse(TEMPLATE.read_text())
    for resource in template["Resources"].values():  # what `sam package` does to local code
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://artifacts/promoter.zip"
    with pytest.MonkeyPatch.context() as patch:  # SAM reads the region from a boto3 session
        patch.setenv("AWS_DEFAULT_REGION", REGION)
        translated = transform(
            copy.deepcopy(template), {**scenario.parameters, **PSEUDO}, NoManagedPolicies()
        )
    resolver = Resolver(translated, scenario.parameters)
    resources = {}
    for logical_id, resource in translated["Resources"].items():
        if "Condition" in resource and not resolver.condition(resource["Condition"]):
            continue
        resources[logical_id] = resolver.resolve(resource)
    return Deployed(scenario, resources)


@pytest.fixture(scope="module", params=SCENARIOS, ids=[s.name for s in SCENARIOS])
def deployed(request: pytest.FixtureRequest) -> Deployed:
    return deploy(request.param)


def function(deployed: Deployed) -> dict[str, Any]:
    functions = list(deployed.of_type("AWS::Lambda::Function"))
    assert len(functions) == 1, "one function"
    return functions[0][1]


def role_statements(deployed: Deployed) -> list[dict[str, Any]]:
    """Every statement that grants the function's role something, wherever the template attached it."""
    role_arn = function(deployed)["Properties"]["Role"]
    match = re.fullmatch(r"\{AWS::IAM::Role:(\w+)\.Arn\}", role_arn)
    assert match, f"the function's role must be a role of this stack, not {role_arn}"
    role_id = match.group(1)
    role = deployed.resources[role_id]["Properties"]
    assert not role.get("ManagedPolicyArns"), "no managed policies: they grant more than the function needs"
    statements = [s for p in role.get("Policies", []) for s in _list(p["PolicyDocument"]["Statement"])]
    for _, policy in [*deployed.of_type("AWS::IAM::Policy"), *deployed.of_type("AWS::IAM::ManagedPolicy")]:
        props = policy["Properties"]
        if f"{{AWS::IAM::Role:{role_id}}}" in props.get("Roles", []):
            statements.extend(_list(props["PolicyDocument"]["Statement"]))
    return statements


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def grants(deployed: Deployed) -> dict[str, set[str]]:
    """action -> resources it is allowed on."""
    allowed: dict[str, set[str]] = {}
    for statement in role_statements(deployed):
        assert statement["Effect"] == "Allow"
        assert "NotAction" not in statement
        assert "NotResource" not in statement
        for action in _list(statement["Action"]):
            allowed.setdefault(action, set()).update(_list(statement["Resource"]))
    return allowed


# --------------------------------------------------------------------------- the assertions


def test_the_role_is_for_lambda_only(deployed: Deployed) -> None:
    role_id = re.findall(r"Role:(\w+)\.", function(deployed)["Properties"]["Role"])[0]
    trust = deployed.resources[role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert [(s["Effect"], s["Principal"], s["Action"]) for s in trust] == [
        ("Allow", {"Service": "lambda.amazonaws.com"}, "sts:AssumeRole")
    ]


def test_no_action_wildcards_and_nothing_beyond_the_job(deployed: Deployed) -> None:
    scenario = deployed.scenario
    allowed = set(grants(deployed))
    assert not [a for a in allowed if "*" in a], "no wildcard actions"
    expected = CODEARTIFACT_SOURCE_REPOSITORY | CODEARTIFACT_DESTINATION_REPOSITORY | CODEARTIFACT_PACKAGE
    expected |= {"codeartifact:DescribeDomain"} | SQS_CONSUMER | LOGS
    if scenario.rules_parameter:
        expected |= {"ssm:GetParameter"}
    if scenario.cursor_parameter:
        expected |= {"ssm:GetParameter", "ssm:PutParameter"}
    if scenario.parameters.get("OutcomeEventBus"):
        expected |= {"events:PutEvents"}
    if scenario.parameters.get("Tracing") == "true":
        expected |= XRAY
    extra = allowed - expected
    assert not extra, f"the role allows more than the promoter needs: {sorted(extra)}"
    for needed in ("codeartifact:CopyPackageVersions", "codeartifact:ReadFromRepository"):
        assert needed in allowed


def test_codeartifact_only_on_the_configured_domain_repositories_and_packages(deployed: Deployed) -> None:
    s = deployed.scenario
    prefix = f"arn:aws:codeartifact:{REGION}:{s.owner}:"
    domain = f"{prefix}domain/{s.domain}"
    repository = {r: f"{prefix}repository/{s.domain}/{r}" for r in s.sources | s.destinations}
    packages = {r: f"{prefix}package/{s.domain}/{r}/*" for r in s.sources | s.destinations}
    for action, resources in grants(deployed).items():
        if not action.startswith("codeartifact:"):
            continue
        assert "*" not in resources, f"{action} on every resource"
        for arn in resources:
            assert arn.startswith(prefix), f"{action} on {arn}: another account or region"
            segments = arn[len(prefix) :].split("/")
            assert segments[0] in ("domain", "repository", "package"), f"{action} on {arn}"
            assert "*" not in "/".join(segments[1:3]), f"{action} on {arn}: a wildcard domain or repository"
            assert segments[1] == s.domain, f"{action} on {arn}: another domain"

    allowed = grants(deployed)
    # Copies land only in destinations; reading is the sources' (plus listings for reconcile)
    assert allowed["codeartifact:CopyPackageVersions"] == (
        {repository[r] for r in s.destinations} | {packages[r] for r in s.destinations}
    )
    # Revocation (promoter revoke) changes statuses of the destinations' packages only
    assert allowed["codeartifact:UpdatePackageVersionsStatus"] == {packages[r] for r in s.destinations}
    assert allowed["codeartifact:ReadFromRepository"] == {repository[r] for r in s.sources}
    assert allowed["codeartifact:DescribeDomain"] == {domain}
    assert allowed["codeartifact:ListPackages"] <= set(repository.values())
    for action in ("codeartifact:DescribePackageVersion", "codeartifact:ListPackageVersions"):
        assert allowed.get(action, set()) <= set(packages.values())
    # The origin controls read after a NOT_ALLOWED: destination packages only
    assert allowed["codeartifact:DescribePackage"] == {packages[r] for r in s.destinations}


def test_every_other_permission_is_on_its_one_resource(deployed: Deployed) -> None:
    s = deployed.scenario
    allowed = grants(deployed)
    for action in LOGS:
        assert allowed[action] == {"{AWS::Logs::LogGroup:PromoterLogGroup.Arn}"}
    for action in SQS_CONSUMER & set(allowed):
        queue = [q for q in allowed[action] if q.startswith("{AWS::SQS::Queue:")]
        assert allowed[action] == set(queue), f"{action} on {allowed[action]}"
        assert len(queue) == 1, f"{action} on {allowed[action]}"
    names = [name for name in (s.rules_parameter, s.cursor_parameter) if name]
    if names:
        assert allowed["ssm:GetParameter"] == {f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{n}" for n in names}
    if s.cursor_parameter:
        # the one parameter the function writes is the cursor the stack created for it
        assert allowed["ssm:PutParameter"] == {
            f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{s.cursor_parameter}"
        }
        cursor = [
            r
            for _, r in deployed.of_type("AWS::SSM::Parameter")
            if r["Properties"]["Name"] == s.cursor_parameter
        ]
        assert len(cursor) == 1, "the cursor parameter is a resource of the stack"
    else:
        assert "ssm:PutParameter" not in allowed
    if s.parameters.get("OutcomeEventBus"):
        bus = s.parameters["OutcomeEventBus"]
        assert allowed["events:PutEvents"] == {f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{bus}"}
    for action in XRAY & set(allowed):
        assert allowed[action] == {"*"}  # X-Ray has no resource-level permissions for these


def test_the_function_refuses_rules_outside_what_iam_allows(deployed: Deployed) -> None:
    """Defence in depth: the allow-lists the function enforces at start are the repositories IAM names."""
    s = deployed.scenario
    variables = function(deployed)["Properties"]["Environment"]["Variables"]
    assert set(variables["ALLOWED_SOURCE_REPOSITORIES"].split(",")) == s.sources
    assert set(variables["ALLOWED_DESTINATION_REPOSITORIES"].split(",")) == s.destinations
    rule = [r for _, r in deployed.of_type("AWS::Events::Rule") if "EventPattern" in r["Properties"]]
    assert len(rule) == 1
    detail = rule[0]["Properties"]["EventPattern"]["detail"]
    assert detail["domainName"] == [s.domain]
    assert set(detail["repositoryName"]) == s.sources
    assert detail.get("domainOwner", [s.owner]) == [s.owner]
    # ... and the domain and owner it refuses other rules with are the ones IAM and the event rule name
    assert variables["DOMAIN_NAME"] == s.domain
    assert variables["DOMAIN_OWNER"] == s.parameters.get("DomainOwner", "")


def test_only_the_package_version_rule_may_send_to_the_stacks_queues(deployed: Deployed) -> None:
    """Queue policies: EventBridge may send into the events queue and the rule target's dead-letter queue,
    only on behalf of the package version rule, and nobody else may do anything."""
    (rule_id,) = [
        logical_id
        for logical_id, r in deployed.of_type("AWS::Events::Rule")
        if "EventPattern" in r["Properties"]
    ]
    target = deployed.resources[rule_id]["Properties"]["Targets"][0]
    dead_letter = target["DeadLetterConfig"]["Arn"]
    assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] <= 86400
    policies = {}
    for _, policy in deployed.of_type("AWS::SQS::QueuePolicy"):
        (queue,) = policy["Properties"]["Queues"]
        policies[queue] = _list(policy["Properties"]["PolicyDocument"]["Statement"])
    assert set(policies) == {"{AWS::SQS::Queue:EventsQueue}", "{AWS::SQS::Queue:UndeliveredEventsQueue}"}
    assert dead_letter == "{AWS::SQS::Queue:UndeliveredEventsQueue.Arn}"
    for queue, statements in policies.items():
        for statement in statements:
            assert (statement["Effect"], statement["Principal"], statement["Action"]) == (
                "Allow",
                {"Service": "events.amazonaws.com"},
                "sqs:SendMessage",
            ), queue
            assert statement["Resource"] == queue.replace("}", ".Arn}")
            rule_arn = f"{{AWS::Events::Rule:{rule_id}.Arn}}"
            assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": rule_arn}}


def test_every_alarm_notifies_the_alarm_email_when_one_is_given(deployed: Deployed) -> None:
    alarms = dict(deployed.of_type("AWS::CloudWatch::Alarm"))
    assert {"UndeliveredEventsAlarm", "EventsQueueAgeAlarm", "DeadLetterQueueAlarm"} <= set(alarms)
    email = deployed.scenario.parameters.get("AlarmEmail")
    for logical_id, alarm in alarms.items():
        if email:
            assert alarm["Properties"]["AlarmActions"] == ["{AWS::SNS::Topic:AlarmTopic}"], logical_id
        else:
            assert "AlarmActions" not in alarm["Properties"], logical_id


WIDENINGS = {
    "codeartifact on every resource": {"Action": "codeartifact:CopyPackageVersions", "Resource": "*"},
    "a wildcard repository": {
        "Action": "codeartifact:CopyPackageVersions",
        "Resource": f"arn:aws:codeartifact:{REGION}:{ACCOUNT}:repository/acme/*",
    },
    "copy into a source": {
        "Action": "codeartifact:CopyPackageVersions",
        "Resource": f"arn:aws:codeartifact:{REGION}:{ACCOUNT}:repository/acme/staging",
    },
    "a wildcard action": {
        "Action": "codeartifact:*",
        "Resource": f"arn:aws:codeartifact:{REGION}:{ACCOUNT}:domain/acme",
    },
    "describe source packages": {
        "Action": "codeartifact:DescribePackage",
        "Resource": f"arn:aws:codeartifact:{REGION}:{ACCOUNT}:package/acme/staging/*",
    },
    "another service": {"Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*"},
    "events on any bus": {"Action": "events:PutEvents", "Resource": "*"},
    "write any parameter": {
        "Action": "ssm:PutParameter",
        "Resource": f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/*",
    },
}


@pytest.mark.parametrize("widening", list(WIDENINGS), ids=list(WIDENINGS))
def test_a_widened_role_is_caught(widening: str) -> None:
    """The checks above are not vacuous: one extra statement in the role makes one of them fail."""
    deployed = deploy(SCENARIOS[0])
    role_id = re.findall(r"Role:(\w+)\.", function(deployed)["Properties"]["Role"])[0]
    policies = deployed.resources[role_id]["Properties"]["Policies"]
    policies.append(
        {"PolicyName": "extra", "PolicyDocument": {"Statement": [{"Effect": "Allow", **WIDENINGS[widening]}]}}
    )
    checks = [
        test_no_action_wildcards_and_nothing_beyond_the_job,
        test_codeartifact_only_on_the_configured_domain_repositories_and_packages,
        test_every_other_permission_is_on_its_one_resource,
    ]
    caught = 0
    for check in checks:
        try:
            check(deployed)
        except AssertionError:
            caught += 1
    assert caught, f"{widening}: no check noticed"
