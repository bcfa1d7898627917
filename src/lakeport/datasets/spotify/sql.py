"""The generator's SQL: DuckDB macros that derive every value from a hash of (seed, stream, row).

No random state: each value is a pure function of the seed and the row number, so the output is the same
for a seed whatever the thread count or chunk size, and any chunk can be produced on its own.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from lakeport.datasets.spotify import vocabulary as v

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
GENRE_COUNT = 4001  # prime, so the genres of one artist (a stride through the vocabulary) never repeat

# Inverse CDFs as (quantile, value) points, interpolated linearly (reference §1.2 and §1.1).
ARTIST_POPULARITY = [(0, 0), (0.27, 0), (0.27, 1), (0.5, 7.5), (0.75, 26.5), (0.9, 45.5), (0.99, 73.5), (1, 100.99)]
LOG10_FOLLOWERS = [(0, 0), (0.25, 1.6), (0.5, 2.48), (0.9, 4.8236), (0.99, 6.716), (1, 8.0645)]
ALBUM_POPULARITY = [(0, 0), (0.12, 0), (0.12, 1), (0.5, 16), (0.9, 46), (0.99, 71), (1, 100.99)]


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _list(items: list[str] | tuple[str, ...]) -> str:
    return "[" + ", ".join(_literal(i) for i in items) + "]"


def _base62_digits() -> str:
    digits = []
    for j in range(22):
        divisor = 62 ** (j % 10)
        digits.append(f"substr('{BASE62}', 1 + ((h{j // 10} // {divisor}::UBIGINT) % 62)::INTEGER, 1)")
    return " || ".join(digits)


def _piecewise(name: str, points: list[tuple[float, float]]) -> str:
    """A macro ``name(x)`` interpolating linearly between ``points`` (x ascending; equal x = a jump)."""
    cases = []
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        if x1 == x0:
            continue
        cases.append(f"WHEN x < {x1} THEN {y0} + (x - {x0}) / ({x1} - {x0}) * ({y1} - {y0})")
    return f"CREATE MACRO {name}(x) AS CASE {' '.join(cases)} ELSE {points[-1][1]} END"


@dataclass(frozen=True)
class Plan:
    """Sizes and the artist permutation for one (scale, seed)."""

    seed: int
    n_artists: int
    n_albums: int
    perm_mul: int
    perm_add: int
    perm_inv: int
    various_pos: int


def make_plan(scale: float, seed: int, artists: int, albums: int) -> Plan:
    import math

    n_artists = max(5, round(artists * scale))
    n_albums = max(n_artists, round(albums * scale))
    mul = int(n_artists * 0.6180339887) | 1
    while math.gcd(mul, n_artists) != 1:
        mul += 2
    add = seed % n_artists
    inv = pow(mul, -1, n_artists)
    # "Various Artists" is one of the most popular album artists (rank 3), at the position holding that rank.
    various = ((3 - add) * inv) % n_artists
    return Plan(seed, n_artists, n_albums, mul, add, inv, various)


def macros(plan: Plan) -> list[str]:
    seed = plan.seed
    titled_words = v.titled(list(v.TITLE_WORDS))
    band = v.titled(list(v.BAND_WORDS))
    return [
        f"CREATE MACRO u(s, i) AS ((hash(i, s, {seed}) >> 11)::DOUBLE / 9007199254740992.0)",
        f"CREATE MACRO pick(l, s, i) AS l[1 + (hash(i, s, {seed}) % len(l))::INTEGER]",
        # about normal(0, 1): a sum of four uniforms, centred and scaled
        "CREATE MACRO nrm(s, i) AS (u(s * 8 + 1, i) + u(s * 8 + 2, i) + u(s * 8 + 3, i) + u(s * 8 + 4, i) - 2.0)"
        " * 1.7320508075688772",
        # 22 base62 digits from three 64-bit hashes (10 + 10 + 2 digits), spelled out: no per-row lambda
        f"CREATE MACRO b62x(h0, h1, h2) AS {_base62_digits()}",
        f"CREATE MACRO b62(s, i) AS b62x(hash(i, s, 0, {seed}), hash(i, s, 1, {seed}), hash(i, s, 2, {seed}))",
        # Python's repr() of a str, as the author's lists were written
        "CREATE MACRO pyq(x) AS CASE WHEN contains(x, '''') AND NOT contains(x, '\"') THEN '\"' || x || '\"' "
        "ELSE '''' || replace(replace(x, '\\', '\\\\'), '''', '\\''') || '''' END",
        "CREATE MACRO pylist(l) AS CASE WHEN len(l) = 1 THEN '[' || pyq(l[1]) || ']' "
        "ELSE '[' || array_to_string(list_transform(l, lambda x: pyq(x)), ', ') || ']' END",
        # a float printed the way the files print them: shortest form, no trailing ".0"
        "CREATE MACRO num(x) AS CASE WHEN x::DOUBLE = trunc(x::DOUBLE) AND abs(x::DOUBLE) < 1e15 "
        "THEN x::DOUBLE::BIGINT::VARCHAR ELSE x::DOUBLE::VARCHAR END",
        f"CREATE MACRO first_names() AS {_list(v.FIRST_NAMES)}",
        f"CREATE MACRO last_names() AS {_list(v.LAST_NAMES)}",
        f"CREATE MACRO accented_first() AS {_list(v.ACCENTED_FIRST)}",
        f"CREATE MACRO accented_last() AS {_list(v.ACCENTED_LAST)}",
        f"CREATE MACRO stage() AS {_list(v.STAGE_PREFIXES)}",
        f"CREATE MACRO band() AS {_list(band)}",
        f"CREATE MACRO words() AS {_list(titled_words)}",
        f"CREATE MACRO tails() AS {_list(v.TITLE_TAILS)}",
        f"CREATE MACRO common_titles() AS {_list(v.COMMON_ALBUM_TITLES)}",
        f"CREATE MACRO label_words() AS {_list(v.LABEL_WORDS)}",
        f"CREATE MACRO label_suffixes() AS {_list(v.LABEL_SUFFIXES)}",
        f"CREATE MACRO accented_labels() AS {_list(v.ACCENTED_LABELS)}",
        f"CREATE MACRO genres() AS {_list(v.genre_vocabulary(GENRE_COUNT))}",
        _piecewise("q_artist_pop", ARTIST_POPULARITY),
        _piecewise("q_log_followers", LOG10_FOLLOWERS),
        _piecewise("q_album_pop", ALBUM_POPULARITY),
        f"CREATE MACRO artist_rank(p) AS (p * {plan.perm_mul} + {plan.perm_add}) % {plan.n_artists}",
        f"CREATE MACRO artist_at_rank(r) AS (((r - {plan.perm_add}) % {plan.n_artists} + {plan.n_artists})"
        f" * {plan.perm_inv}) % {plan.n_artists}",
        f"CREATE MACRO pop_u(p) AS 1.0 - (artist_rank(p) + 0.5) / {plan.n_artists}",
        _artist_name(plan),
        # 1 to 5 title-cased words, spelled out per length (cheaper than a lambda per row)
        "CREATE MACRO phrase(s, i, n) AS CASE n "
        + " ".join(
            f"WHEN {n} THEN " + " || ' ' || ".join(f"pick(words(), s + {k}, i)" for k in range(n)) for n in range(1, 6)
        )
        + " END",
    ]


def _artist_name(plan: Plan) -> str:
    def p(stream: int, lst: str) -> str:
        return f"pick({lst}(), {stream}, p)"

    return f"""CREATE MACRO artist_name(p) AS CASE
        WHEN p = {plan.various_pos} THEN 'Various Artists'
        WHEN u(30, p) < 0.00006 THEN ''
        WHEN u(30, p) < 0.034 THEN {p(31, "accented_first")} || ' ' || {p(32, "accented_last")}
        WHEN u(30, p) < 0.45 THEN {p(31, "first_names")} || ' ' || {p(32, "last_names")}
        WHEN u(30, p) < 0.58 THEN 'The ' || {p(33, "band")} || ' ' || {p(34, "band")}
        WHEN u(30, p) < 0.70 THEN {p(35, "stage")} || ' ' || {p(31, "first_names")}
        WHEN u(30, p) < 0.80 THEN {p(33, "band")} || ' ' || {p(34, "band")}
        WHEN u(30, p) < 0.86 THEN {p(31, "first_names")} || lower({p(32, "last_names")})
        WHEN u(30, p) < 0.93 THEN {p(31, "first_names")} || ' & The ' || {p(34, "band")}
        WHEN u(30, p) < 0.96 THEN {p(31, "first_names")} || ', The ' || {p(34, "band")}
        WHEN u(30, p) < 0.965 THEN {p(31, "first_names")} || ' "' || {p(33, "band")} || '" ' || {p(32, "last_names")}
        ELSE upper({p(33, "band")} || ' ' || {p(34, "band")})
    END"""


def artists_query(plan: Plan) -> str:
    """One row per artist position, in the columns of ``spotify_artist_data_2023.csv``."""
    genre_cols = ", ".join(f"g[{k + 1}] AS genre_{k}" for k in range(7))
    return f"""
    SELECT id, nullif(name, '') AS name, artist_popularity, pylist(g) AS artist_genres, followers, {genre_cols}
    FROM (
        SELECT
            b62(10, p) AS id,
            artist_name(p) AS name,
            floor(q_artist_pop(pop_u(p)))::INTEGER AS artist_popularity,
            CASE WHEN pop_u(p) < 0.02 THEN 0
                 ELSE floor(power(10, greatest(0, q_log_followers(pop_u(p)) + (u(22, p) - 0.5) * 0.3)))::BIGINT
            END AS followers,
            CASE WHEN u(21, p) < 0.12 + 0.36 * pop_u(p) THEN
                list_transform(
                    range(least(7, 1 + floor(7 * power(u(23, p), 3))::INTEGER)),
                    lambda k: genres()[1 + ((floor({GENRE_COUNT} * power(u(24, p), 3))::BIGINT
                        + k * (1 + hash(p, 25, {plan.seed}) % {GENRE_COUNT - 1})) % {GENRE_COUNT})::INTEGER])
            ELSE [] END AS g
        FROM range({plan.n_artists}) t(p)
    )
    """


def chunk_query(plan: Plan, first_album: int, last_album: int) -> str:
    """Every track of albums ``[first_album, last_album)``, with all the columns any output file needs."""
    n = plan.n_artists
    seed = plan.seed
    slots = ", ".join(f"nullif(al[{k + 1}], '') AS artist_{k}" for k in range(12))
    return f"""
    WITH albums AS (
        SELECT a, album_type, pos, album_artist,
            least(300, CASE
                WHEN u(44, a) < 0.003 AND album_type <> 'single' THEN 30 + floor(120 * u(45, a))
                WHEN album_type = 'single' THEN 1 + floor(6 * u(42, a) * u(42, a))
                WHEN album_type = 'compilation' THEN 6 + floor(13 * u(42, a))
                ELSE 3 + floor(exp(1.47 + 0.5 * nrm(43, a)))
            END)::INTEGER AS total_tracks,
            CASE
                WHEN u(46, a) < 0.0005 THEN ''
                WHEN u(46, a) < 0.03 THEN pick(common_titles(), 47, a)
                WHEN u(49, a) < 0.02 THEN pick(words(), 48, a) || ', ' || phrase(90, a, 1 + floor(3 * u(55, a))::INTEGER)
                ELSE phrase(48, a, 1 + floor(4 * power(u(55, a), 1.5))::INTEGER) || pick(tails(), 56, a)
            END AS album_name,
            greatest(1950, 2023 - floor(-ln(1 - u(50, a)) * 5.76)::INTEGER) AS year,
            u(51, a) < 0.08 AS year_only,
            CASE
                WHEN u(53, a) < 0.005 THEN ''
                WHEN u(53, a) < 0.15 THEN album_artist
                WHEN u(53, a) < 0.17 THEN pick(accented_labels(), 57, a)
                ELSE pick(label_words(), 57, a) || ' ' || pick(label_suffixes(), 58, a)
            END AS label,
            floor(q_album_pop(least(0.999999, 0.55 * pop_u(pos) + 0.45 * u(54, a))))::INTEGER AS album_popularity,
            b62(3, a) AS album_id,
            b62(10, pos) AS artist_id
        FROM (SELECT *, artist_name(pos) AS album_artist FROM (
            SELECT a,
                CASE WHEN u(40, a) < 0.505 THEN 'album' WHEN u(40, a) < 0.953 THEN 'single' ELSE 'compilation' END
                    AS album_type,
                CASE
                    WHEN a < {n} THEN a
                    WHEN u(40, a) >= 0.953 AND u(41, a) < 0.4 THEN {plan.various_pos}
                    ELSE artist_at_rank(floor({n} * power(u(41, a), 2.2))::BIGINT)
                END AS pos
            FROM range({first_album}, {last_album}) t(a)
        ))
    ),
    tracks AS (
        SELECT *, hash(tid, 1, 0, {seed}) AS th0, hash(tid, 1, 1, {seed}) AS th1, hash(tid, 1, 2, {seed}) AS th2,
            CASE WHEN u(62, tid) < 0.72 THEN 0 WHEN u(62, tid) < 0.92 THEN 1
                 WHEN u(62, tid) < 0.98 THEN 2 WHEN u(62, tid) < 0.995 THEN 3
                 ELSE 4 + floor(8 * u(63, tid))::INTEGER END AS featured
        FROM (SELECT *, a * 1000 + t AS tid FROM (SELECT *, unnest(range(total_tracks)) AS t FROM albums))
    ),
    named AS (
        SELECT *,
            CASE WHEN featured = 0
                THEN [CASE WHEN pos = {plan.various_pos} THEN artist_name(hash(tid, 65, {seed}) % {n}) ELSE album_artist END]
                ELSE list_concat(
                    [CASE WHEN pos = {plan.various_pos} THEN artist_name(hash(tid, 65, {seed}) % {n}) ELSE album_artist END],
                    list_transform(range(featured), lambda k: artist_name(hash(tid, 64, k, {seed}) % {n})))
            END AS al,
            least(1800000, greatest(20000, round(exp(12.2 + 0.35 * nrm(61, tid)))))::BIGINT AS duration_ms
        FROM tracks
    )
    SELECT
        a, tid,
        CASE WHEN u(70, tid) < 0.03
             THEN pick(words(), 71, tid) || ', ' || phrase(72, tid, 1 + floor(3 * u(73, tid))::INTEGER)
             WHEN u(70, tid) < 0.07 THEN phrase(74, tid, 1 + floor(3 * u(73, tid))::INTEGER) || ' (feat. '
                  || artist_name(hash(tid, 75, {seed}) % {n}) || ')'
             ELSE phrase(74, tid, 1 + floor(5 * power(u(73, tid), 1.6))::INTEGER) || pick(tails(), 76, tid)
        END AS track_name,
        b62x(th0, th1, th2) AS track_id,
        (CASE WHEN total_tracks > 25 THEN t % ceil(total_tracks / 2) ELSE t END + 1)::INTEGER AS track_number,
        duration_ms, album_type, pylist(al) AS artists, total_tracks, nullif(album_name, '') AS album_name,
        strftime(make_date(year, 1, 1) + (CASE WHEN year_only THEN 0
                 ELSE floor(u(52, a) * CASE WHEN year = 2023 THEN 354 ELSE 365 END) END)::INTEGER,
                 '%Y-%m-%d') || ' 00:00:00 UTC' AS release_date,
        nullif(label, '') AS label, album_popularity, album_id, artist_id, {slots},
        CASE WHEN duration_ms % 1000 = 0 THEN (duration_ms // 1000)::VARCHAR
             ELSE rtrim(printf('%d.%03d', duration_ms // 1000, duration_ms % 1000), '0') END AS duration_sec,
        u(60, tid) < 0.0019 AS duplicated,
        u(80, tid) < 0.003 AS no_features,
        least(100, greatest(0, round(album_popularity * 0.92 + (u(81, tid) - 0.45) * 24)))::INTEGER
            AS track_popularity,
        CASE WHEN u(82, tid) < 0.21 THEN 'true' ELSE 'false' END AS explicit,
        round(0.12 + 0.84 * (u(83, tid) + u(84, tid) + u(85, tid)) / 3, 3) AS danceability,
        round(0.02 + 0.978 * power(u(86, tid), 0.75), 3) AS energy,
        CASE WHEN u(87, tid) < 0.004 THEN -1 ELSE (hash(tid, 88, {seed}) % 12)::INTEGER END AS key,
        round(greatest(-60.0, least(1.5, -exp(1.95 + 0.5 * nrm(89, tid)))), 3) AS loudness,
        CASE WHEN u(90, tid) < 0.62 THEN 1 ELSE 0 END AS mode,
        CASE WHEN u(91, tid) < 0.85 THEN round(0.024 + 0.08 * u(105, tid), 4)
             ELSE round(0.1 + 0.86 * u(105, tid) * u(105, tid), 4) END AS speechiness,
        CASE WHEN u(92, tid) < 0.55 THEN round(power(u(93, tid), 3), 5)
             ELSE round(1 - power(u(93, tid), 3) * 0.9, 3) END AS acousticness,
        CASE WHEN u(94, tid) < 0.7 THEN round(power(u(95, tid), 8) * 0.1, 6)
             ELSE round(0.75 + 0.25 * u(95, tid), 3) END AS instrumentalness,
        CASE WHEN u(96, tid) < 0.88 THEN round(0.06 + 0.14 * sqrt(u(97, tid)), 4)
             ELSE round(0.2 + 0.78 * u(97, tid), 3) END AS liveness,
        round(0.03 + 0.95 * (u(98, tid) + u(99, tid)) / 2, 3) AS valence,
        CASE WHEN u(100, tid) < 0.002 THEN 0.0
             ELSE round(55 + 150 * (u(101, tid) + u(102, tid) + u(103, tid)) / 3, 3) END AS tempo,
        CASE WHEN u(104, tid) < 0.88 THEN 4 WHEN u(104, tid) < 0.96 THEN 3 WHEN u(104, tid) < 0.985 THEN 5
             WHEN u(104, tid) < 0.995 THEN 1 ELSE 0 END AS time_signature
    FROM named
    ORDER BY a, t
    """
