"""template.yaml as the local tools read it: CloudFormation tags, parameters and the intrinsics it uses.

The local runs (the emulator invoker, the demo, the end-to-end test) take the handler, the
environment, the event pattern and the queue settings from the template itself, so that what runs
here is what a deployment would run. This evaluates exactly the intrinsic functions the template
uses (Ref, Fn::If with its Conditions, Fn::Sub, Fn::Select, Fn::Split, Fn::Join, Fn::GetAtt from
the physical ids a caller supplies); anything else fails loudly instead of being guessed.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = PROJECT_ROOT / "template.yaml"
FUNCTION_ID = "PromoterFunction"
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
LOCAL_PARAMETERS: Mapping[str, str] = {"DomainName": "acme"}
"""What the local runs deploy with for parameters that have no default (as a samconfig.toml's
parameter_overrides would): the local AWS's example domain. Overrides still win (``--parameter-overrides
DomainName=mycorp``)."""


class NoValue:
    """AWS::NoValue: the key or list item disappears."""


NO_VALUE = NoValue()


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that turns the short tags (!Ref, !Sub, ...) into their long JSON forms."""


def _construct_tag(loader: _CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        assert isinstance(node, yaml.MappingNode)
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "Condition":
        return {"Condition": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def stack_parameters(
    template: Mapping[str, Any], overrides: Mapping[str, str] | None = None
) -> dict[str, str]:
    """``overrides`` plus ``LOCAL_PARAMETERS`` for the parameters without a default they leave out: what a
    local CloudFormation stack of the template is created with."""
    declared = template.get("Parameters", {})
    result = {
        name: value
        for name, value in LOCAL_PARAMETERS.items()
        if name in declared and "Default" not in declared[name]
    }
    result.update(overrides or {})
    return result


def load_template(path: Path | str = TEMPLATE) -> dict[str, Any]:
    """The template as plain data (short tags expanded)."""
    with Path(path).open(encoding="utf-8") as handle:
        data = yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass
    if not isinstance(data, dict) or "Resources" not in data:
        raise ValueError(f"{path} is not a CloudFormation template")
    return data


class TemplateError(ValueError):
    """The template uses something this evaluator does not understand."""


@dataclass
class Resolver:
    """Evaluates intrinsics against parameter values (defaults, then overrides) and pseudo parameters."""

    template: dict[str, Any]
    overrides: Mapping[str, str] = field(default_factory=dict)
    account_id: str = ACCOUNT_ID
    region: str = REGION
    stack_name: str = "codeartifact-promoter-local"
    physical_ids: Mapping[str, str] = field(default_factory=dict)
    """What a Ref to a resource or ``${Resource.Attr}`` gives (unknown ones stay unresolved)."""
    local_parameters: Mapping[str, str] = field(default_factory=lambda: dict(LOCAL_PARAMETERS))
    """Values of parameters without a default that no override gives (``LOCAL_PARAMETERS``; empty: such
    a parameter must be overridden, as in a real deployment)."""

    def __post_init__(self) -> None:
        declared = self.template.get("Parameters", {})
        unknown = sorted(set(self.overrides) - set(declared))
        if unknown:
            raise TemplateError(f"unknown template parameters: {', '.join(unknown)}")
        self.parameters: dict[str, Any] = {}
        for name, spec in declared.items():
            value = self.overrides.get(name, spec.get("Default", self.local_parameters.get(name)))
            if value is None:
                raise TemplateError(f"parameter {name} has no default; pass a value for it")
            if spec.get("Type") == "CommaDelimitedList" and isinstance(value, str):
                value = [item.strip() for item in value.split(",")]
            self.parameters[name] = value
        self._conditions: dict[str, bool] = {}

    def pseudo(self) -> dict[str, str]:
        return {
            "AWS::AccountId": self.account_id,
            "AWS::Region": self.region,
            "AWS::Partition": "aws",
            "AWS::StackName": self.stack_name,
            "AWS::URLSuffix": "amazonaws.com",
        }

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            spec = self.template.get("Conditions", {}).get(name)
            if spec is None:
                raise TemplateError(f"unknown condition {name}")
            self._conditions[name] = self._test(spec)
        return self._conditions[name]

    def _test(self, spec: Any) -> bool:
        if not isinstance(spec, dict) or len(spec) != 1:
            raise TemplateError(f"not a condition: {spec!r}")
        ((key, args),) = spec.items()
        if key == "Condition":
            return self.condition(args)
        if key == "Fn::Equals":
            left, right = (self.resolve(arg) for arg in args)
            return bool(left == right)
        if key == "Fn::Not":
            return not self._test(args[0])
        if key == "Fn::And":
            return all(self._test(arg) for arg in args)
        if key == "Fn::Or":
            return any(self._test(arg) for arg in args)
        raise TemplateError(f"unsupported condition function {key}")

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.parameters:
            return self.parameters[name]
        pseudo = self.pseudo()
        if name in pseudo:
            return pseudo[name]
        if name in self.physical_ids:
            return self.physical_ids[name]
        raise TemplateError(f"cannot resolve Ref {name} locally")

    def _sub(self, text: str, variables: Mapping[str, Any]) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name:
                if name in self.physical_ids:
                    return self.physical_ids[name]
                raise TemplateError(f"cannot resolve ${{{name}}} locally")
            return str(self.ref(name))

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    def resolve(self, value: Any) -> Any:
        """The value with every intrinsic evaluated; AWS::NoValue entries are dropped."""
        if isinstance(value, list):
            items = [self.resolve(item) for item in value]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, args),) = value.items()
            if key == "Ref":
                return self.ref(args)
            if key == "Fn::If":
                name, when_true, when_false = args
                return self.resolve(when_true if self.condition(name) else when_false)
            if key == "Fn::Sub":
                if isinstance(args, str):
                    return self._sub(args, {})
                text, variables = args
                return self._sub(text, {k: self.resolve(v) for k, v in variables.items()})
            if key == "Fn::Select":
                index, items = args
                return self.resolve(items)[int(self.resolve(index))]
            if key == "Fn::Split":
                delimiter, text = args
                return str(self.resolve(text)).split(delimiter)
            if key == "Fn::Join":
                delimiter, items = args
                return delimiter.join(str(item) for item in self.resolve(items))
            if key == "Fn::GetAtt":
                name = ".".join(str(part) for part in args)
                if name in self.physical_ids:
                    return self.physical_ids[name]
                raise TemplateError(f"cannot resolve Fn::GetAtt {name} locally")
            if key.startswith("Fn::"):
                raise TemplateError(f"unsupported intrinsic {key}")
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}


@dataclass(frozen=True)
class FunctionConfig:
    """What Lambda would run: the code, the handler and the environment the template gives it."""

    logical_id: str
    code_dir: Path
    handler: str
    runtime: str
    timeout: int
    memory: int
    environment: dict[str, str]


def function_config(
    resolver: Resolver, logical_id: str = FUNCTION_ID, root: Path = PROJECT_ROOT
) -> FunctionConfig:
    """Globals.Function merged under the function's own properties, as SAM merges them."""
    template = resolver.template
    resource = template["Resources"].get(logical_id)
    if resource is None or resource.get("Type") != "AWS::Serverless::Function":
        raise TemplateError(f"{logical_id} is not an AWS::Serverless::Function in the template")
    glob = template.get("Globals", {}).get("Function", {})
    props = resource.get("Properties", {})

    def prop(name: str, default: Any = None) -> Any:
        return resolver.resolve(props.get(name, glob.get(name, default)))

    env: dict[str, str] = {}
    for source in (glob, props):
        variables = resolver.resolve(source.get("Environment", {}).get("Variables", {}))
        env.update({key: _env_text(value) for key, value in variables.items()})
    return FunctionConfig(
        logical_id=logical_id,
        code_dir=(root / str(prop("CodeUri"))).resolve(),
        handler=str(prop("Handler")),
        runtime=str(prop("Runtime")),
        timeout=int(prop("Timeout", 3)),
        memory=int(prop("MemorySize", 128)),
        environment=env,
    )


def _env_text(value: Any) -> str:
    """Lambda environment values are strings; CloudFormation renders booleans in lower case."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def resource(resolver: Resolver, logical_id: str) -> dict[str, Any]:
    """A resource's Properties, evaluated."""
    spec = resolver.template["Resources"].get(logical_id)
    if spec is None:
        raise TemplateError(f"no resource {logical_id} in the template")
    properties: dict[str, Any] = resolver.resolve(spec.get("Properties", {}))
    return properties


def translate(template: Mapping[str, Any], parameters: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The template after the SAM transform, as CloudFormation would receive it (offline).

    ``CodeUri`` becomes a placeholder S3 location (what ``sam package`` would upload); the function
    has its own role, so SAM needs no managed policy lookups.
    """
    from samtranslator.translator.transform import transform  # type: ignore[import-untyped]  # noqa: PLC0415 - slow import, rarely needed

    source = copy.deepcopy(dict(template))
    for spec in source["Resources"].values():
        if spec.get("Type") == "AWS::Serverless::Function":
            spec["Properties"]["CodeUri"] = "s3://codeartifact-promoter-local/function.zip"

    class _NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    translated: dict[str, Any] = transform(source, dict(parameters or {}), _NoManagedPolicies())
    return translated
