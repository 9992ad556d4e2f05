"""The 08:00 spike benchmark: onthedot against the bare-HTTP floor and against Celery,
APScheduler, procrastinate and a cron-style poller, in one run (`onthedot bench spike`).

- `report`: the maths (percentiles, early/duplicate/lost detection, buckets, ratios, targets,
  the table and the JSON document); pure functions, unit-tested.
- `workload`: the posts every contender publishes, and the one HTTP request that publishes one.
- `peers`: the peers' processes (floor, APScheduler, procrastinate worker, cron poller).
- `celery_app`: the Celery app and task (its worker is `celery -A bench.spike.celery_app`).
- `contenders`: running each contender against its own sandbox; `meter`: the CPU seconds and
  peak RSS of its processes.
- `background`: claim time per batch with 10 thousand to 1 million other posts stored.
- `chart`: the PNG. `cli`: the command line.

Peers are imported lazily, so the onthedot contenders run without the `bench` extras.
"""
