"""Drives a standalone paperlink-mock for bench/callgrind/run: N keep-alive requests on one
connection, after 50 products (GET) or none (POST). Loopback only; stdlib only."""
import http.client
import json
import re
import sys
import time
import uuid

banner, kind, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
deadline = time.monotonic() + 120
while True:
    try:
        text = open(banner, encoding="utf-8").read()
    except FileNotFoundError:
        text = ""
    port = re.search(r"http://127\.0\.0\.1:(\d+)/api", text)
    key = re.search(r"test\s+ReadWrite\s+(\S+)", text)
    if port and key:
        break
    if time.monotonic() > deadline:
        sys.exit("the mock did not print its address and keys")
    time.sleep(0.1)

connection = http.client.HTTPConnection("127.0.0.1", int(port.group(1)), timeout=60)
headers = {"Authorization": "Bearer " + key.group(1), "Content-Type": "application/json"}


def call(method, path, body=None, extra=None):
    connection.request(method, path, body, {**headers, **(extra or {})})
    answer = connection.getresponse()
    answer.read()
    return answer.status


def create(i):
    body = json.dumps({"name": f"Product {i}", "unitPrice": 9.99, "currency": "EUR",
                       "sku": f"SKU-{uuid.uuid4().hex[:12]}"})
    status = call("POST", "/api/v1/products", body, {"Idempotency-Key": str(uuid.uuid4())})
    if status != 201:
        sys.exit(f"POST answered {status}")


if kind == "get":
    for i in range(50):
        create(i)
    for _ in range(count):
        if call("GET", "/api/v1/products?limit=20") != 200:
            sys.exit("GET did not answer 200")
else:
    for i in range(count):
        create(i)
