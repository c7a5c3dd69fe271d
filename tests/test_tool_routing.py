"""The embedded engine's tool router: a request goes to the tool whose declaration shares its words, or none."""

from __future__ import annotations

from realtalk.engines.base import ChatMessage, FunctionSpec, ToolCall, ToolChoiceSpec
from realtalk.engines.embedded.tool_routing import route, routed_choice, stem, terms

ALARM = FunctionSpec(
    "set_alarm",
    "Wake the user at a time of day.",
    {"type": "object", "properties": {"hour": {"type": "integer"}, "minute": {"type": "integer"}}},
)
LIGHTS = FunctionSpec(
    "switch_lights",
    "Turn the lights in a room on or off.",
    {"type": "object", "properties": {"room": {"type": "string", "description": "Kitchen, hall, ..."}}},
)
NOTIFY = FunctionSpec("notify", "Send a text message to a contact.", {})
TOOLS = [ALARM, LIGHTS, NOTIFY]


def test_stemming_makes_the_forms_of_a_word_agree() -> None:
    assert [stem(w) for w in ("lights", "light", "raining", "shares", "share", "shared", "bus")] == [
        "light",
        "light",
        "rain",
        "shar",
        "shar",
        "shar",
        "bus",
    ]


def test_terms_split_names_and_drop_function_words() -> None:
    assert terms("get_stock_price") == terms("getStockPrice") == ["stock", "pric"]
    assert terms("Could you turn on the kitchen's lights, please?") == ["turn", "kitchen", "light"]


def test_a_word_of_a_tool_name_routes_to_that_tool() -> None:
    assert route("The alarm should ring at seven", TOOLS) is ALARM
    assert route("Lights off!", TOOLS) is LIGHTS


def test_two_words_of_a_description_route_but_one_does_not() -> None:
    assert route("Text my contact", TOOLS) is NOTIFY
    assert route("Text me a poem", TOOLS) is None


def test_parameter_words_alone_do_not_route() -> None:
    assert route("How many minutes are in an hour?", TOOLS) is None


def test_a_request_sharing_no_word_with_any_tool_routes_to_none() -> None:
    assert route("What is the capital of Peru?", TOOLS) is None
    assert route("", TOOLS) is None
    assert route("Turn the lights on", []) is None


def test_a_tie_goes_to_the_tool_whose_name_shares_more_words_then_to_the_first_declared() -> None:
    ring = FunctionSpec("ring", "Ring the alarm clock.", {})  # "alarm clock": half a point each
    alarm = FunctionSpec("alarm", "Ring.", {})  # a point, and one word of its name
    assert route("The alarm clock", [ring, alarm]) is alarm
    alarm_now = FunctionSpec("alarm_now", "Ring.", {})  # "now" is a function word: the same score
    assert route("The alarm clock", [alarm, alarm_now]) is alarm
    assert route("The alarm clock", [alarm_now, alarm]) is alarm_now


def test_auto_becomes_the_routed_tool_or_words() -> None:
    asked = [ChatMessage("system", "Be brief."), ChatMessage("user", "Switch the hall lights on")]
    assert routed_choice(asked, TOOLS, ToolChoiceSpec("auto")) == ToolChoiceSpec("function", "switch_lights")
    hello = [ChatMessage("user", "Hello there")]
    assert routed_choice(hello, TOOLS, ToolChoiceSpec("auto")) == ToolChoiceSpec("none")


def test_after_a_tool_result_the_model_answers_in_words() -> None:
    call = ToolCall("call_1", "switch_lights", '{"room": "hall"}')
    done = [
        ChatMessage("user", "Switch the hall lights on"),
        ChatMessage("assistant", "", (call,)),
        ChatMessage("tool", '{"state": "on"}', tool_call_id="call_1"),
    ]
    assert routed_choice(done, TOOLS, ToolChoiceSpec("auto")) == ToolChoiceSpec("none")


def test_required_keeps_the_models_own_pick_when_nothing_routes_and_other_choices_stay() -> None:
    hello = [ChatMessage("user", "Hello there")]
    assert routed_choice(hello, TOOLS, ToolChoiceSpec("required")) == ToolChoiceSpec("required")
    lights = [ChatMessage("user", "Lights on")]
    assert routed_choice(lights, TOOLS, ToolChoiceSpec("required")) == ToolChoiceSpec("function", "switch_lights")
    for choice in (ToolChoiceSpec("none"), ToolChoiceSpec("function", "notify")):
        assert routed_choice(lights, TOOLS, choice) == choice
    assert routed_choice(lights, [], ToolChoiceSpec("auto")) == ToolChoiceSpec("auto")
