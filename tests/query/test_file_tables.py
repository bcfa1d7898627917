"""A crawler that finds files of different schemas side by side makes a table per file, located at the file
itself (``typeOfData: file``): the query service reads that one object, not a folder of that name."""

from __future__ import annotations

from lakeport import Lake
from lakeport.crawler import CrawlerDefinition


def test_a_table_located_at_a_file_reads_that_file(local_lake: Lake) -> None:
    bucket = local_lake.settings.storage.default_bucket
    local_lake.storage.put_object(bucket, "staging/mix/orders.csv", b"order_id,amount\n1,10.5\n2,20\n3,7\n")
    local_lake.storage.put_object(bucket, "staging/mix/people.csv", b"name,age,city\nann,31,Oslo\nbo,40,Rome\n")
    local_lake.storage.put_object(bucket, "staging/mix/orders.csv.bak/x.csv", b"order_id,amount\n9,9\n")
    local_lake.crawlers.create_crawler(
        CrawlerDefinition(
            name="mix", targets=(f"s3://{bucket}/staging/mix/",), database="mix", exclusions=("**.bak/**",)
        )
    )
    local_lake.crawlers.start_crawler("mix", wait=True)
    tables = {t.name: t for t in local_lake.catalog.list_tables("mix")}
    assert tables["orders_csv"].location == f"s3://{bucket}/staging/mix/orders.csv"
    run = local_lake.queries.start_query_execution(
        "SELECT count(*), sum(amount) FROM mix.orders_csv", database="mix", wait=True
    )
    assert run.state == "SUCCEEDED", run.state_change_reason
    assert local_lake.queries.get_query_rows(run.id)[1] == [[3, 37.5]]
    run = local_lake.queries.start_query_execution("SELECT name FROM mix.people_csv ORDER BY age", wait=True)
    assert local_lake.queries.get_query_rows(run.id)[1] == [["ann"], ["bo"]]
