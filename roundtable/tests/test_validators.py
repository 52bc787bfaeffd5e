import pytest
from django.core.exceptions import ValidationError

from roundtable.validators import validate_single_line


@pytest.mark.parametrize(
    "value",
    ["Ana", "Núñez-Ørsted", "李小龍", "क्\u200dष", "O'Brien (she/her)", "Name with  spaces", ""],
)
def test_one_line_of_any_script_is_accepted(value):
    validate_single_line(value)


@pytest.mark.parametrize(
    "value",
    ["Ana\r\nBcc: x@example.org", "Ana\n", "Ana\rB", "A\tB", "A\x00B", "A\x7fB", "A\x85B", "A\u2028B", "A\u2029B"],
    ids=["crlf", "lf", "cr", "tab", "nul", "del", "nel", "line-separator", "paragraph-separator"],
)
def test_control_characters_and_line_breaks_are_refused(value):
    with pytest.raises(ValidationError) as error:
        validate_single_line(value)

    assert error.value.code == "single_line"
