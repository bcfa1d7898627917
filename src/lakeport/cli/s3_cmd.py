"""``lakeport s3``: buckets and objects, in the shape of ``aws s3``."""

from __future__ import annotations

from typing import Annotated

import typer

from lakeport.cli.context import OutputFormat, OutputOption, output_of, state
from lakeport.cli.output import emit, human_size, stdout
from lakeport.cli.progress import transfer_bar
from lakeport.errors import InvalidInput
from lakeport.storage import Transfer, parse_location

app = typer.Typer(help="Buckets and objects (like `aws s3`).", no_args_is_help=True)

Recursive = Annotated[
    bool, typer.Option("--recursive", "-r", help="every object under the prefix / file in the folder")
]
DryRun = Annotated[bool, typer.Option("--dryrun", help="print what would be done, do nothing")]


def _bucket_of(uri: str) -> str:
    where = parse_location(uri)
    if not where.is_lake or where.key or where.bucket is None:
        raise InvalidInput(f"{uri!r} is not a bucket", hint="write s3://bucket")
    return where.bucket


@app.command("mb")
def make_bucket(
    ctx: typer.Context,
    bucket: Annotated[str, typer.Argument(help="s3://bucket")],
    output: OutputOption = None,
) -> None:
    """Make a bucket."""
    name = _bucket_of(bucket)
    lake = state(ctx).open_lake()
    lake.storage.create_bucket(name)
    emit(output_of(ctx, output), {"bucket": name}, lambda: stdout.print(f"make_bucket: {name}"))


@app.command("rb")
def remove_bucket(
    ctx: typer.Context,
    bucket: Annotated[str, typer.Argument(help="s3://bucket")],
    force: Annotated[bool, typer.Option("--force", help="delete every object first")] = False,
    output: OutputOption = None,
) -> None:
    """Remove a bucket (it must be empty unless --force)."""
    name = _bucket_of(bucket)
    lake = state(ctx).open_lake()
    removed = lake.storage.delete_bucket(name, force=force)
    emit(
        output_of(ctx, output),
        {"bucket": name, "objects_deleted": removed},
        lambda: stdout.print(f"remove_bucket: {name}"),
    )


@app.command("ls")
def list_(
    ctx: typer.Context,
    uri: Annotated[str | None, typer.Argument(help="s3://bucket[/prefix]; nothing lists the buckets")] = None,
    recursive: Recursive = False,
    human_readable: Annotated[bool, typer.Option("--human-readable", help="sizes in KiB/MiB/GiB")] = False,
    summarize: Annotated[bool, typer.Option("--summarize", help="print the object count and total size")] = False,
    output: OutputOption = None,
) -> None:
    """List buckets, or the objects and prefixes under s3://bucket/prefix."""
    lake = state(ctx).open_lake()
    fmt = output_of(ctx, output)
    if uri is None:
        buckets = lake.storage.list_buckets()

        def show_buckets() -> None:
            for b in buckets:
                stdout.print(f"{b.created:%Y-%m-%d %H:%M:%S} {b.name}" if b.created else b.name)

        emit(fmt, {"Buckets": [b.to_dict() for b in buckets]}, show_buckets)
        return
    where = parse_location(uri)
    if not where.is_lake or where.bucket is None:
        raise InvalidInput(f"{uri!r} is not an s3:// location")
    delimiter = None if recursive else "/"
    objects, prefixes = [], []
    for page in lake.storage.iter_pages(where.bucket, prefix=where.key, delimiter=delimiter):
        objects.extend(page.objects)
        prefixes.extend(page.common_prefixes)
    total = sum(o.size for o in objects)
    data = {
        "Bucket": where.bucket,
        "Prefix": where.key,
        "CommonPrefixes": prefixes,
        "Contents": [o.to_dict() for o in objects],
        "TotalObjects": len(objects),
        "TotalSize": total,
    }
    base = where.key.rsplit("/", 1)[0] + "/" if "/" in where.key and not recursive else ""

    def text() -> None:
        for p in prefixes:
            stdout.print(f"{'PRE':>30} {p[len(base) :]}")
        for o in objects:
            size = human_size(o.size) if human_readable else str(o.size)
            name = o.key if recursive else o.key[len(base) :]
            stdout.print(f"{o.last_modified:%Y-%m-%d %H:%M:%S} {size:>10} {name}")
        if summarize:
            stdout.print(f"\nTotal Objects: {len(objects)}")
            stdout.print(f"   Total Size: {human_size(total) if human_readable else total}")

    emit(fmt, data, text)


def _run_plan(
    ctx: typer.Context,
    plan: list[Transfer],
    verb: str,
    output: OutputOption,
    *,
    move: bool = False,
    dryrun: bool = False,
) -> None:
    lake = state(ctx).open_lake()
    fmt = output_of(ctx, output)
    if not dryrun:
        total = sum(t.size for t in plan) or None
        with transfer_bar(verb, total, enabled=fmt is OutputFormat.text) as progress:
            if move:
                lake.transfers.move(plan, progress=progress)
            else:
                lake.transfers.run(plan, progress=progress)
    prefix = "(dryrun) " if dryrun else ""

    def text() -> None:
        for item in plan:
            if item.dest.is_stdio:
                continue
            target = "" if item.action == "delete" else f" to {item.dest}"
            stdout.print(f"{prefix}{'delete' if item.action == 'delete' else verb}: {item.source}{target}")

    if plan and plan[0].dest.is_stdio and fmt is OutputFormat.text:
        return  # the object's bytes went to standard output; print nothing else there
    emit(fmt, {"dryrun": dryrun, "transfers": [t.to_dict() for t in plan]}, text)


@app.command("cp")
def copy(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="local path, s3://bucket/key, or - for standard input")],
    dest: Annotated[str, typer.Argument(help="local path, s3://bucket/key, or - for standard output")],
    recursive: Recursive = False,
    dryrun: DryRun = False,
    output: OutputOption = None,
) -> None:
    """Copy files into the lake, objects out of it, or objects within it (streamed, constant memory)."""
    lake = state(ctx).open_lake()
    plan = lake.transfers.plan_copy(parse_location(source), parse_location(dest), recursive=recursive)
    _run_plan(ctx, plan, "copy" if not plan or plan[0].action == "copy" else plan[0].action, output, dryrun=dryrun)


@app.command("mv")
def move(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="local path or s3://bucket/key")],
    dest: Annotated[str, typer.Argument(help="local path or s3://bucket/key")],
    recursive: Recursive = False,
    dryrun: DryRun = False,
    output: OutputOption = None,
) -> None:
    """Move: copy, then remove the source once the copy is complete."""
    lake = state(ctx).open_lake()
    src = parse_location(source)
    if src.is_stdio:
        raise InvalidInput("mv cannot read standard input", hint="use cp - s3://bucket/key")
    plan = lake.transfers.plan_copy(src, parse_location(dest), recursive=recursive)
    _run_plan(ctx, plan, "move", output, move=True, dryrun=dryrun)


@app.command("rm")
def remove(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="s3://bucket/key, or a prefix with --recursive")],
    recursive: Recursive = False,
    dryrun: DryRun = False,
    output: OutputOption = None,
) -> None:
    """Delete an object, or every object under a prefix."""
    lake = state(ctx).open_lake()
    plan = lake.transfers.plan_remove(parse_location(target), recursive=recursive)
    _run_plan(ctx, plan, "delete", output, dryrun=dryrun)


@app.command("sync")
def sync(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="local folder or s3://bucket/prefix")],
    dest: Annotated[str, typer.Argument(help="local folder or s3://bucket/prefix")],
    delete: Annotated[
        bool, typer.Option("--delete", help="remove files in the destination that the source lacks")
    ] = False,
    dryrun: DryRun = False,
    output: OutputOption = None,
) -> None:
    """Copy what is new or changed (size differs, or the source is newer), like `aws s3 sync`."""
    lake = state(ctx).open_lake()
    src, dst = parse_location(source), parse_location(dest)
    if not (src.is_lake or dst.is_lake):
        raise InvalidInput("sync needs an s3:// location on at least one side")
    plan = lake.transfers.plan_sync(src, dst, delete=delete)
    verb = "copy" if src.is_lake and dst.is_lake else ("upload" if dst.is_lake else "download")
    _run_plan(ctx, plan, verb, output, dryrun=dryrun)


@app.command("presign")
def presign(
    ctx: typer.Context,
    uri: Annotated[str, typer.Argument(help="s3://bucket/key")],
    expires_in: Annotated[int, typer.Option("--expires-in", help="seconds the URL stays valid (max 604800)")] = 3600,
    output: OutputOption = None,
) -> None:
    """Print a URL that lets anyone holding it download the object until it expires."""
    where = parse_location(uri)
    if not where.is_lake or not where.key or where.bucket is None:
        raise InvalidInput(f"{uri!r} does not name an object", hint="write s3://bucket/key")
    lake = state(ctx).open_lake()
    url = lake.storage.presign(where.bucket, where.key, expires_in=expires_in)
    emit(output_of(ctx, output), {"url": url, "expires_in": expires_in}, lambda: print(url))
