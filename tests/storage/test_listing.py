"""ListObjectsV2 semantics on both backends: prefix, delimiter, pagination, start-after, key order, KeyCount.

S3 lists keys in UTF-8 binary order, rolls keys up to CommonPrefixes at the first delimiter after the prefix,
counts prefixes against MaxKeys and KeyCount, and resumes a truncated listing from its continuation token.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lakeport import Lake
from lakeport.storage.local import LocalBackend
from lakeport.storage.objects import ListPage
from tests.support.storage_kit import md5_hex, moto_drop_bucket, moto_put, new_bucket_name

# Keys whose binary order a directory walk gets wrong: "a-b" < "a.txt" < "a/b" < "a0" ('-' < '.' < '/' < '0'),
# upper case before lower case, and code-point order where UTF-16 order differs ("ｚ" U+FF5A < "😀" U+1F600).
ORDER_KEYS = [
    "a0",
    "a/b",
    "a-b",
    "é",
    "a/c/d",
    "Z",
    "a.txt",
    "~tilde",
    "z",
    "ｚ",
    "😀",
    "a/b0",
    "a/b-c",
    "b/x/y/z.csv",
]


def utf8_sorted(keys: list[str]) -> list[str]:
    return sorted(keys, key=lambda k: k.encode("utf-8"))


@pytest.fixture
def order_bucket(lake: Lake, bucket: str) -> str:
    for key in ORDER_KEYS:
        lake.storage.put_object(bucket, key, key.encode())
    return bucket


@dataclass
class Listing:
    """Every entry of a paginated listing, in order: ``(name, is_prefix)``, and the pages it came in."""

    entries: list[tuple[str, bool]]
    pages: list[ListPage]

    @property
    def keys(self) -> list[str]:
        return [name for name, is_prefix in self.entries if not is_prefix]

    @property
    def prefixes(self) -> list[str]:
        return [name for name, is_prefix in self.entries if is_prefix]


def merged(page: ListPage) -> list[tuple[str, bool]]:
    """A page's objects and common prefixes in one sequence, in key order (as S3 walks them)."""
    items = [(o.key, False) for o in page.objects] + [(p, True) for p in page.common_prefixes]
    return sorted(items, key=lambda item: item[0].encode("utf-8"))


def list_all(
    lake: Lake,
    bucket: str,
    *,
    prefix: str = "",
    delimiter: str | None = None,
    max_keys: int = 1000,
    start_after: str | None = None,
    max_pages: int = 10_000,
) -> Listing:
    """Follow continuation tokens to the end, checking each page's own invariants."""
    entries: list[tuple[str, bool]] = []
    pages: list[ListPage] = []
    token: str | None = None
    while True:
        page = lake.storage.list_objects(
            bucket,
            prefix=prefix,
            delimiter=delimiter,
            max_keys=max_keys,
            continuation_token=token,
            start_after=start_after,
        )
        pages.append(page)
        count = len(page.objects) + len(page.common_prefixes)
        assert page.to_dict()["KeyCount"] == count
        assert count <= max_keys
        assert [o.key for o in page.objects] == utf8_sorted([o.key for o in page.objects])
        assert page.common_prefixes == utf8_sorted(page.common_prefixes)
        entries.extend(merged(page))
        if not page.is_truncated:
            assert page.next_token is None or page.next_token == ""
            break
        assert page.next_token, "a truncated page must say where to continue"
        assert count > 0, "a truncated page must make progress"
        token = page.next_token
        assert len(pages) < max_pages, "pagination does not end"
    return Listing(entries, pages)


# ---------------------------------------------------------------- order, prefix, delimiter


def test_keys_are_listed_in_utf8_binary_order(lake: Lake, order_bucket: str) -> None:
    listing = list_all(lake, order_bucket)
    assert listing.keys == utf8_sorted(ORDER_KEYS)
    assert listing.keys[:8] == ["Z", "a-b", "a.txt", "a/b", "a/b-c", "a/b0", "a/c/d", "a0"]
    assert listing.keys[-3:] == ["é", "ｚ", "😀"]
    assert len(listing.pages) == 1


def test_listed_objects_carry_size_etag_and_time(lake: Lake, order_bucket: str) -> None:
    page = lake.storage.list_objects(order_bucket, prefix="a/")
    for info in page.objects:
        assert info.size == len(info.key.encode())
        assert info.etag == md5_hex(info.key.encode())
        assert info.last_modified.utcoffset() is not None
        assert info.bucket == order_bucket


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("a", ["a-b", "a.txt", "a/b", "a/b-c", "a/b0", "a/c/d", "a0"]),
        ("a/", ["a/b", "a/b-c", "a/b0", "a/c/d"]),
        ("a/b", ["a/b", "a/b-c", "a/b0"]),
        ("a/c/", ["a/c/d"]),
        ("b/x/y/z.csv", ["b/x/y/z.csv"]),
        ("é", ["é"]),
        ("A", []),
        ("a/b/", []),
        ("nothing", []),
    ],
)
def test_prefix(lake: Lake, order_bucket: str, prefix: str, expected: list[str]) -> None:
    listing = list_all(lake, order_bucket, prefix=prefix)
    assert listing.keys == expected
    assert listing.prefixes == []
    assert listing.pages[0].prefix == prefix


@pytest.mark.parametrize(
    ("prefix", "keys", "prefixes"),
    [
        ("", ["Z", "a-b", "a.txt", "a0", "z", "~tilde", "é", "ｚ", "😀"], ["a/", "b/"]),
        ("a/", ["a/b", "a/b-c", "a/b0"], ["a/c/"]),
        ("a", ["a-b", "a.txt", "a0"], ["a/"]),
        ("b/", [], ["b/x/"]),
        ("b/x/", [], ["b/x/y/"]),
        ("b/x/y/", ["b/x/y/z.csv"], []),
        ("nothing/", [], []),
    ],
)
def test_delimiter_slash(lake: Lake, order_bucket: str, prefix: str, keys: list[str], prefixes: list[str]) -> None:
    listing = list_all(lake, order_bucket, prefix=prefix, delimiter="/")
    assert listing.keys == keys
    assert listing.prefixes == prefixes
    assert listing.pages[0].delimiter == "/"
    assert listing.pages[0].to_dict()["KeyCount"] == len(keys) + len(prefixes)


DATED_KEYS = [
    "logs/2024-01-05.csv",
    "logs/2024-02-01.csv",
    "logs/2024-02-03.csv",
    "logs/2025.csv",
    "logs/x-y/z.csv",
    "logs/plain.csv",
    "top-level.txt",
]


@pytest.mark.parametrize(
    ("prefix", "delimiter", "keys", "prefixes"),
    [
        ("logs/", "-", ["logs/2025.csv", "logs/plain.csv"], ["logs/2024-", "logs/x-"]),
        ("logs/2024-", "-", [], ["logs/2024-01-", "logs/2024-02-"]),
        ("logs/2024-02-", "-", ["logs/2024-02-01.csv", "logs/2024-02-03.csv"], []),
        ("", "-", ["logs/2025.csv", "logs/plain.csv"], ["logs/2024-", "logs/x-", "top-"]),
        (
            "",
            ".",
            [],
            [
                "logs/2024-01-05.",
                "logs/2024-02-01.",
                "logs/2024-02-03.",
                "logs/2025.",
                "logs/plain.",
                "logs/x-y/z.",
                "top-level.",
            ],
        ),
        ("logs/", "2024", ["logs/2025.csv", "logs/plain.csv", "logs/x-y/z.csv"], ["logs/2024"]),
        ("", ".csv", ["top-level.txt"], sorted(k for k in DATED_KEYS if k.endswith(".csv"))),  # prefix = whole key
    ],
)
def test_other_delimiters(
    lake: Lake, bucket: str, prefix: str, delimiter: str, keys: list[str], prefixes: list[str]
) -> None:
    for key in DATED_KEYS:
        lake.storage.put_object(bucket, key, b"x")
    listing = list_all(lake, bucket, prefix=prefix, delimiter=delimiter)
    assert listing.keys == keys
    assert listing.prefixes == prefixes


# ---------------------------------------------------------------- pagination


@pytest.mark.parametrize("max_keys", [1, 2, 3, 5, 13, 14, 15, 1000])
def test_pagination_without_delimiter(lake: Lake, order_bucket: str, max_keys: int) -> None:
    listing = list_all(lake, order_bucket, max_keys=max_keys)
    assert listing.keys == utf8_sorted(ORDER_KEYS)
    expected_pages = -(-len(ORDER_KEYS) // max_keys)
    assert len(listing.pages) == expected_pages
    for page in listing.pages[:-1]:
        assert page.is_truncated
        assert len(page.objects) == max_keys
    assert not listing.pages[-1].is_truncated


@pytest.mark.parametrize("max_keys", [1, 2, 4, 11])
def test_pagination_counts_common_prefixes(lake: Lake, order_bucket: str, max_keys: int) -> None:
    listing = list_all(lake, order_bucket, delimiter="/", max_keys=max_keys)
    expected = utf8_sorted(["Z", "a-b", "a.txt", "a/", "a0", "b/", "z", "~tilde", "é", "ｚ", "😀"])
    assert [name for name, _ in listing.entries] == expected
    assert listing.prefixes == ["a/", "b/"]
    assert len(set(listing.entries)) == len(listing.entries), "no entry on two pages"
    assert len(listing.pages) == -(-len(expected) // max_keys)


def test_a_page_that_ends_exactly_at_the_last_key_is_not_truncated(lake: Lake, order_bucket: str) -> None:
    page = lake.storage.list_objects(order_bucket, max_keys=len(ORDER_KEYS))
    assert len(page.objects) == len(ORDER_KEYS)
    assert not page.is_truncated
    assert not page.next_token


def test_pagination_inside_a_prefix_with_delimiter(lake: Lake, bucket: str) -> None:
    keys = [f"p/{i:02d}/f.txt" for i in range(7)] + [f"p/{i:02d}.txt" for i in range(5)] + ["q/0.txt", "p0"]
    for key in keys:
        lake.storage.put_object(bucket, key, b"")
    listing = list_all(lake, bucket, prefix="p/", delimiter="/", max_keys=3)
    assert listing.keys == [f"p/{i:02d}.txt" for i in range(5)]
    assert listing.prefixes == [f"p/{i:02d}/" for i in range(7)]
    assert [name for name, _ in listing.entries] == utf8_sorted(listing.keys + listing.prefixes)
    assert len(listing.pages) == 4


# ---------------------------------------------------------------- start-after


@pytest.mark.parametrize(
    ("start_after", "expected"),
    [
        ("a.txt", ["a/b", "a/b-c", "a/b0", "a/c/d", "a0", "b/x/y/z.csv", "z", "~tilde", "é", "ｚ", "😀"]),
        ("a/b", ["a/b-c", "a/b0", "a/c/d", "a0", "b/x/y/z.csv", "z", "~tilde", "é", "ｚ", "😀"]),
        ("a/bz", ["a/c/d", "a0", "b/x/y/z.csv", "z", "~tilde", "é", "ｚ", "😀"]),
        ("", utf8_sorted(ORDER_KEYS)),
        ("A", utf8_sorted(ORDER_KEYS)),
        ("Z", utf8_sorted(ORDER_KEYS)[1:]),
        ("ｚ", ["😀"]),
        ("😀", []),
        ("\U0010ffff", []),
    ],
)
def test_start_after(lake: Lake, order_bucket: str, start_after: str, expected: list[str]) -> None:
    assert list_all(lake, order_bucket, start_after=start_after).keys == expected
    assert list_all(lake, order_bucket, start_after=start_after, max_keys=2).keys == expected


def test_start_after_with_prefix_and_delimiter(lake: Lake, order_bucket: str) -> None:
    listing = list_all(lake, order_bucket, delimiter="/", start_after="a-b")
    assert listing.keys == ["a.txt", "a0", "z", "~tilde", "é", "ｚ", "😀"]
    assert listing.prefixes == ["a/", "b/"]
    listing = list_all(lake, order_bucket, prefix="a/", delimiter="/", start_after="a/b-c", max_keys=1)
    assert listing.keys == ["a/b0"]
    assert listing.prefixes == ["a/c/"]
    listing = list_all(lake, order_bucket, prefix="a/", start_after="b")
    assert listing.entries == []


# ---------------------------------------------------------------- empty results


def test_empty_results(lake: Lake, bucket: str) -> None:
    for kwargs in ({}, {"delimiter": "/"}, {"prefix": "x/"}, {"start_after": "zzz"}, {"max_keys": 1}):
        page = lake.storage.list_objects(bucket, **kwargs)
        assert (page.objects, page.common_prefixes, page.is_truncated) == ([], [], False)
        assert page.to_dict()["KeyCount"] == 0
        assert not page.next_token
    assert list(lake.storage.iter_objects(bucket)) == []


PATH_LIKE_PREFIXES = ["../", "../../", "/", "/etc/", "./", "a/../", "a//", "a/./", "a/../b/", "//", "."]


def test_path_like_prefixes_match_nothing(lake: Lake, bucket: str, subtests: pytest.Subtests) -> None:
    """A prefix is compared as text: no stored key starts with "a/../b/", so nothing is listed (no aliasing)."""
    for key in ("a/x.txt", "b/y.txt", "c.txt"):
        lake.storage.put_object(bucket, key, b"x")
    lake.storage.put_object(lake.storage.default_bucket, "elsewhere/z.txt", b"z")
    for prefix in PATH_LIKE_PREFIXES:
        for delimiter in (None, "/"):
            with subtests.test(prefix=prefix, delimiter=delimiter):
                assert list_all(lake, bucket, prefix=prefix, delimiter=delimiter).entries == []


def test_prefix_listing_does_not_reach_into_other_buckets(lake: Lake, bucket: str) -> None:
    other = lake.storage.default_bucket
    lake.storage.put_object(other, "secret/s.txt", b"s")
    lake.storage.put_object(bucket, "mine.txt", b"m")
    for prefix in (f"../{other}/", f"../{other}/secret/", f"../../{other}/"):
        assert list_all(lake, bucket, prefix=prefix).entries == []


# ---------------------------------------------------------------- a model of ListObjectsV2


def model_listing(
    keys: set[str], prefix: str, delimiter: str | None, start_after: str | None
) -> list[tuple[str, bool]]:
    """S3's answer, from the documentation: keys after StartAfter under Prefix, in UTF-8 binary order, each
    rolled up to the text up to and including the first Delimiter after the prefix (one entry per prefix)."""
    out: list[tuple[str, bool]] = []
    seen: set[str] = set()
    for key in sorted(keys, key=lambda k: k.encode("utf-8")):
        if not key.startswith(prefix) or (start_after and key.encode() <= start_after.encode()):
            continue
        if delimiter:
            at = key.find(delimiter, len(prefix))
            if at >= 0:
                common = key[: at + len(delimiter)]
                if common not in seen:
                    seen.add(common)
                    out.append((common, True))
                continue
        out.append((key, False))
    return out


def test_the_model_agrees_with_the_documented_examples() -> None:
    keys = {
        "photos/2006/January/sample.jpg",
        "photos/2006/February/sample2.jpg",
        "photos/2006/February/sample3.jpg",
        "photos/2006/February/sample4.jpg",
    }
    assert model_listing(keys, "photos/2006/", "/", None) == [
        ("photos/2006/February/", True),
        ("photos/2006/January/", True),
    ]
    assert model_listing({"sample.jpg", "photos/2006/x.jpg"}, "", "/", None) == [
        ("photos/", True),
        ("sample.jpg", False),
    ]


SEGMENT = st.text(alphabet="ab-.0é😀", min_size=1, max_size=3)
KEY = st.lists(SEGMENT.filter(lambda s: s not in (".", "..")), min_size=1, max_size=3).map("/".join)


def storable(keys: list[str]) -> set[str]:
    """Drop keys a folder cannot hold beside others ("a" and "a/b"): the local backend refuses that pair."""
    kept: set[str] = set()
    for key in keys:
        clash = any(k.startswith(key + "/") or key.startswith(k + "/") for k in kept)
        if not clash:
            kept.add(key)
    return kept


def prefixes_of(keys: set[str]) -> list[str]:
    return sorted({key[:n] for key in keys for n in range(len(key) + 1)})


@st.composite
def listing_cases(draw: st.DrawFn) -> tuple[set[str], str, str | None, int, str | None]:
    keys = storable(draw(st.lists(KEY, min_size=0, max_size=14)))
    prefix = draw(st.one_of(st.sampled_from(prefixes_of(keys) or [""]), st.text(alphabet="ab-./é", max_size=3)))
    delimiter = draw(st.sampled_from([None, "/", "-", ".", "é", "b/", "/a", "😀"]))
    max_keys = draw(st.one_of(st.integers(1, 4), st.just(1000)))
    start_after = draw(
        st.one_of(st.none(), st.sampled_from(sorted(keys) or ["a"]), st.text(alphabet="ab-./é0", max_size=4))
    )
    return keys, prefix, delimiter, max_keys, start_after


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=listing_cases())
def test_local_listing_matches_the_model(
    local_lake: Lake, case: tuple[set[str], str, str | None, int, str | None]
) -> None:
    keys, prefix, delimiter, max_keys, start_after = case
    storage = local_lake.storage
    bucket = f"prop-{uuid.uuid4().hex[:12]}"
    storage.create_bucket(bucket)
    for key in keys:
        storage.put_object(bucket, key, key.encode())
    expected = model_listing(keys, prefix, delimiter, start_after)
    listing = list_all(
        local_lake, bucket, prefix=prefix, delimiter=delimiter, max_keys=max_keys, start_after=start_after
    )
    assert listing.entries == expected
    assert len(listing.pages) == max(1, -(-len(expected) // max_keys))


# ---------------------------------------------------------------- acceptance: 20,000 keys

BIG_DIRS = 1990
BIG_FILES_PER_DIR = 10
BIG_TOP = 100


def big_keys() -> list[str]:
    nested = [f"part={i:04d}/file-{j:02d}.csv" for i in range(BIG_DIRS) for j in range(BIG_FILES_PER_DIR)]
    top = [f"top-{i:03d}.csv" for i in range(BIG_TOP)]
    keys = nested + top
    assert len(keys) == 20_000
    return keys


@pytest.fixture
def big_bucket(lake: Lake) -> Iterator[str]:
    """A bucket of 20,000 objects written the fast way: files on disk (local) or moto's store (S3)."""
    name = new_bucket_name("big")
    lake.storage.create_bucket(name)
    keys = big_keys()
    if isinstance(lake.backend, LocalBackend):
        root = lake.backend.root / name
        for key in keys:
            path = root / key
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(key.encode())
    else:
        for key in keys:
            moto_put(name, key, key.encode())
    yield name
    if lake.backend.name == "s3":
        moto_drop_bucket(name)


@pytest.mark.slow
def test_20000_keys_with_pagination_and_delimiter(lake: Lake, big_bucket: str) -> None:
    keys = big_keys()

    flat = list_all(lake, big_bucket, max_keys=1000)
    assert len(flat.pages) == 20
    assert all(len(p.objects) == 1000 for p in flat.pages)
    assert all(p.is_truncated for p in flat.pages[:-1])
    assert len(flat.keys) == 20_000
    assert len(set(flat.keys)) == 20_000, "no key on two pages"
    assert flat.keys == utf8_sorted(keys)
    assert all(o.etag == md5_hex(o.key.encode()) for p in flat.pages for o in p.objects)

    grouped = list_all(lake, big_bucket, delimiter="/", max_keys=1000)
    assert [len(p.objects) + len(p.common_prefixes) for p in grouped.pages] == [1000, 1000, 90]
    assert grouped.prefixes == [f"part={i:04d}/" for i in range(BIG_DIRS)]
    assert grouped.keys == [f"top-{i:03d}.csv" for i in range(BIG_TOP)]
    assert len(set(grouped.entries)) == len(grouped.entries) == BIG_DIRS + BIG_TOP

    inside = list_all(lake, big_bucket, prefix="part=1234/", delimiter="/")
    assert inside.keys == [f"part=1234/file-{j:02d}.csv" for j in range(BIG_FILES_PER_DIR)]
    assert inside.prefixes == []

    dashed = list_all(lake, big_bucket, prefix="part=01", delimiter="-", max_keys=30)
    assert dashed.prefixes == [f"part={i:04d}/file-" for i in range(100, 200)]
    assert dashed.keys == []
    assert len(dashed.pages) == 4
