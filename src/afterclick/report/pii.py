"""Masking personal identifiers in free text before it is shown.

DESIGN.md: reports show no raw e-mail addresses or other personal identifiers unless asked to.
The rules are deliberately conservative about numbers: prices, counts, dates, times, years,
ranges and version numbers stay as written; only digit runs shaped like phone numbers go.
"""

from __future__ import annotations

import re

EMAIL_MASK = "[e-mail]"
PHONE_MASK = "[phone]"

_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}")
# A candidate: digits with spaces, dots, dashes or parentheses between them, optionally led by
# + or (; not glued to words, paths, decimals or times on either side. A colon after a word is a
# label ("Tel:+44 20 7946 0958"); after a digit it is a time or a ratio.
_PHONE = re.compile(r"(?<![\w/.,@+-])(?<!\d:)(?<!/:)(?:\+|\()?\d[\d\s().-]{5,22}\d\)?(?![\w/:@%]|[.,-]\d)")
# A phone link ("tel:+442079460958", "callto:020-7946-0958", "sms:+44%2020…;ext=1"): whatever
# follows the scheme is a phone number by definition, whatever its shape.
_PHONE_URI = re.compile(
    r"\b(tel|callto|sms|fax):(?://)?\s?"
    r"(?:\(\d+\)|(?:%2B|\+)?\d(?:[\d().-]*\d)?)(?:\s\(?\d(?:[\d().-]*\d)?)*"  # the number, in groups
    r"(?:[^\s\"'<>]*[^\s\"'<>.,;:!?)])?",  # percent-escapes and parameters, not the sentence's stop
    re.IGNORECASE,
)
_DATE = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4}")
_YEAR = re.compile(r"(?:19|20)\d\d")


def _is_phone(candidate: str) -> bool:
    s = candidate.strip()
    digits = re.sub(r"\D", "", s)
    if not 7 <= len(digits) <= 15:
        return False
    if s.startswith("+"):  # international format; shorter "+12 500" is a change in a count
        return len(digits) >= 9
    if _DATE.search(s):  # "2026-03-01", or a date followed by a count
        return False
    groups = [g for g in re.split(r"[\s().-]+", s) if g]
    separators = re.findall(r"[\s().-]+", s.strip("()"))
    if len(groups) == 1:
        # A bare run: only national numbers with a trunk 0 (07700900123), not ids or amounts.
        return digits.startswith("0") and 10 <= len(digits) <= 13
    if all(_YEAR.fullmatch(g) for g in groups):  # "2019-2024", "2024 2025 2026"
        return False
    if len(groups) == 2 and separators == ["."]:  # a decimal number: 1234567.89
        return False
    if all(len(g) == 3 for g in groups[1:]) and len(groups[0]) <= 3 and len(set(separators)) == 1 \
            and separators[0] in (" ", "."):  # thousands grouped with spaces or dots: 12 500 000
        return False
    if len(groups) == 4 and set(separators) == {"."} and all(len(g) <= 3 for g in groups):
        return False  # an IPv4 address is not a phone (and not what this helper is for)
    return True


def mask_pii(text: str | None) -> str | None:
    """``text`` with e-mail addresses and phone numbers replaced by ``[e-mail]`` / ``[phone]``.

    Phone links keep their scheme: ``tel:+442079460958`` becomes ``tel:[phone]``.

    >>> mask_pii("Write to ana.lopez@example.com or call +44 20 7946 0958, price 1,299.00 on 2026-03-01")
    'Write to [e-mail] or call [phone], price 1,299.00 on 2026-03-01'
    """
    if text is None:
        return None
    text = str(text)
    if "@" in text:
        text = _EMAIL.sub(EMAIL_MASK, text)
    if ":" in text:
        text = _PHONE_URI.sub(lambda m: f"{m.group(1)}:{PHONE_MASK}", text)
    return _PHONE.sub(lambda m: PHONE_MASK if _is_phone(m.group(0)) else m.group(0), text)
