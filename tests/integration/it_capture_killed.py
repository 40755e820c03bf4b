"""Chromium killed mid-capture: the renderer reports a retryable failure,
the task is tried again on a browser the renderer starts again (its warm
browser broke), the job completes (one renderer), and nothing of the killed
browser's process group is left."""
import os
import signal
from harness import Stack, check, wait_for
from capture_pages import PageServer, need_chromium

need_chromium()
pages = PageServer(slow_s=4)
stack = Stack(renderers=1)
status, _, job = stack.json("POST", "/v1/capture", {"url": pages.url("/slow"), "async": True})
check(status == 202, "create: %d %r" % (status, job))
wait_for(lambda: pages.browser_hits("/slow"), 30, "the browser to request the page")


def s_parent(pid):
    try:
        with open("/proc/%s/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return 0
    return int(stat[stat.rindex(")") + 2:].split()[1])


def s_ours(pid, root):
    """pid descends from root (other tests on this machine run browsers too)."""
    for _ in range(64):
        if pid == root:
            return True
        pid = s_parent(pid)
        if pid <= 1:
            return False
    return False


RENDERER = stack.procs["renderer0"].pid
GROUPS = set()       # process groups of our browsers: their orphans keep them


def browser_pids(main_only=False):
    """Processes of this stack's capture browsers (main_only: the browser
    process itself, not its zygotes and renderers)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                cmd = f.read()     # helpers rewrite theirs as one space-separated string
        except OSError:
            continue
        if b"--user-data-dir=/tmp/easel-chromium-" not in cmd:
            continue
        if main_only and (b"--remote-debugging-pipe" not in cmd or b"--type=" in cmd):
            continue
        try:
            group = os.getpgid(int(entry))
        except OSError:
            continue
        if not s_ours(int(entry), RENDERER) and group not in GROUPS:
            continue
        pids.append(int(entry))
    return pids


main = browser_pids(main_only=True)
check(len(main) == 1, "expected one browser process while the page loads, found %r" % main)
check(len(browser_pids()) > 1, "the browser has no helper processes to check the group kill with")
GROUPS.add(os.getpgid(main[0]))
# only the browser process: its zygotes and renderers must go with the group
os.kill(main[0], signal.SIGKILL)
status, _, job = stack.json("GET", "/v1/jobs/%s?wait=60" % job["job_id"])
check(job["status"] == "completed", "after the browser was killed: %r" % job)
check(len(pages.browser_hits("/slow")) >= 2, "the capture was not tried again")
check("task attempt failed" in stack.log_text("scheduler"), "no retryable failure logged")
KILLED = next(iter(GROUPS))


def killed_group():
    """Processes left of the killed browser's group (its zygotes and renderers)."""
    left = []
    for pid in browser_pids():
        try:
            if os.getpgid(pid) == KILLED:
                left.append(pid)
        except OSError:
            pass
    return left


wait_for(lambda: not killed_group(), 10, "no process of the killed browser's group to outlive it")
log = stack.log_text("renderer0")
check(log.count("browser started") == 2 and "misbehaved" in log,
      "the renderer should start its warm browser again after the kill: %r"
      % [l for l in log.splitlines() if "browser started" in l])
print("it_capture_killed: 1 passed, 0 failed")
