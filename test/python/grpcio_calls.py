"""Runs gRPC calls with Debian's python3-grpcio (gRPC C-core) on ONE channel, all at once.

Usage: /usr/bin/python3 grpcio_calls.py CALLS.json
CALLS.json: {"address": "127.0.0.1:PORT", "max_metadata_size": 8192,
             "calls": [{"id": "...", "method": "/pkg.Svc/Method", "stream": false,
                        "body_hex": "...", "timeout_s": 30}, ...]}
Bodies are serialized protobuf bytes built by the caller; generic calls with no serializer pass
them through, so no generated Python code is needed. Prints one JSON object: {"grpcio": version,
"results": [{"id", "code", "details_len", "details", "messages", "trailer_bytes"}]}.
"""
import json
import sys
from concurrent.futures import ThreadPoolExecutor

import grpc


def trailer_bytes(code, details, metadata):
    """Trailer size as C-core counts it: name + value + 32 per entry."""
    total = 0
    total += len("grpc-status") + len(str(code.value[0])) + 32
    if details:
        total += len("grpc-message") + len(details.encode("utf-8")) + 32
    for key, value in metadata or ():
        total += len(key) + len(value if isinstance(value, bytes) else value.encode("utf-8")) + 32
    return total


def run_unary(channel, call):
    method = channel.unary_unary(call["method"], request_serializer=None, response_deserializer=None)
    body = bytes.fromhex(call["body_hex"])
    try:
        _, rpc = method.with_call(body, timeout=call["timeout_s"])
        return result(call, rpc.code(), rpc.details(), rpc.trailing_metadata(), 1)
    except grpc.RpcError as err:
        return result(call, err.code(), err.details(), err.trailing_metadata(), 0)


def run_stream(channel, call):
    method = channel.unary_stream(call["method"], request_serializer=None, response_deserializer=None)
    body = bytes.fromhex(call["body_hex"])
    stream = method(body, timeout=call["timeout_s"])
    messages = 0
    try:
        for _ in stream:
            messages += 1
    except grpc.RpcError:
        pass
    return result(call, stream.code(), stream.details(), stream.trailing_metadata(), messages)


def result(call, code, details, metadata, messages):
    details = details or ""
    return {
        "id": call["id"],
        "code": code.name,
        "details_len": len(details),
        "details": details[:300],
        "messages": messages,
        "trailer_bytes": trailer_bytes(code, details, metadata),
    }


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        spec = json.load(f)
    options = [("grpc.max_metadata_size", spec["max_metadata_size"])]
    with grpc.insecure_channel(spec["address"], options=options) as channel:
        grpc.channel_ready_future(channel).result(timeout=30)
        calls = spec["calls"]
        with ThreadPoolExecutor(max_workers=len(calls)) as pool:
            futures = [pool.submit(run_stream if c["stream"] else run_unary, channel, c) for c in calls]
            results = [f.result() for f in futures]
    json.dump({"grpcio": grpc.__version__, "results": results}, sys.stdout)


if __name__ == "__main__":
    main()
