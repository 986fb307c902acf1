"""Run the benchmark suite and print one table (``make bench``).

Uses a fresh database: a temporary SQLite file, or, when ``DATABASE_URL``
names a PostgreSQL database, a scratch ``<name>_bench`` database beside it.
Pages, replies and votes are measured in one process, the front page, the
thread-list API and profiles as the forum grows in another (with its own
database), and the large import in a third, so its peak memory is its own. Prints numbers and ratios; asserts
nothing (the machines are shared and noisy), except that the runs succeeded.
"""

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import dj_database_url

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"


def scratch_database_url(purpose="bench"):
    """A URL of an empty database for this run and ``purpose``, and what it
    is; named after this checkout too, so that checkouts benchmarking on one
    machine at once keep apart."""
    url = os.environ.get("DATABASE_URL", "")
    if not url or url.startswith("sqlite"):
        checkout = hashlib.sha1(str(ROOT).encode()).hexdigest()[:8]
        path = Path(tempfile.gettempdir()) / f"forum-{purpose}-{checkout}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}", "SQLite (file, WAL)"
    import psycopg

    config = dj_database_url.parse(url)
    name = f"{config['NAME']}_{purpose}"
    admin = psycopg.connect(
        host=config["HOST"] or "127.0.0.1",
        port=config["PORT"] or 5432,
        user=config["USER"],
        password=config["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + f"/{name}", "PostgreSQL"


def bench_environment(database_url):
    """Production settings (DEBUG off) minus HTTPS, which the test client lacks."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="forum.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="benchmark-only-secret-key-" + "x" * 40,
        DJANGO_ALLOWED_HOSTS="testserver,127.0.0.1,localhost",
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_SECURE_COOKIES="0",
        DJANGO_RATELIMIT_ENABLED="0",
        PYTHONPATH=str(ROOT),
    )
    return env


def run_json(args, env):
    result = subprocess.run([sys.executable, *args], env=env, cwd=ROOT, stdout=subprocess.PIPE, check=True)
    return json.loads(result.stdout)


def ratio(value, base):
    return f"{value / base:.1f}x" if base else "-"


def page_table(pages):
    lines = [
        "| comments | `?all=1` ms | queries | HTML B/comment (beyond text) | lower bound ms | ratio | "
        "naive recursetree ms | recursetree / ours | default page ms (queries) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in pages:
        ours, lower, naive, default = row["all"], row["lower_bound"], row["recursetree"], row["default"]
        per_comment = ours["bytes"] / row["comments"]
        beyond = (ours["bytes"] - row["text_bytes"]) / row["comments"]
        lines.append(
            f"| {row['comments']:,} | {ours['ms']} | {ours['queries']} (member: {row['all_member']['queries']}) | "
            f"{per_comment:,.0f} ({beyond:,.0f}) | {lower['ms']} | **{ratio(ours['ms'], lower['ms'])}** | "
            f"{naive['ms']} | {ratio(naive['ms'], ours['ms'])} | {default['ms']} ({default['queries']}) |"
        )
    return lines


def visitor_cache_table(pages):
    lines = [
        "| comments | `?all=1` uncached ms | cached ms | cached / uncached | cached queries | "
        "default page uncached ms | cached ms | cached / uncached |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in pages:
        whole, default = row["visitor_cache"]["all"], row["visitor_cache"]["default"]
        lines.append(
            f"| {row['comments']:,} | {whole['uncached_ms']} | {whole['cached_ms']} | **{whole['ratio']:.3f}** | "
            f"{whole['cached_queries']} | {default['uncached_ms']} | {default['cached_ms']} | {default['ratio']:.3f} |"
        )
    return lines


def listing_tables(listings, profiles):
    sizes = sorted(listings, key=int)
    smallest = sizes[0]
    names = {"hot": "front page, hot", "new": "front page, new", "top": "front page, top"}
    names.update({"api": "`/api/threads/`, first page", "api_deep": "`/api/threads/`, page 50 from the end"})
    lines = [
        "| page (queries) | " + " | ".join(f"{int(size):,} threads ms" for size in sizes) + " | largest / smallest |",
        "|---|" + "---:|" * (len(sizes) + 1),
    ]
    for name, label in names.items():
        cells = [
            f"{listings[size][name]['ms']} ({'/'.join(map(str, listings[size][name]['passes_ms']))})" for size in sizes
        ]
        worst = listings[sizes[-1]][name]["ms"] / listings[smallest][name]["ms"]
        lines.append(f"| {label} ({listings[smallest][name]['queries']}) | {' | '.join(cells)} | **{worst:.2f}x** |")
    if profiles:
        small, big = sorted(profiles, key=int)
        lines += [
            "",
            "| profile | comments | first page ms | a middle page ms | queries | karma |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for size in (small, big):
            row = profiles[size]
            lines.append(
                f"| writer{size} | {int(size):,} | {row['first_ms']:.2f} | {row['middle_ms']:.2f} | "
                f"{row['queries']} | {row['karma']:,} |"
            )
        lines.append(
            f"\nProfile of {int(big):,} vs {int(small):,} comments: first page "
            f"{profiles[big]['first_ms'] / profiles[small]['first_ms']:.2f}x, middle page "
            f"{profiles[big]['middle_ms'] / profiles[small]['middle_ms']:.2f}x."
        )
    return lines


def write_table(pages, imports, machine, database, listings=None, profiles=None):
    by_size = {row["comments"]: row for row in pages}
    lines = [f"Machine: {machine}. Database: {database}. {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.", ""]
    if pages:
        lines += [
            "Thread page (Django test client, anonymous; median of 5 after a warm-up, 15 for the default page;",
            "each page timed in turn with its lower bound, and the default pages of all sizes in turn):",
            "",
            *page_table(pages),
            "",
            "| comments | reply ms (median of 30, random parent) | vote ms (median of 60) |",
            "|---:|---:|---:|",
        ]
        lines += [f"| {row['comments']:,} | {row['reply_ms']} | {row['vote_ms']} |" for row in pages]
    if 1000 in by_size and 10000 in by_size:
        first_pages = by_size[10000]["default"]["ms"] / by_size[1000]["default"]["ms"]
        lines.append(f"\nDefault first page, 10,000 vs 1,000 comments: {first_pages:.2f}x (target <= 1.5x).")
    if 100 in by_size and 10000 in by_size:
        replies = by_size[10000]["reply_ms"] / by_size[100]["reply_ms"]
        lines.append(f"Reply in a 10,000- vs a 100-comment thread: {replies:.2f}x (target <= 2x).")
    if pages:
        lines += [
            "",
            "Visitors' pages from the cache against their uncached render, timed in turn (median of 10;",
            "the ratio is the median of the rounds' ratios; target <= 0.1 for 10,000 comments with `?all=1`):",
            "",
            *visitor_cache_table(pages),
        ]
    if listings:
        lines += [
            "",
            "Listings as the forum grows to each size and shrinks back (uncached, anonymous; the mean of the",
            "two passes' medians of 15, each pass in brackets; target <= 1.5x for the front page):",
            "",
            *listing_tables(listings, profiles),
        ]
    if imports:
        lines += [
            "",
            "| import | rows/s | seconds | peak RSS |",
            "|---|---:|---:|---:|",
            f"| import_dump, {imports['comments']:,} comments (median of {imports['rounds']}) | "
            f"{imports['import_rate']:,} | {imports['import_s']} | {imports['peak_rss_mb']} MB |",
            f"| same file again, unchanged (median of {imports['rounds']}) | {imports['reimport_rate'] or 0:,} | "
            f"{imports['reimport_s']} | |",
            f"| raw executemany of the same {imports['rows']:,} rows and its commit (median of {imports['rounds']}) | "
            f"{imports['raw_rate']:,} | {imports['raw_s']} | |",
            "",
            f"Import rate / raw executemany rate, each import timed beside a raw insert: median "
            f"{imports['ratio']:.2f} of {', '.join(f'{pair:.2f}' for pair in imports['ratios'])} (target >= 0.25); "
            f"against the insert alone, before its commit ({imports['raw_uncommitted_s']} s): "
            f"{imports['ratio_to_uncommitted']:.2f}.",
            "Re-import time / import time, by round: "
            f"{', '.join(f'{pair:.2f}' for pair in imports['reimport_vs_import']) or 'not run'} (target < 1).",
            f"Dump file: {imports['file_mb']} MB.",
            f"Merging a capture whose 100,000-character comment was edited: {imports['long_edit_merge_ms']} ms.",
        ]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--import-comments", type=int, default=100_000, help="0 skips the import benchmark")
    parser.add_argument("--import-rounds", type=int, default=5)
    parser.add_argument("--no-reimport", action="store_true", help="skip the unchanged re-import (reads a dump whole)")
    parser.add_argument("--listing-sizes", default="1000,10000,100000", help="threads; empty skips the listings")
    parser.add_argument("--profile-comments", type=int, default=100_000, help="0 skips the profiles")
    args = parser.parse_args()
    database_url, database = scratch_database_url()
    env = bench_environment(database_url)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], env=env, cwd=ROOT, check=True)
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"], env=env, cwd=ROOT, check=True)
    pages = run_json(["benchmarks/pages.py", "--sizes", args.sizes], env)["pages"] if args.sizes else []
    listings = profiles = None
    if args.listing_sizes:
        listing_url, _ = scratch_database_url("listings")
        listing_env = bench_environment(listing_url)
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], env=listing_env, cwd=ROOT, check=True)
        measured = run_json(
            [
                "benchmarks/listings.py",
                "--sizes",
                args.listing_sizes,
                "--profile-comments",
                str(args.profile_comments),
            ],
            listing_env,
        )
        listings, profiles = measured["listings"], measured["profiles"]
    imports = None
    if args.import_comments:
        command = ["benchmarks/imports.py", f"--comments={args.import_comments}", f"--rounds={args.import_rounds}"]
        imports = run_json([*command, *(["--no-reimport"] if args.no_reimport else [])], env)
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    table = write_table(pages, imports, machine, database, listings, profiles)
    print(table)
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    results = {"pages": pages, "imports": imports, "listings": listings, "profiles": profiles, "database": database}
    (RESULTS / f"bench-{stamp}.json").write_text(json.dumps(results))


if __name__ == "__main__":
    main()
