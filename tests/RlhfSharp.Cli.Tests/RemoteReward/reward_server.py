#!/usr/bin/env python3
"""A remote reward server in OpenRLHF's protocol, written with the standard library only.

POST /get_reward takes {"query": [prompt+response, ...], "prompts": [prompt, ...], "labels": [...]}
and answers {"rewards": [...], "note": ...}. It checks the request's shape (400 with the reason when
it is wrong), rewards 1.0 when the label appears in the response and otherwise a value from the
response's length, and appends each request with the rewards it returned to --log as one JSON line.
With --token, requests must carry "Authorization: Bearer TOKEN". Prints "listening on URL" once
it answers.
"""
import argparse
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()


def reward(response, label):
    if isinstance(label, str) and label and label in response:
        return 1.0
    return (len(response) % 7) / 7.0 - 0.5


def check(body):
    if not isinstance(body, dict):
        return "the body must be an object"
    for key in ("query", "prompts", "labels"):
        if key not in body or not isinstance(body[key], list):
            return f"{key} must be a list"
    n = len(body["query"])
    if len(body["prompts"]) != n or len(body["labels"]) != n:
        return "query, prompts and labels must have the same length"
    for i, (q, p) in enumerate(zip(body["query"], body["prompts"])):
        if not isinstance(q, str) or not isinstance(p, str):
            return f"query[{i}] and prompts[{i}] must be strings"
        if not q.startswith(p):
            return f"query[{i}] does not start with prompts[{i}]"
    return None


class Handler(BaseHTTPRequestHandler):
    def answer(self, status, payload):
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/health":
            self.answer(200, {"status": "ok"})
        else:
            self.answer(404, {"error": "not found"})

    def do_POST(self):
        if self.path != "/get_reward":
            self.answer(404, {"error": "not found"})
            return
        if self.server.token and self.headers.get("Authorization") != "Bearer " + self.server.token:
            self.answer(401, {"error": "missing or wrong token"})
            return
        if self.headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
            self.answer(415, {"error": "send application/json"})
            return
        length = int(self.headers.get("Content-Length", "0"))
        try:
            body = json.loads(self.rfile.read(length).decode("utf-8"))
        except ValueError as e:
            self.answer(400, {"error": f"not JSON: {e}"})
            return
        problem = check(body)
        if problem:
            self.answer(400, {"error": problem})
            return
        rewards = [reward(q[len(p):], label) for q, p, label in zip(body["query"], body["prompts"], body["labels"])]
        with LOCK:
            with open(self.server.log, "a", encoding="utf-8") as f:
                f.write(json.dumps({"query": body["query"], "prompts": body["prompts"], "labels": body["labels"], "rewards": rewards}) + "\n")
        self.answer(200, {"rewards": rewards, "note": "extra fields are ignored"})

    def log_message(self, format, *args):
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--log", required=True)
    parser.add_argument("--token", default=None)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.log = args.log
    server.token = args.token
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
