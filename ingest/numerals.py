"""Numbers as union staff write them: Arabic (half- or full-width) or Chinese numerals in every usual form.

“3”, “３”, “三”, “两”, “俩”, “十二”, “一十五”, “二十”, “廿”, “廿一”, “卅”, “叁”, “贰拾”, “〇” are
read with cn2an (its “normal” mode, which takes 两 and the financial forms); what it cannot read as
one number is None, never a guess.
"""

from __future__ import annotations

import unicodedata

# the characters a Chinese numeral is written with (small, financial and the colloquial 俩/廿/卅)
CHINESE_DIGITS = "零〇一二两俩三四五六七八九十廿卅百壹贰貳叁參肆伍陆陸柒捌玖拾佰"
NUMBER_PATTERN = rf"\d{{1,4}}|[{CHINESE_DIGITS}]{{1,6}}"
_COLLOQUIAL = str.maketrans({"俩": "两", "貳": "贰", "參": "叁", "陸": "陆"})
_PLAIN_DIGITS = frozenset("〇零一二两三四五六七八九壹贰叁肆伍陆柒捌玖")


def number_of(text: str) -> int | None:
    """The number text writes, or None when it is not one number (“一二” is not twelve)."""
    text = unicodedata.normalize("NFKC", text).strip()
    if not text:
        return None
    if text.isascii():
        return int(text) if text.isdigit() else None
    text = text.translate(_COLLOQUIAL)
    if len(text) > 1 and all(c in _PLAIN_DIGITS for c in text):
        return None  # a run of digits without 十/百 (“一二”, “壹贰叁”) is a list or a code, not a count
    import cn2an  # its tables take a tenth of a second to load: when a numeral is first read

    try:
        value = cn2an.cn2an(text, "normal")
    except (ValueError, KeyError, IndexError):
        return None
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    return int(value)
