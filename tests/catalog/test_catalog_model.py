"""The catalog's model: definitions that round-trip, schema identity, and the Glue API shapes it renders."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from lakeport.catalog import (
    EXTERNAL_TABLE,
    VIRTUAL_VIEW,
    BatchResult,
    Change,
    Column,
    Database,
    Partition,
    PartitionError,
    Table,
    TableFormat,
    TableVersion,
    diff_tables,
)
from lakeport.catalog.model import STATISTICS_PARAMETERS

WHEN = datetime(2024, 3, 1, 12, 30, 15, 123000, tzinfo=UTC)
ADMIN = "arn:aws:iam::000000000000:user/admin"
LAZY_SIMPLE_SERDE = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
OPEN_CSV_SERDE = "org.apache.hadoop.hive.serde2.OpenCSVSerde"


def csv_table(**changes: object) -> Table:
    table = Table(
        database="music",
        name="tracks",
        columns=(Column("id", "string", "Spotify id"), Column("tempo", "double"), Column("played", "timestamp")),
        location="s3://lakeport/staging/tracks/",
        partition_keys=(Column("year", "string"), Column("month", "bigint")),
        format=TableFormat(
            "csv",
            delimiter="\t",
            quote=None,
            escape="\\",
            header=True,
            compression="gzip",
            null_markers=("\\N", "NULL"),
            timestamp_formats={"played": "yyyy-MM-dd HH:mm:ss"},
        ),
        parameters={"owner": "team-music", "recordCount": "12", "sizeKey": "4096"},
        description="every track",
    )
    return table.with_changes(**changes)


# ---- definitions


def test_a_definition_round_trips_through_json() -> None:
    table = csv_table()
    definition = json.loads(json.dumps(table.definition()))
    back = Table.from_definition("music", "tracks", definition)
    assert back == table
    assert back.definition() == table.definition()


def test_from_definition_keeps_the_metadata_given() -> None:
    table = csv_table()
    back = Table.from_definition(
        "music", "tracks", table.definition(), version=3, created_at=WHEN, created_by=ADMIN, updated_at=WHEN
    )
    assert (back.version, back.created_at, back.created_by, back.updated_at) == (3, WHEN, ADMIN, WHEN)
    assert back.with_changes(version=0, created_at=None, created_by="", updated_at=None) == table


def test_from_definition_fills_defaults_for_a_sparse_definition() -> None:
    table = Table.from_definition("db", "t", {"columns": [{"name": "a", "type": "int", "comment": None}]})
    assert table.columns == (Column("a", "int"),)
    assert table.partition_keys == ()
    assert table.table_type == EXTERNAL_TABLE
    assert table.format == TableFormat()
    assert table.format.classification == "parquet"
    assert table.location == ""
    assert dict(table.parameters) == {}


def test_from_definition_stringifies_parameters() -> None:
    table = Table.from_definition("db", "t", {"parameters": {"recordCount": 12, "flag": True}})
    assert dict(table.parameters) == {"recordCount": "12", "flag": "True"}


def test_format_round_trips_and_ignores_unknown_fields() -> None:
    fmt = csv_table().format
    data = json.loads(json.dumps(fmt.to_dict()))
    assert data["null_markers"] == ["\\N", "NULL"]
    assert TableFormat.from_dict(data) == fmt
    assert TableFormat.from_dict({**data, "from_the_future": 1}) == fmt
    assert TableFormat.from_dict({}) == TableFormat()


def test_schema_definition_ignores_statistics() -> None:
    table = csv_table()
    refreshed = table.with_changes(
        parameters={
            **table.parameters,
            "recordCount": "99",
            "sizeKey": "1",
            "objectCount": "3",
            "averageRecordSize": "40",
            "transient_lastDdlTime": "1700000000",
        }
    )
    assert refreshed.definition() != table.definition()
    assert refreshed.schema_definition() == table.schema_definition()
    assert table.schema_definition()["parameters"] == {"owner": "team-music"}
    assert {"recordCount", "sizeKey", "objectCount"} <= STATISTICS_PARAMETERS
    # Everything else is schema: parameters, columns, keys, location, format, description.
    for changed in (
        table.with_changes(parameters={**table.parameters, "owner": "someone"}),
        table.with_changes(columns=(*table.columns, Column("x", "int"))),
        table.with_changes(partition_keys=table.partition_keys[:1]),
        table.with_changes(location="s3://lakeport/elsewhere/"),
        table.with_changes(format=TableFormat("csv", delimiter=",")),
        table.with_changes(description="changed"),
    ):
        assert changed.schema_definition() != table.schema_definition()


def test_column_lookup_is_case_insensitive_and_includes_partition_keys() -> None:
    table = csv_table()
    assert table.column("TEMPO") == Column("tempo", "double")
    assert table.column("Month") == Column("month", "bigint")
    assert table.column("nope") is None
    assert table.full_name == "music.tracks"
    assert table.classification == "csv"


# ---- formats and SerDe parameters


def test_csv_serde_parameters() -> None:
    fmt = csv_table().format
    assert fmt.serde_library == LAZY_SIMPLE_SERDE
    assert fmt.serde_parameters() == {
        "field.delim": "\t",
        "escape.delim": "\\",
        "serialization.null.format": "\\N",
        "timestamp.formats": "yyyy-MM-dd HH:mm:ss",
    }


def test_csv_defaults_to_a_comma_and_joins_timestamp_formats() -> None:
    fmt = TableFormat("csv", timestamp_formats={"a": "yyyy/MM/dd", "b": "dd.MM.yyyy HH:mm", "c": "yyyy/MM/dd"})
    assert fmt.serde_parameters() == {"field.delim": ",", "timestamp.formats": "dd.MM.yyyy HH:mm,yyyy/MM/dd"}
    assert TableFormat("csv", null_markers=("",)).serde_parameters()["serialization.null.format"] == ""


@pytest.mark.parametrize(
    "fmt",
    [TableFormat("csv", delimiter="|", quote="'", escape="\\"), TableFormat("csv", delimiter="|", multiline=True)],
    ids=["quoted", "multiline"],
)
def test_quoted_or_multiline_csv_uses_open_csv_serde(fmt: TableFormat) -> None:
    assert fmt.serde_library == OPEN_CSV_SERDE
    params = fmt.serde_parameters()
    assert params["separatorChar"] == "|"
    assert params["quoteChar"] == (fmt.quote or '"')
    assert "field.delim" not in params
    if fmt.escape:
        assert params["escapeChar"] == "\\"


def test_non_csv_formats_have_no_delimiter_parameters() -> None:
    assert TableFormat("parquet", delimiter=",").serde_parameters() == {}
    assert TableFormat("json").serde_parameters() == {}
    assert TableFormat("json", json_layout="array").serde_parameters() == {"lakeport.json.layout": "array"}


@pytest.mark.parametrize(
    ("classification", "input_format", "serde"),
    [
        (
            "avro",
            "org.apache.hadoop.hive.ql.io.avro.AvroContainerInputFormat",
            "org.apache.hadoop.hive.serde2.avro.AvroSerDe",
        ),
        ("orc", "org.apache.hadoop.hive.ql.io.orc.OrcInputFormat", "org.apache.hadoop.hive.ql.io.orc.OrcSerde"),
        ("json", "org.apache.hadoop.mapred.TextInputFormat", "org.openx.data.jsonserde.JsonSerDe"),
    ],
)
def test_storage_descriptor_by_classification(classification: str, input_format: str, serde: str) -> None:
    descriptor = TableFormat(classification).storage_descriptor()
    assert descriptor["InputFormat"] == input_format
    assert descriptor["SerdeInfo"]["SerializationLibrary"] == serde
    assert descriptor["Compressed"] is False
    assert TableFormat(classification, compression="gzip").storage_descriptor()["Compressed"] is True


# ---- Glue shapes


def test_table_to_glue() -> None:
    table = csv_table(version=4, created_at=WHEN, created_by=ADMIN, updated_at=WHEN, updated_by=ADMIN)
    glue = table.to_glue()
    assert glue["Name"] == "tracks"
    assert glue["DatabaseName"] == "music"
    assert glue["Description"] == "every track"
    assert glue["TableType"] == EXTERNAL_TABLE
    assert glue["VersionId"] == "4"
    assert glue["CreateTime"].startswith("2024-03-01T12:30:15")
    assert glue["StorageDescriptor"]["Columns"] == [
        {"Name": "id", "Type": "string", "Comment": "Spotify id"},
        {"Name": "tempo", "Type": "double"},
        {"Name": "played", "Type": "timestamp"},
    ]
    assert glue["StorageDescriptor"]["Location"] == "s3://lakeport/staging/tracks/"
    assert glue["StorageDescriptor"]["Compressed"] is True
    assert glue["StorageDescriptor"]["SerdeInfo"]["Parameters"]["field.delim"] == "\t"
    assert glue["StorageDescriptor"]["Parameters"] == {"classification": "csv"}
    assert glue["PartitionKeys"] == [{"Name": "year", "Type": "string"}, {"Name": "month", "Type": "bigint"}]
    assert glue["Parameters"] == {
        "classification": "csv",
        "owner": "team-music",
        "recordCount": "12",
        "sizeKey": "4096",
        "compressionType": "gzip",
        "skip.header.line.count": "1",
        "delimiter": "\t",
    }
    assert "ViewOriginalText" not in glue
    json.dumps(glue)  # JSON-able as it is


def test_a_view_renders_its_text() -> None:
    view = Table("music", "v", (Column("id", "string"),), table_type=VIRTUAL_VIEW, view_text="SELECT id FROM tracks")
    glue = view.to_glue()
    assert glue["TableType"] == VIRTUAL_VIEW
    assert glue["ViewOriginalText"] == "SELECT id FROM tracks"


def test_database_to_glue() -> None:
    glue = Database("music", "tracks and albums", None, {"k": "v"}, WHEN, ADMIN).to_glue()
    assert glue["Name"] == "music"
    assert glue["Description"] == "tracks and albums"
    assert glue["Parameters"] == {"k": "v"}
    assert glue["CreateTime"].startswith("2024-03-01T12:30:15")
    assert "LocationUri" not in glue
    assert Database("music", location_uri="s3://lakeport/warehouse/music/").to_glue()["LocationUri"] == (
        "s3://lakeport/warehouse/music/"
    )


def test_partition_to_glue_puts_statistics_in_parameters() -> None:
    partition = Partition(
        "music",
        "tracks",
        ("2023", None),
        "s3://lakeport/staging/tracks/year=2023/month=__HIVE_DEFAULT_PARTITION__/",
        file_count=3,
        size_bytes=4096,
        row_count=120,
        parameters={"recordCount": "121", "custom": "x"},
        created_at=WHEN,
        updated_at=WHEN,
    )
    glue = partition.to_glue()
    assert glue["Values"] == ["2023", None]
    assert glue["DatabaseName"] == "music"
    assert glue["TableName"] == "tracks"
    assert glue["CreationTime"].startswith("2024-03-01T12:30:15")
    # Explicit parameters win over the counters.
    assert glue["Parameters"] == {"recordCount": "121", "custom": "x", "objectCount": "3", "sizeKey": "4096"}
    assert glue["StorageDescriptor"] == {"Location": partition.location}

    with_table = partition.to_glue(csv_table())
    descriptor = with_table["StorageDescriptor"]
    assert descriptor["Location"] == partition.location
    assert [c["Name"] for c in descriptor["Columns"]] == ["id", "tempo", "played"]
    assert descriptor["SerdeInfo"]["SerializationLibrary"] == LAZY_SIMPLE_SERDE
    assert descriptor["InputFormat"] == "org.apache.hadoop.mapred.TextInputFormat"


def test_a_partition_without_statistics_has_empty_parameters() -> None:
    glue = Partition("db", "t", ("1",), "s3://b/t/k=1/").to_glue()
    assert glue["Parameters"] == {}
    assert Partition("db", "t", ("1",), "s3://b/t/k=1/").to_dict()["values"] == ["1"]


def test_batch_result_and_version_shapes() -> None:
    result = BatchResult(2, [PartitionError(("2023", "1"), "AlreadyExistsException", "partition exists")])
    assert result.to_dict() == {
        "Succeeded": 2,
        "Errors": [
            {
                "PartitionValues": ["2023", "1"],
                "ErrorDetail": {"ErrorCode": "AlreadyExistsException", "ErrorMessage": "partition exists"},
            }
        ],
    }
    version = TableVersion(2, csv_table(version=2), WHEN, ADMIN)
    data = version.to_dict()
    assert data["version"] == 2
    assert data["created_by"] == ADMIN
    assert data["table"]["name"] == "tracks"
    assert data["table"]["columns"][0] == {"name": "id", "type": "string", "comment": "Spotify id"}


# ---- diffs


def test_diff_tables_names_every_kind_of_change() -> None:
    old = csv_table()
    new = old.with_changes(
        columns=(Column("tempo", "float"), Column("id", "string", "Spotify id"), Column("energy", "double")),
        partition_keys=(Column("year", "int"), Column("month", "bigint")),
        format=TableFormat("csv", delimiter=",", escape="\\", header=True, compression="gzip"),
        parameters={"owner": "team-data", "recordCount": "12", "sizeKey": "4096"},
    )
    changes = diff_tables(old, new)
    assert Change("removed", "column played", old="timestamp") in changes
    assert Change("changed", "column tempo", old="double", new="float") in changes
    assert Change("added", "column energy", new="double") in changes
    assert Change("changed", "column order", old="id, tempo", new="tempo, id") in changes
    assert Change("changed", "partition key year", old="string", new="int") in changes
    assert Change("changed", "format.delimiter", old="\t", new=",") in changes
    assert Change("changed", "parameter owner", old="team-music", new="team-data") in changes
    assert diff_tables(old, old) == []
    assert Change("changed", "column tempo", old="double", new="float").line() == "~ column tempo: double → float"
    assert Change("added", "column energy", new="double").line() == "+ column energy: double"
    assert Change("removed", "column played", old="timestamp").line() == "- column played: timestamp"
