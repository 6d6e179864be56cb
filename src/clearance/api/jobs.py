"""Starting file-screening jobs: a child process per job (``python -m
clearance.api.jobs JOB_ID``), so a long file uses its own cores and never
holds up the server; or a thread of the server (``jobs_inline``)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading


def start(ctx, job_id: str) -> None:
    from ..cases import jobs

    if ctx.settings.jobs_inline:
        threading.Thread(target=jobs.run, args=(ctx.store, job_id, 1), name=f"job-{job_id}", daemon=True).start()
        return
    env = dict(os.environ)
    env["CLEARANCE_HOME"] = str(ctx.store.home)
    env["CLEARANCE_DB"] = ctx.store.engine.url.render_as_string(hide_password=False)
    proc = subprocess.Popen(
        [sys.executable, "-m", "clearance.api.jobs", job_id],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )
    ctx.jobs[job_id] = proc

    def reap() -> None:
        _, err = proc.communicate()
        ctx.jobs.pop(job_id, None)
        if proc.returncode:
            _mark_failed(ctx.store, job_id, err.decode("utf-8", "replace")[-2000:])

    threading.Thread(target=reap, name=f"job-{job_id}", daemon=True).start()


def _mark_failed(store, job_id: str, stderr: str) -> None:
    from ..cases import jobs

    try:
        job = jobs.get(store, job_id)
        if job["state"] in ("queued", "running"):
            jobs._update(store, job_id, state="failed", error="the screening process stopped unexpectedly")
    except Exception:  # pragma: no cover - best effort
        pass
    import logging

    logging.getLogger("clearance.api").error("job %s failed: %s", job_id, stderr)


def main(argv: list[str]) -> int:
    from ..cases import jobs
    from ..store import open_store

    if len(argv) != 1:
        print("usage: python -m clearance.api.jobs JOB_ID", file=sys.stderr)
        return 2
    store = open_store(initialise=False)
    job = jobs.run(store, argv[0])
    return 0 if job["state"] == "done" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
