"""The tables the generator queries: which catalog table, which of its columns (with the Hive type the catalog
must give them and the kind the generator uses), how the oracle reads the same file, and the key columns that
join them."""

from __future__ import annotations

from dataclasses import dataclass

from tests.query.differential.nodes import Kind

KINDS = {
    "bigint": Kind.INT,
    "int": Kind.INT,
    "double": Kind.DOUBLE,
    "decimal(15,2)": Kind.DECIMAL,
    "string": Kind.VARCHAR,
    "boolean": Kind.BOOLEAN,
    "date": Kind.DATE,
    "timestamp": Kind.TIMESTAMP,
}


@dataclass(frozen=True)
class Column:
    name: str
    hive_type: str  # as the catalog declares it

    @property
    def kind(self) -> Kind:
        return KINDS[self.hive_type]


@dataclass(frozen=True)
class TableSpec:
    database: str
    name: str
    columns: tuple[Column, ...]
    weight: int  # how often the generator picks it: small tables often, lineitem rarely

    @property
    def qualified(self) -> str:
        return f"{self.database}.{self.name}"

    @property
    def oracle_view(self) -> str:
        """The oracle's name for it: a plain DuckDB table read from the same files, never a lakeport name."""
        return f"{self.database}__{self.name}"

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _columns(text: str) -> tuple[Column, ...]:
    pairs = (item.split(":") for item in text.split())
    return tuple(Column(name, hive) for name, hive in pairs)


D = "decimal(15,2)"

TPCH = (
    TableSpec("tpch", "region", _columns("r_regionkey:bigint r_name:string r_comment:string"), 2),
    TableSpec("tpch", "nation", _columns("n_nationkey:bigint n_name:string n_regionkey:bigint"), 4),
    TableSpec(
        "tpch",
        "supplier",
        _columns(f"s_suppkey:bigint s_name:string s_nationkey:bigint s_phone:string s_acctbal:{D}"),
        3,
    ),
    TableSpec(
        "tpch",
        "customer",
        _columns(f"c_custkey:bigint c_name:string c_nationkey:bigint c_acctbal:{D} c_mktsegment:string"),
        5,
    ),
    TableSpec(
        "tpch",
        "part",
        _columns(f"p_partkey:bigint p_name:string p_brand:string p_type:string p_size:int p_retailprice:{D}"),
        5,
    ),
    TableSpec(
        "tpch", "partsupp", _columns(f"ps_partkey:bigint ps_suppkey:bigint ps_availqty:int ps_supplycost:{D}"), 3
    ),
    TableSpec(
        "tpch",
        "orders",
        _columns(
            f"o_orderkey:bigint o_custkey:bigint o_orderstatus:string o_totalprice:{D} o_orderdate:date "
            "o_orderpriority:string o_shippriority:int o_comment:string"
        ),
        3,
    ),
    TableSpec(
        "tpch",
        "lineitem",
        _columns(
            f"l_orderkey:bigint l_partkey:bigint l_suppkey:bigint l_linenumber:int l_quantity:{D} "
            f"l_extendedprice:{D} l_discount:{D} l_returnflag:string l_linestatus:string l_shipdate:date "
            "l_shipmode:string"
        ),
        1,
    ),
)

SPOTIFY_CSV = (
    TableSpec(
        "spotify_csv",
        "albums",
        _columns(
            "track_name:string track_id:string track_number:bigint duration_ms:bigint album_type:string "
            "total_tracks:bigint album_name:string release_date:timestamp label:string album_popularity:bigint "
            "album_id:string artist_id:string artist_0:string artist_1:string duration_sec:double"
        ),
        2,
    ),
    TableSpec(
        "spotify_csv",
        "artists",
        _columns(
            "id:string name:string artist_popularity:bigint followers:bigint genre_0:string genre_1:string "
            "artist_genres:string"
        ),
        5,
    ),
    TableSpec("spotify_csv", "tracks", _columns("id:string track_popularity:bigint explicit:boolean"), 2),
    TableSpec(
        "spotify_csv",
        "features",
        _columns(
            "id:string danceability:double energy:double key:bigint loudness:double mode:bigint tempo:double "
            "instrumentalness:double time_signature:bigint"
        ),
        2,
    ),
)

# the Iceberg table the Spotify ETL job (examples/spotify/job.yaml) writes
SPOTIFY_ICEBERG = TableSpec(
    "spotify",
    "tracks",
    _columns(
        "track_id:string track_name:string artist_name:string album_popularity:bigint release_date:timestamp "
        "release_year:bigint explicit:boolean danceability:double energy:double key:bigint duration_sec:double "
        "followers:bigint genre_0:string track_popularity:bigint"
    ),
    2,
)

TABLES: tuple[TableSpec, ...] = (*TPCH, *SPOTIFY_CSV, SPOTIFY_ICEBERG)
BY_NAME = {t.qualified: t for t in TABLES}


@dataclass(frozen=True)
class Edge:
    """``left.left_key = right.right_key``: a foreign key (or a key both sides share)."""

    left: str
    left_key: str
    right: str
    right_key: str


EDGES = (
    Edge("tpch.nation", "n_regionkey", "tpch.region", "r_regionkey"),
    Edge("tpch.supplier", "s_nationkey", "tpch.nation", "n_nationkey"),
    Edge("tpch.customer", "c_nationkey", "tpch.nation", "n_nationkey"),
    Edge("tpch.orders", "o_custkey", "tpch.customer", "c_custkey"),
    Edge("tpch.lineitem", "l_orderkey", "tpch.orders", "o_orderkey"),
    Edge("tpch.lineitem", "l_partkey", "tpch.part", "p_partkey"),
    Edge("tpch.lineitem", "l_suppkey", "tpch.supplier", "s_suppkey"),
    Edge("tpch.partsupp", "ps_partkey", "tpch.part", "p_partkey"),
    Edge("tpch.partsupp", "ps_suppkey", "tpch.supplier", "s_suppkey"),
    Edge("spotify_csv.albums", "artist_id", "spotify_csv.artists", "id"),
    Edge("spotify_csv.albums", "artist_1", "spotify_csv.artists", "name"),  # a nullable key
    Edge("spotify_csv.albums", "track_id", "spotify_csv.tracks", "id"),
    Edge("spotify_csv.albums", "track_id", "spotify_csv.features", "id"),
    Edge("spotify_csv.tracks", "id", "spotify_csv.features", "id"),
    Edge("spotify.tracks", "track_id", "spotify_csv.features", "id"),
    Edge("spotify.tracks", "track_id", "spotify_csv.tracks", "id"),
)
