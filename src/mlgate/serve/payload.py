"""Request bodies of the MLflow scoring protocol, turned into column value lists.

JSON: ``dataframe_split`` (``{"columns": [...], "data": [[...]]}``), ``dataframe_records``
(``[{column: value}]``), ``instances`` and ``inputs`` (rows as objects, rows as lists in signature
order, or ``{column: [values]}``), with optional ``params`` (``{"method": "predict_proba"}``).
MLflow 1.x bodies: ``application/json; format=pandas-split`` (the split object bare),
``format=pandas-records`` (the record list bare) and ``application/json-numpy-split``.
CSV: a header row, then one row per prediction. Parquet: one table, one row per prediction.

Content-type parameters other than ``charset=utf-8`` and 1.x's ``format`` are refused with 415,
as MLflow's server refuses them.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlgate.serve.model import METHODS, InputError, MalformedRequest, ServedModel

FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")


class UnsupportedMediaType(InputError):
    """The request's content type is not one the protocol knows (HTTP 415)."""

    error_code = "BAD_REQUEST"


PARQUET_TYPES = ("application/x-parquet", "application/vnd.apache.parquet", "application/parquet")


@dataclass(frozen=True)
class ParsedRequest:
    columns: list[list[Any]]
    method: str | None
    rows: int


def parse(model: ServedModel, body: bytes, content_type: str) -> ParsedRequest:
    """Column value lists (signature order) and the requested method from a request body."""
    media, params = _media(content_type)
    orient = params.pop("format", None)
    charset = params.pop("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise UnsupportedMediaType(f"charset {charset!r} is not supported; send UTF-8")
    if params:
        raise UnsupportedMediaType(
            "unrecognized content type parameter(s): " + ", ".join(sorted(params))
        )
    if media in ("application/json", ""):
        if orient not in (None, "pandas-split", "pandas-records"):
            raise UnsupportedMediaType(f"format={orient} is not supported")
        return _parse_json(model, body, orient)
    if orient is not None:
        raise UnsupportedMediaType(f"format={orient} applies to application/json only")
    if media == "application/json-numpy-split":
        return _parse_json(model, body, "pandas-split")
    if media in ("text/csv", "application/csv"):
        columns = _parse_csv(model, body)
        return ParsedRequest(columns, None, len(columns[0]) if columns else 0)
    if media in PARQUET_TYPES:
        columns = _parse_parquet(model, body)
        return ParsedRequest(columns, None, len(columns[0]) if columns else 0)
    raise UnsupportedMediaType(
        f"content type {media!r} is not supported; send application/json, text/csv or "
        "application/x-parquet"
    )


def _media(content_type: str) -> tuple[str, dict[str, str]]:
    media, *rest = content_type.split(";")
    params: dict[str, str] = {}
    for part in rest:
        key, _, value = part.strip().partition("=")
        if key:
            params[key.strip().lower()] = value.strip().strip('"')
    return media.strip().lower(), params


def _parse_json(model: ServedModel, body: bytes, orient: str | None) -> ParsedRequest:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedRequest(f"request body is not valid JSON: {exc}") from None
    if orient == "pandas-split" and isinstance(data, dict) and "dataframe_split" not in data:
        data = {"dataframe_split": data}  # MLflow 1.x clients send the split form bare
    elif orient == "pandas-records" and isinstance(data, list):
        data = {"dataframe_records": data}  # ... and the records form as a bare list
    if not isinstance(data, dict):
        raise MalformedRequest(
            "request body must be a JSON object with exactly one of: " + ", ".join(FORMATS)
        )
    present = [key for key in FORMATS if key in data]
    if len(present) != 1:
        found = ", ".join(sorted(str(k) for k in data)) or "none"
        raise MalformedRequest(
            "request must have exactly one of " + ", ".join(FORMATS) + f" (found: {found})"
        )
    key = present[0]
    columns = _columns(model, key, data[key])
    if columns and not columns[0]:
        raise InputError(f"{key} has no rows")
    method = _method(data.get("params"))
    return ParsedRequest(columns, method, len(columns[0]) if columns else 0)


def _columns(model: ServedModel, key: str, value: Any) -> list[list[Any]]:
    if key == "dataframe_split":
        if isinstance(value, Mapping) and "data" in value and "columns" not in value:
            raise InputError(
                "dataframe_split has no columns; expected columns: " + ", ".join(model.names)
            )
        if not isinstance(value, Mapping) or "columns" not in value or "data" not in value:
            raise MalformedRequest(
                'dataframe_split must be {"columns": [...], "data": [[...], ...]}'
            )
        if not isinstance(value["columns"], list) or not isinstance(value["data"], list):
            raise MalformedRequest("dataframe_split: columns and data must be lists")
        return model.columns_from_split(value["columns"], value["data"])
    if key == "dataframe_records":
        if not isinstance(value, list):
            raise MalformedRequest("dataframe_records must be a list of objects")
        return model.columns_from_records(value, key)
    # instances / inputs: rows as objects, rows as lists, or one object of columns.
    if isinstance(value, Mapping):
        return model.columns_from_mapping(value, key)
    if not isinstance(value, list):
        raise MalformedRequest(f"{key} must be a list of rows or an object of columns")
    if not value:
        raise InputError(f"{key} has no rows")
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
        raise MalformedRequest(f"CSV body is not UTF-8 (byte {exc.start})") from None
    try:
        reader = csv.reader(io.StringIO(text))
        header = next(reader, None)
        rows: list[list[Any]] = [
            [None if cell == "" else cell for cell in row] for row in reader if row
        ]
    except csv.Error as exc:
        raise MalformedRequest(f"CSV body cannot be parsed: {exc}") from None
    if not header:
        raise MalformedRequest("CSV body is empty; send a header row and one row per prediction")
    if not rows:
        raise MalformedRequest("CSV body has a header but no rows")
    return model.columns_from_split(header, rows)


def _parse_parquet(model: ServedModel, body: bytes) -> list[list[Any]]:
    """Column value lists from a Parquet body (the columns the signature names, read alone)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(pa.BufferReader(body))
        present = set(parquet.schema_arrow.names)
        missing = [n for n in model.names if n not in present]
        if missing:
            raise InputError(model.missing_message(missing, "columns", dict.fromkeys(present)))
        table = parquet.read(columns=model.names)
    except (pa.ArrowException, OSError) as exc:
        raise MalformedRequest(f"Parquet body cannot be read: {exc}") from None
    if table.num_rows == 0:
        raise MalformedRequest("Parquet body has no rows")
    return [_plain(table.column(name).to_pylist()) for name in model.names]


def _plain(values: list[Any]) -> list[Any]:
    """Parquet timestamps as ISO 8601 text, as a JSON body would carry them."""
    import datetime as dt

    if values and any(isinstance(v, dt.datetime | dt.date) for v in values):
        return [v.isoformat() if isinstance(v, dt.datetime | dt.date) else v for v in values]
    return values
