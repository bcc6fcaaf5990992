"""The SpiffWorkflow parser as doeflow extends it: literal ISO 8601 timers, camunda:formKey and
camunda:decisionRef read, and each element of a sub-process kept in its own lane."""

from __future__ import annotations

from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.spiff.parser.event_parsers import (
    SpiffBoundaryEventParser,
    SpiffIntermediateCatchEventParser,
    SpiffStartEventParser,
)
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser, SpiffProcessParser
from SpiffWorkflow.spiff.parser.task_spec import BusinessRuleTaskParser, SpiffTaskParser, UserTaskParser

from . import vocabulary


class _LiteralTimer:
    """SpiffWorkflow evaluates timer text as Python, so literal ISO 8601 (what BPMN tools write) is quoted."""

    def parse_timer_event(self, event: etree._Element) -> Any:
        definition = super().parse_timer_event(event)
        if definition.expression and vocabulary.is_literal_timer(definition.expression):
            definition.expression = repr(definition.expression.strip())
        return definition


class _CamundaFormKey:
    """Puts camunda:formKey where SpiffWorkflow keeps the spiffworkflow formKey property."""

    def parse_extensions(self, node: etree._Element | None = None) -> dict:
        extensions = super().parse_extensions(node)
        key = vocabulary.camunda_attribute(self.node if node is None else node, "formKey")
        if key and not extensions.get("properties", {}).get("formKey"):
            extensions.setdefault("properties", {})["formKey"] = key
        return extensions


class _UserTaskParser(_CamundaFormKey, UserTaskParser):
    pass


class _ManualTaskParser(_CamundaFormKey, SpiffTaskParser):
    pass


class _StartEventParser(_CamundaFormKey, _LiteralTimer, SpiffStartEventParser):
    pass


class _BoundaryEventParser(_LiteralTimer, SpiffBoundaryEventParser):
    pass


class _IntermediateCatchEventParser(_LiteralTimer, SpiffIntermediateCatchEventParser):
    pass


class _BusinessRuleTaskParser(BusinessRuleTaskParser):
    @staticmethod
    def get_decision_ref(node: etree._Element) -> str | None:
        return vocabulary.decision_ref(node)


def _with_spec_class(tag: str, parser_class: type) -> tuple[str, tuple[type, type]]:
    return full_tag(tag), (parser_class, SpiffBpmnParser.OVERRIDE_PARSER_CLASSES[full_tag(tag)][1])


class _ProcessParser(SpiffProcessParser):
    """Elements inside a sub-process keep the lane the diagram draws them in.

    SpiffWorkflow hands every element of a sub-process the sub-process's own lane, so a review by
    headquarters drawn in the PRD lane inside a regional sub-process would go to the regional role.
    """

    def parse_node(self, node):
        if node.get("id") in self.spec.task_specs:
            return self.spec.task_specs[node.get("id")]
        node_parser, spec_class = self.parser._get_parser_class(node.tag)
        if not node_parser or not spec_class:
            return super().parse_node(node)  # the library's own error for an unsupported element
        own_lane = self.get_lane_name(node.get("id"))
        return node_parser(self, spec_class, node, self.nsmap, lane=own_lane or self.lane).parse_node()


class DoeflowParser(SpiffBpmnParser):
    """SpiffBpmnParser that also reads literal ISO 8601 timers, camunda:formKey and camunda:decisionRef,
    and keeps each element of a sub-process in its own lane."""

    PROCESS_PARSER_CLASS = _ProcessParser
    OVERRIDE_PARSER_CLASSES = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        **dict(
            _with_spec_class(tag, parser_class)
            for tag, parser_class in (
                ("userTask", _UserTaskParser),
                ("manualTask", _ManualTaskParser),
                ("startEvent", _StartEventParser),
                ("boundaryEvent", _BoundaryEventParser),
                ("intermediateCatchEvent", _IntermediateCatchEventParser),
                ("businessRuleTask", _BusinessRuleTaskParser),
            )
        ),
    }

    def _add_data_stores(self, bpmn: etree._ElementTree) -> None:
        """Data stores are refused by the lint; skipping them lets the rest of the file still be checked."""


PARSER_CLASS = DoeflowParser


def form_key(task_spec: Any) -> str | None:
    """The form a user/manual task or start event asks for (spiffworkflow property or camunda:formKey)."""
    properties = (getattr(task_spec, "extensions", None) or {}).get("properties") or {}
    return properties.get("formKey") or None
