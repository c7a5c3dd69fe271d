"""The languages Whisper knows, by code and by name: engines speak in codes (ISO-639-1, as a session's
`input_audio_transcription.language` does), while OpenAI's `verbose_json` transcription names the language
in lowercase English ("english", "french"), as the OpenAPI spec's example and OpenAI's own service answer.

The codes are Whisper's own, so three are not two-letter ISO-639-1: `haw` (Hawaiian), `yue` (Cantonese)
and `jw` (Javanese, Whisper's spelling of ISO's `jv`).
"""

from __future__ import annotations

_CODES_AND_NAMES = """
af afrikaans|am amharic|ar arabic|as assamese|az azerbaijani|ba bashkir|be belarusian|bg bulgarian|bn bengali
bo tibetan|br breton|bs bosnian|ca catalan|cs czech|cy welsh|da danish|de german|el greek|en english|es spanish
et estonian|eu basque|fa persian|fi finnish|fo faroese|fr french|gl galician|gu gujarati|ha hausa|haw hawaiian
he hebrew|hi hindi|hr croatian|ht haitian creole|hu hungarian|hy armenian|id indonesian|is icelandic|it italian
ja japanese|jw javanese|ka georgian|kk kazakh|km khmer|kn kannada|ko korean|la latin|lb luxembourgish|ln lingala
lo lao|lt lithuanian|lv latvian|mg malagasy|mi maori|mk macedonian|ml malayalam|mn mongolian|mr marathi|ms malay
mt maltese|my myanmar|ne nepali|nl dutch|nn nynorsk|no norwegian|oc occitan|pa punjabi|pl polish|ps pashto
pt portuguese|ro romanian|ru russian|sa sanskrit|sd sindhi|si sinhala|sk slovak|sl slovenian|sn shona|so somali
sq albanian|sr serbian|su sundanese|sv swedish|sw swahili|ta tamil|te telugu|tg tajik|th thai|tk turkmen
tl tagalog|tr turkish|tt tatar|uk ukrainian|ur urdu|uz uzbek|vi vietnamese|yi yiddish|yo yoruba|yue cantonese
zh chinese
"""
NAMES: dict[str, str] = {
    code: name
    for code, _, name in (pair.partition(" ") for pair in _CODES_AND_NAMES.strip().replace("\n", "|").split("|"))
}
CODES: dict[str, str] = {name: code for code, name in NAMES.items()}


def language_name(code: str) -> str:
    """The name OpenAI's `verbose_json` gives the language of `code`; a code Whisper does not know stays
    as it is, since no name can be made up for it."""
    return NAMES.get(code.lower(), code)


def language_code(value: str) -> str | None:
    """The code of a language a backend reported by code ("fr", "fr-FR") or by name ("french"); None when it
    is neither, so that nothing unknown is passed off as a language."""
    lowered = value.strip().lower()
    primary = lowered.replace("_", "-").split("-")[0]
    if primary in NAMES:
        return primary
    return CODES.get(lowered)
