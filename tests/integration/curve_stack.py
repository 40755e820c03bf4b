"""A Stack whose bus runs over CurveZMQ: `easel certs create` makes a keypair
for the scheduler and one per client service; clients' public certificates
go into the scheduler's allowed directory (unless the caller says not)."""
import os
import shutil
import subprocess
import tempfile

from harness import BIN, Stack, check


def make_cert(directory, name):
    out = subprocess.run([os.path.join(BIN, "easel"), "certs", "create", name, "--dir", directory],
                         capture_output=True, timeout=30)
    check(out.returncode == 0, "easel certs create %s failed: %s" % (name, out.stderr.decode()))
    return os.path.join(directory, name), os.path.join(directory, name + "_secret")


class CurveStack(Stack):
    def __init__(self, **kw):
        self.certs = tempfile.mkdtemp(prefix="easel-certs-")
        self.allowed = os.path.join(self.certs, "allowed")
        os.mkdir(self.allowed, 0o700)
        self.server_public, self.server_secret = make_cert(self.certs, "scheduler")
        super().__init__(**kw)

    def client_env(self, name, admitted=True):
        """Certificate variables for a client service `name` (made on first use)."""
        public = os.path.join(self.certs, name)
        if not os.path.exists(public):
            make_cert(self.certs, name)
        if admitted:
            shutil.copy(public, os.path.join(self.allowed, name))
        return {"EASEL_CURVE_CERT": public + "_secret", "EASEL_CURVE_SERVER_KEY": self.server_public}

    def start(self, name, *args, env=None, service=None):
        if (service or name) == "scheduler":
            extra = {"EASEL_CURVE_CERT": self.server_secret, "EASEL_CURVE_ALLOWED_DIR": self.allowed}
        else:
            extra = self.client_env(name) if not (env or {}).get("EASEL_CURVE_CERT") else {}
        return super().start(name, *args, env=dict(extra, **(env or {})), service=service)

    def close(self):
        super().close()
        shutil.rmtree(self.certs, ignore_errors=True)
