"""Money as integer minor units plus an ISO 4217 currency: parse decimal text, say an amount per language."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

#: ISO 4217 currencies whose minor unit is not 2 decimals (the rest of `CURRENCIES` use 2).
_EXPONENTS = {
    **dict.fromkeys("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF".split(), 0),  # noqa: SIM905
    **dict.fromkeys("BHD IQD JOD KWD LYD OMR TND".split(), 3),  # noqa: SIM905
}
#: Active ISO 4217 currency codes.
CURRENCIES = frozenset(
    """AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD
    CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ
    GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR
    LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN
    PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB
    TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW
    ZWG""".split()  # noqa: SIM905
)
#: Currencies said with a symbol; the others are said with their code after the amount ("12.00 CHF").
SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$", "JPY": "¥"}
#: Largest amount accepted, in minor units: far above any household order, far below SQLite's 64-bit limit.
MAX_MINOR = 10**12

_DECIMAL = re.compile(r"^-?(\d+(\.\d*)?|\.\d+)$")


def check_currency(code: str) -> str:
    """`code` if it is an active ISO 4217 currency code, else ValueError saying what was expected."""
    if code not in CURRENCIES:
        shown = f"{code!r}" if code else "nothing"
        raise ValueError(f"currency must be an ISO 4217 code such as EUR, GBP or USD, got {shown}")
    return code


def minor_digits(currency: str) -> int:
    """Decimals of the currency's minor unit (EUR 2, JPY 0, KWD 3)."""
    return _EXPONENTS.get(currency, 2)


def parse_money(text: str, currency: str) -> int:
    """ "14.90" in EUR → 1490. ValueError for text that is not a plain non-negative decimal amount,
    or that has more decimals than the currency's minor unit."""
    check_currency(currency)
    raw = text.strip()
    if not _DECIMAL.match(raw):
        raise ValueError(f"expected a decimal amount like 14.90, got {text!r}")
    try:
        value = Decimal(raw)
    except InvalidOperation as err:  # the pattern should make this unreachable; keep the message anyway
        raise ValueError(f"expected a decimal amount like 14.90, got {text!r}") from err
    if value < 0:
        raise ValueError(f"amount must not be negative, got {text!r}")
    digits = minor_digits(currency)
    minor = value.scaleb(digits)
    if minor != minor.to_integral_value():
        allowed = "no decimals" if digits == 0 else f"at most {digits} decimal{'s' if digits > 1 else ''}"
        raise ValueError(f"{currency} amounts have {allowed}, got {text!r}")
    if minor > MAX_MINOR:
        raise ValueError(f"amount {text!r} is too large")
    return int(minor)


def format_money(minor: int, currency: str, lang: str) -> str:
    """1490 EUR → "€14.90" (en) or "14,90 €" (fr); currencies without a symbol: "12.00 CHF" / "12,00 CHF"."""
    digits = minor_digits(currency)
    french = lang.lower().startswith("fr")
    whole, frac = divmod(abs(minor), 10**digits)
    grouped = f"{whole:,}".replace(",", " " if french else ",")
    number = grouped + ((("," if french else ".") + str(frac).zfill(digits)) if digits else "")
    sign = "-" if minor < 0 else ""
    symbol = SYMBOLS.get(currency)
    if symbol and not french:
        return f"{sign}{symbol}{number}"
    return f"{sign}{number} {symbol or currency}"
