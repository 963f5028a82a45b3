"""The text front-end reads what people write: each case with the words it must become."""

from __future__ import annotations

import numpy as np
import pytest

from hifilite.tts.speaker import SENTENCE_PAUSE_S, SentenceSpeaker
from hifilite.text import MAX_SENTENCE_CHARS, TextError
from hifilite.text.normalize import MAX_BREAK_S, normalize_text, split_breaks

pytest.importorskip("num2words")

CASES = {
    "dates": [
        ("3/4/2025", "March fourth, twenty twenty-five"),  # US month/day order
        ("03/04/25", "March fourth, twenty twenty-five"),
        ("25/12/2025", "December twenty-fifth, twenty twenty-five"),  # no 25th month: day/month
        ("2025-03-04", "March fourth, twenty twenty-five"),
        ("Due 2025-03-04.", "Due March fourth, twenty twenty-five."),
        ("March 4, 2025", "March fourth, twenty twenty-five"),
        ("On March 4 2025, we left.", "On March fourth, twenty twenty-five, we left."),
        ("4 March 2025", "the fourth of March, twenty twenty-five"),
        ("On the 4th of July.", "On the fourth of July."),
        ("Mar. 4th", "March fourth"),
        ("Sept. 21st, 1999", "September twenty-first, nineteen ninety-nine"),
        ("Paid on 4/5.", "Paid on April fifth."),
        ("2/30/2025", "two thirty twenty twenty-five"),  # no such day: not a date
    ],
    "times": [
        ("10:45pm", "ten forty-five PM"),
        ("At 10:45 p.m. we ate.", "At ten forty-five PM we ate."),
        ("5:30", "five thirty"),
        ("14:05", "fourteen oh five"),  # 24-hour times are read as written
        ("18:00", "eighteen hundred"),
        ("9:00 am", "nine AM"),
        ("12:00", "twelve o'clock"),
        ("Open 9am-5pm", "Open nine AM to five PM"),
        ("Up at 7 a.m. Then work.", "Up at seven AM. Then work."),
        ("10:30-11:30", "ten thirty to eleven thirty"),
        ("It took 1:02:03", "It took one oh two and three seconds"),
        ("She ran it in 25:30.", "She ran it in twenty-five thirty."),  # no 25th hour: a duration
    ],
    "numbers": [
        ("-7", "minus seven"),
        ("It was -3.5 degrees, (-2) later", "It was minus three point five degrees, (minus two) later"),
        ("3.14", "three point one four"),
        (".5 of it", "zero point five of it"),
        ("2.0.1", "two point oh point one"),
        ("Install v1.2 or 2.10.3.", "Install version one point two or two point ten point three."),
        ("1e6", "one times ten to the sixth"),
        ("2.5e-3", "two point five times ten to the minus third"),
        ("3 x 10^8 m/s", "three times ten to the eighth meters per second"),
        ("45%", "forty-five percent"),
        ("3.5%", "three point five percent"),
        ("-2%", "minus two percent"),
        ("1st, 22nd, 103rd", "first, twenty-second, one hundred third"),
        ("1,000,000", "one million"),
        ("1,000th", "one thousandth"),
        ("5-10 and 1990-2000", "five to ten and nineteen ninety to two thousand"),
        ("50%-60%", "fifty percent to sixty percent"),
        ("3/4 done, 1/2 cup, 24/7", "three quarters done, one half cup, twenty-four seven"),
        ("2½ hours", "two and a half hours"),
        ("20°C", "twenty degrees Celsius"),
        ("-40° is cold", "minus forty degrees is cold"),
        ("1 km, 2 km, 3 kg per cm", "one kilometer, two kilometers, three kilograms per centimeter"),
        ("~5 people", "about five people"),
        ("#1 hit", "number one hit"),
        ("5 × 3", "five times three"),
        ("the '90s", "the nineties"),
        ("MP3 in 5km", "MP three in five kilometers"),
        ("007", "zero zero seven"),
        ("192.168.0.1", "one hundred ninety-two dot one hundred sixty-eight dot zero dot one"),
    ],
    "currency": [
        ("$5", "five dollars"),
        ("$5.50", "five dollars and fifty cents"),
        ("$1", "one dollar"),
        ("£3", "three pounds"),
        ("€10", "ten euros"),
        ("¥500", "five hundred yen"),
        ("5¢", "five cents"),
        ("5 USD", "five U S dollars"),
        ("EUR 10", "ten euros"),
        ("$1.2 million", "one point two million dollars"),
        ("$5k", "five thousand dollars"),
        ("$3bn", "three billion dollars"),
        ("-$5", "minus five dollars"),
        ("$3.999", "three point nine nine nine dollars"),
        ("$1,250", "one thousand two hundred fifty dollars"),
    ],
    "digits": [
        ("555-123-4567", "five five five, one two three, four five six seven"),
        ("(555) 123-4567", "five five five, one two three, four five six seven"),
        ("+44 20 7946 0958", "four four, two zero, seven nine four six, zero nine five eight"),
        ("1234567890123456", "one two three four five six seven eight nine zero one two three four five six"),
        ("123456789012345", "one hundred twenty-three trillion four hundred fifty-six billion seven hundred "
                            "eighty-nine million twelve thousand three hundred forty-five"),
        ("Zip 02139", "Zip zero two one three nine"),
    ],
    "addresses": [
        ("example.com/path", "example dot com slash path"),
        ("See https://www.example.org/a-b/.", "See w w w dot example dot org slash a dash b."),
        ("github.com/foo/bar_baz, ok", "github dot com slash foo slash bar underscore baz, ok"),
        ("user@host.org", "user at host dot org"),
        ("Mail jo.smith+news@mail.example.co.uk.", "Mail jo dot smith plus news at mail dot example dot co dot uk."),
    ],
    "markup": [
        ("<speak>Hello <break time=\"500ms\"/> world.</speak>", "Hello world."),
        ("He said:\"<emphasis>no</emphasis>\".", "He said:\"no\"."),
        ("<p>One.</p><p>Two.</p>", "One. Two."),
        ("<sub alias=\"World Wide Web Consortium\">W3C</sub>", "World Wide Web Consortium"),
        ("<say-as interpret-as=\"characters\">abc</say-as>", "A-B-C"),
        ("the <say-as interpret-as=\"ordinal\">3</say-as> time", "the third time"),
        ("<say-as interpret-as=\"telephone\">555 0199</say-as>", "five five five, zero one nine nine"),
        ("𝐁𝐨𝐥𝐝 ｆｕｌｌ ２", "Bold full two"),
        ("<?xml version=\"1.0\"?><!-- note --><speak>Hi</speak>", "Hi"),
        ("Tom &amp; Jerry &quot;hi&quot; &#65;&#x42;", "Tom and Jerry \"hi\" AB"),
        ("AT&T", "AT and T"),
        ("\x1b[1;31mred\x1b[0m text", "red text"),
        ("\x1b]0;title\x07Hi", "Hi"),
        ("a\x00b\x07c\x7f d", "abc d"),
        ("tab\there\r\nnew", "tab here new"),
        ("Great 😀 job 👍🏽!", "Great job!"),
        ("Family: 👨‍👩‍👧, flag 🇺🇸, keycap 1️⃣.", "Family: flag, keycap one."),
        ("™ © → ∞", ""),
        ("zero\u200bwidth\u00adsoft", "zerowidthsoft"),
        ("x² + y³ = z", "x squared plus y cubed equals z"),
    ],
    "abbreviations": [
        ("Say no. Then go.", "Say no. Then go."),
        ("He sat. Sun. is fine.", "He sat. Sunday is fine."),
        ("Item no. 42, Nos. 3", "Item number forty-two, Numbers three"),
        ("See p. 45 and pp. 3-5.", "See page forty-five and pages three to five."),
    ],
}


@pytest.mark.parametrize("text, expected",
                         [case for cases in CASES.values() for case in cases],
                         ids=[f"{kind}-{i}" for kind, cases in CASES.items() for i in range(len(cases))])
def test_reads_as_expected(text, expected):
    assert normalize_text(text) == expected


def test_output_holds_only_words_and_plain_punctuation():
    allowed = set(".,!?;:'\"-() ")
    for cases in CASES.values():
        for text, _ in cases:
            out = normalize_text(text)
            assert all(c.isalpha() or c in allowed for c in out), (text, out)
            assert out == " ".join(out.split())


def test_a_500_digit_number_is_read_digit_by_digit():
    number = "".join(str(i % 10) for i in range(1, 501))
    words = normalize_text(f"The code is {number}.").split()
    assert words[:6] == ["The", "code", "is", "one", "two", "three"]
    assert len(words) == 3 + 500 and words[-1] == "zero."
    grouped = ",".join(["999"] * 30)  # beyond num2words' scales: digits, not an error
    assert normalize_text(grouped).split()[:3] == ["nine", "nine", "nine"]


def test_ssml_breaks_split_the_text_with_their_pauses():
    assert split_breaks("no breaks") == [("no breaks", 0.0)]
    pieces = split_breaks('A.<break time="500ms"/>B<break time="1.5s"></break>C<break strength="weak"/>D<break/>E'
                          '<break time="99s"/>F')
    assert pieces == [("A.", 0.5), ("B", 1.5), ("C", 0.2), ("D", 0.4), ("E", MAX_BREAK_S), ("F", 0.0)]


# ------------------------------------------------------------------------- through the phonemiser


def test_phonemiser_speaks_the_normalised_words(phonemizer):
    for text, words in [("Meet me at 10:45pm on 3/4/2025.", "Meet me at ten forty-five PM on March fourth, "
                                                               "twenty twenty-five."),
                        ("Great 😀 job, \x1b[1mreally\x1b[0m!", "Great job, really!"),
                        ("It was -7 &amp; 2.0.1.", "It was minus seven and two point oh point one.")]:
        got = phonemizer(text)
        assert got.text == words
        assert got.ids == phonemizer(words).ids
    # espeak reads a lone "a" as the article: "AM" and spelled "A-B-C" keep the letter names
    assert "eɪ" in "".join(phonemizer("nine AM").phonemes[0])
    spelled = "".join(phonemizer('<say-as interpret-as="characters">abc</say-as>').phonemes[0])
    assert spelled.startswith("ˈeɪ"), spelled


def test_long_digit_strings_and_symbols_reach_the_model(phonemizer):
    number = "7" * 500
    got = phonemizer(number)
    assert got.text == " ".join(["seven"] * 500)
    with pytest.raises(TextError, match="no words"):
        phonemizer("😀 👍")


class _CountingSpeaker(SentenceSpeaker):
    """A SentenceSpeaker whose 'model' writes one frame per phoneme id and whose 'vocoder' writes 256
    ones per frame, so silence in the output is exactly the pauses."""

    sample_rate = 1000

    def __init__(self, phonemizer):
        self.phonemizer = phonemizer

    def mel_from_ids(self, ids, rate):
        return np.zeros((4, len(ids)), dtype=np.float32)

    def vocode(self, mel):
        return np.ones(mel.shape[-1] * 256, dtype=np.float32)


def test_speaker_honours_breaks_and_reads_long_numbers(phonemizer):
    speaker = _CountingSpeaker(phonemizer)
    script = speaker.script('<speak>Hello there. How are you?<break time="750ms"/>Fine, thanks'
                            '<break time="250ms"/><break strength="weak"/> and you.</speak>')
    assert script == ["Hello there.", SENTENCE_PAUSE_S, "How are you?", 0.75, "Fine, thanks", 0.45, "and you."]
    audio = speaker('Hello there.<break time="750ms"/>Bye.')
    silent = np.flatnonzero(audio == 0)
    assert len(silent) == 750 and silent[-1] - silent[0] == 749  # one gap of exactly 0.75 s at 1 kHz
    sentences = speaker.sentences("1" * 500)  # once "text has no words to speak"
    assert " ".join(sentences) == " ".join(["one"] * 500)
    assert len(sentences) > 1 and all(len(s) <= MAX_SENTENCE_CHARS for s in sentences)
    with pytest.raises(TextError, match="no words"):
        speaker("😀")
    with pytest.raises(TextError, match="empty"):
        speaker("  ")
    with pytest.raises(TextError, match="nothing to speak"):
        speaker('<break time="1s"/>')
    with pytest.raises(TextError, match="cannot read"):
        speaker("Hello 你好")
