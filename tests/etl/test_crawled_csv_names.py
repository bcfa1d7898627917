"""A job reading a crawled CSV table sees the catalog's column names, by position, as Glue does (the crawler
makes ``Customer ID`` ``customer_id``; Hive's CSV SerDe maps columns by position and skips the header)."""

from __future__ import annotations

from lakeport import Lake
from lakeport.crawler import CrawlerDefinition
from lakeport.etl import JobDefinition


def test_the_catalogs_names_not_the_headers(local_lake: Lake) -> None:
    bucket = local_lake.settings.storage.default_bucket
    body = "Customer ID,Order Date,Amount (€)\n1,2024-01-05,10.5\n2,2024-02-07,20\n"
    local_lake.storage.put_object(bucket, "staging/shop/sales/part-1.csv", body.encode())
    local_lake.crawlers.create_crawler(
        CrawlerDefinition(name="shop", targets=(f"s3://{bucket}/staging/shop/",), database="shop_raw")
    )
    local_lake.crawlers.start_crawler("shop", wait=True)
    (table,) = local_lake.catalog.list_tables("shop_raw")
    assert [c.name for c in table.columns] == ["customer_id", "order_date", "amount____"]  # the crawler's own names
    job = JobDefinition.from_dict(
        {
            "name": "copy",
            "nodes": [
                {"id": "read", "type": "source", "table": f"shop_raw.{table.name}"},
                {"id": "pick", "type": "select_fields", "input": "read", "fields": ["customer_id", "amount____"]},
                {"id": "out", "type": "sink", "input": "pick", "table": "shop.sales"},
            ],
        }
    )
    local_lake.jobs.create_job(job)
    run = local_lake.jobs.start_job_run("copy", wait=True)
    assert run.state == "SUCCEEDED", run.error
    query = local_lake.queries.start_query_execution(
        "SELECT customer_id, amount____ FROM shop.sales ORDER BY 1", wait=True
    )
    assert local_lake.queries.get_query_rows(query.id)[1] == [[1, 10.5], [2, 20.0]]
