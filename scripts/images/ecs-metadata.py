#!/usr/bin/env python3
"""A stand-in for ECS's task metadata endpoint (version 4) for the image tests: `GET
/v4/<task>/task` answers with the task's containers as ECS describes them (`Name`, `Image`,
`KnownStatus`, `ExitCode` once stopped), read from the Docker engine that runs them. run-lambda's
`serve` asks it (through ECS_CONTAINER_METADATA_URI_V4) whether the function's container stopped.

  ecs-metadata.py PORT NAME=DOCKER_CONTAINER...   (DOCKER_CLI: the docker CLI, default docker)
"""
import http.server
import json
import os
import subprocess
import sys

port, containers = int(sys.argv[1]), dict(a.split("=", 1) for a in sys.argv[2:])
docker = os.environ.get("DOCKER_CLI", "docker")


def describe(name, docker_name):
    out = subprocess.run([docker, "inspect", "--format", "{{json .State}}|{{.Config.Image}}", docker_name],
                         capture_output=True, text=True)
    if out.returncode != 0:
        return {"Name": name, "KnownStatus": "PENDING"}
    state, image = out.stdout.strip().split("|", 1)
    state = json.loads(state)
    status = {"created": "CREATED", "running": "RUNNING"}.get(state["Status"], "STOPPED")
    described = {"Name": name, "DockerName": docker_name, "Image": image, "KnownStatus": status}
    if status == "STOPPED":
        described["ExitCode"] = state["ExitCode"]
    return described


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if not self.path.endswith("/task"):
            self.send_error(404)
            return
        body = json.dumps({"Containers": [describe(n, d) for n, d in containers.items()]}).encode()
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # run-lambda stopped asking (its invocation ended while it waited for this)

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
