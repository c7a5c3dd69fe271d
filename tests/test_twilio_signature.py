"""X-Twilio-Signature as Twilio computes it: checked against the example in Twilio's own documentation."""

from __future__ import annotations

from realtalk.server.carrier_auth import twilio_signature

DOCUMENTED = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+14158675309",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
}


def test_the_signature_of_twilios_documented_example() -> None:
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert twilio_signature("12345", url, DOCUMENTED.items()) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_parameters_are_signed_in_name_order_whatever_order_they_came_in() -> None:
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert twilio_signature("12345", url, reversed(list(DOCUMENTED.items()))) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_a_websocket_upgrade_signs_its_url_alone() -> None:
    url = "wss://phone.example.org/telephony/twilio/stream"
    assert twilio_signature("12345", url) != twilio_signature("12345", url + "?x=1")
