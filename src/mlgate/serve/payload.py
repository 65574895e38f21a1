"""Request bodies of the MLflow scoring protocol, turned into column value lists.

JSON: ``dataframe_split`` (``{"columns": [...], "data": [[...]]}``), ``dataframe_records``
(``[{column: value}]``), ``instances`` and ``inputs`` (rows as objects, rows as lists in signature
order, or ``{column: [values]}``), with optional ``params`` (``{"method": "predict_proba"}``).
CSV: a header row, then one row per prediction.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlgate.serve.model import METHODS, InputError, ServedModel

FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")


class UnsupportedMediaType(InputError):
    """The request's content type is neither JSON nor CSV (HTTP 415)."""


@dataclass(frozen=True)
class ParsedRequest:
    columns: list[list[Any]]
    method: str | None
    rows: int


def parse(model: ServedModel, body: bytes, content_type: str) -> ParsedRequest:
    """Column value lists (signature order) and the requested method from a request body."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media in ("application/json", "") or media.endswith("+json"):
        return _parse_json(model, body, content_type)
    if media in ("text/csv", "application/csv"):
        columns = _parse_csv(model, body)
        return ParsedRequest(columns, None, len(columns[0]) if columns else 0)
    raise UnsupportedMediaType(
        f"content type {media!r} is not supported; send application/json or text/csv"
    )


def _parse_json(model: ServedModel, body: bytes, content_type: str) -> ParsedRequest:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InputError("request body must be a JSON object with one of: " + ", ".join(FORMATS))
    if "format=pandas-split" in content_type:  # MLflow 1.x clients send the split form bare
        data = {"dataframe_split": data}
    elif "format=pandas-records" in content_type:
        data = {"dataframe_records": data}
    present = [key for key in FORMATS if key in data]
    if len(present) != 1:
        found = ", ".join(sorted(str(k) for k in data)) or "none"
        raise InputError(
            "request must have exactly one of " + ", ".join(FORMATS) + f" (found: {found})"
        )
    key = present[0]
    columns = _columns(model, key, data[key])
    method = _method(data.get("params"))
    return ParsedRequest(columns, method, len(columns[0]) if columns else 0)


def _columns(model: ServedModel, key: str, value: Any) -> list[list[Any]]:
    if key == "dataframe_split":
        if not isinstance(value, Mapping) or "columns" not in value or "data" not in value:
            raise InputError('dataframe_split must be {"columns": [...], "data": [[...], ...]}')
        if not isinstance(value["columns"], list) or not isinstance(value["data"], list):
            raise InputError("dataframe_split: columns and data must be lists")
        return model.columns_from_split(value["columns"], value["data"])
    if key == "dataframe_records":
        if not isinstance(value, list):
            raise InputError("dataframe_records must be a list of objects")
        return model.columns_from_records(value, key)
    # instances / inputs: rows as objects, rows as lists, or one object of columns.
    if isinstance(value, Mapping):
        return model.columns_from_mapping(value, key)
    if not isinstance(value, list) or not value:
        raise InputError(f"{key} must be a non-empty list of rows or an object of columns")
    if isinstance(value[0], Mapping):
        return model.columns_from_records(value, key)
    return model.columns_from_positional(value, key)


def _method(params: Any) -> str | None:
    if params is None:
        return None
    if not isinstance(params, Mapping):
        raise InputError('params must be an object, e.g. {"method": "predict_proba"}')
    method = params.get("method", params.get("predict_method"))
    if method is not None and method not in METHODS:
        raise InputError(f"params.method must be one of {', '.join(METHODS)}, got {method!r}")
    return str(method) if method is not None else None


def _parse_csv(model: ServedModel, body: bytes) -> list[list[Any]]:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"CSV body is not UTF-8 (byte {exc.start})") from None
    try:
        reader = csv.reader(io.StringIO(text))
        header = next(reader, None)
        rows: list[list[Any]] = [
            [None if cell == "" else cell for cell in row] for row in reader if row
        ]
    except csv.Error as exc:
        raise InputError(f"CSV body cannot be parsed: {exc}") from None
    if not header:
        raise InputError("CSV body is empty; send a header row and one row per prediction")
    if not rows:
        raise InputError("CSV body has a header but no rows")
    return model.columns_from_split(header, rows)
