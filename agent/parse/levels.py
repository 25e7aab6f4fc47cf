"""Log levels: the server's own level names mapped onto the API's four.

Servers write JUL levels (``SEVERE``, ``WARNING``, ``FINE``), log4j2 levels (``WARN``,
``FATAL``, ``TRACE``), Bedrock's, and BungeeCord's localised names (``信息``, ``警告``,
``WARNUNG``, ``AVERTISSEMENT`` ...).
The API accepts ``debug | info | warn | error``; anything unknown is ``info`` (the level
a line without a level has) so it is neither hidden by a ``min_level`` nor alarming.
"""

from __future__ import annotations

API_LEVELS = ("debug", "info", "warn", "error")
LEVEL_RANK = {name: rank for rank, name in enumerate(API_LEVELS)}

_TO_API = {
    "TRACE": "debug",
    "DEBUG": "debug",
    "FINE": "debug",
    "FINER": "debug",
    "FINEST": "debug",
    "CONFIG": "debug",
    "INFO": "info",
    "NOTICE": "info",
    "WARN": "warn",
    "WARNING": "warn",
    "ERROR": "error",
    "SEVERE": "error",
    "FATAL": "error",
    "CRITICAL": "error",
    # BungeeCord/Waterfall with a Chinese locale (files often GBK).
    "信息": "info",
    "警告": "warn",
    "严重": "error",
    "嚴重": "error",
    "詳細": "debug",
    "详细": "debug",
    # German and French JUL names, seen on localised proxies.
    "INFORMATION": "info",
    "WARNUNG": "warn",
    "SCHWERWIEGEND": "error",
    "AVERTISSEMENT": "warn",
    "GRAVE": "error",
    # The rest of the JDK's java.util.logging level names (Level.getLocalizedName), as
    # BungeeCord prints them under a German, French, Spanish, Italian, Portuguese,
    # Swedish, Japanese, Korean or Traditional Chinese locale. Names with a space
    # ("AM FEINSTEN") never reach here: the prefix has no space in its level.
    "KONFIGURATION": "debug",
    "FEIN": "debug",
    "FEINER": "debug",
    "INFOS": "info",
    "PRECIS": "debug",
    "ADVERTENCIA": "warn",
    "INFORMACIÓN": "info",
    "AVVERTENZA": "warn",
    "INFORMAZIONI": "info",
    "ADVERTÊNCIA": "warn",
    "INFORMAÇÕES": "info",
    "ALLVARLIG": "error",
    "VARNING": "warn",
    "重大": "error",
    "情報": "info",
    "심각": "error",
    "경고": "warn",
    "정보": "info",
    "資訊": "info",
    "较详细": "debug",
    "非常详细": "debug",
    "配置": "debug",
    # Russian: the JDK ships no Russian bundle, so these are the usual translations,
    # not checked against a real log (a name missing here reads as info).
    "ИНФОРМАЦИЯ": "info",
    "ИНФО": "info",
    "ПРЕДУПРЕЖДЕНИЕ": "warn",
    "ВНИМАНИЕ": "warn",
    "ОШИБКА": "error",
    "СЕРЬЕЗНЫЙ": "error",
    "СЕРЬЁЗНЫЙ": "error",
    "СЕРЬЕЗНАЯ": "error",
    "КРИТИЧЕСКИЙ": "error",
    "ОТЛАДКА": "debug",
}


def to_api_level(server_level: str | None) -> str:
    """The API level (debug/info/warn/error) for a level name as the server wrote it."""
    if server_level is None:
        return "info"
    return _TO_API.get(server_level) or _TO_API.get(server_level.upper(), "info")
