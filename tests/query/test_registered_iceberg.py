"""The AWS tutorials crawl the warehouse folder the Glue job wrote, into another database (``datawarehouse``),
then query that table in Athena: a crawled Iceberg table is read from its metadata file."""

from __future__ import annotations

from lakeport import Lake
from lakeport.crawler import CrawlerDefinition


def sql(lake: Lake, text: str) -> None:
    run = lake.queries.start_query_execution(text, wait=True)
    assert run.state == "SUCCEEDED", run.state_change_reason


def test_a_crawled_iceberg_table_in_another_database_is_queried(local_lake: Lake) -> None:
    local_lake.catalog.create_database("spotify")
    sql(
        local_lake,
        "CREATE TABLE spotify.tracks WITH (table_type = 'ICEBERG', is_external = false) AS "
        "SELECT * FROM (VALUES ('a', 1), ('b', 2), ('a', 3)) AS t (artist, n)",
    )
    assert local_lake.catalog.get_table("spotify", "tracks").table_type == "ICEBERG"
    bucket = local_lake.settings.storage.default_bucket
    local_lake.crawlers.create_crawler(
        CrawlerDefinition(name="dw", targets=(f"s3://{bucket}/warehouse/spotify/",), database="datawarehouse")
    )
    local_lake.crawlers.start_crawler("dw", wait=True)
    crawled = local_lake.catalog.get_table("datawarehouse", "tracks")
    assert crawled.table_type == "ICEBERG"
    run = local_lake.queries.start_query_execution(
        "SELECT artist, sum(n) FROM datawarehouse.tracks GROUP BY artist ORDER BY artist", wait=True
    )
    assert run.state == "SUCCEEDED", run.state_change_reason
    assert local_lake.queries.get_query_rows(run.id)[1] == [["a", 4], ["b", 2]]
    # a new commit by the writer shows through the crawled entry once it is crawled again
    sql(local_lake, "INSERT INTO spotify.tracks VALUES ('c', 5)")
    local_lake.crawlers.start_crawler("dw", wait=True)
    run = local_lake.queries.start_query_execution("SELECT count(*) FROM datawarehouse.tracks", wait=True)
    assert local_lake.queries.get_query_rows(run.id)[1] == [[4]]
