"""The `greet` example in Python, as a component of the wasmplug:plugin world
(wit/plugin/plugin.wit), built with componentize-py by `wasmplug build`.

`greet` behaves like examples/plugins/greet: "<greeting>, <name>!", the greeting from the
plugin's config through `host.config-get`, an empty name is error value 1. `sandbox` reports
what the interpreter can see of its host (environment, files, sockets), for the tests that
show a component gets nothing it was not granted.
"""
import json
import os

import wit_world
from componentize_py_types import Err
from wit_world.imports import host
from wit_world.imports.types import PluginError


def _greet(data: bytes) -> bytes:
    try:
        name = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise Err(PluginError(message="input is not valid UTF-8", code=None))
    if not name:
        raise Err(PluginError(message="name must not be empty", code=1))
    greeting = host.config_get("greeting") or "Hello"
    return f"{greeting}, {name}!".encode()


def _sandbox() -> bytes:
    seen = {"env": dict(os.environ)}
    try:
        seen["root"] = sorted(os.listdir("/"))
    except OSError as e:
        seen["root"] = f"error: {e.__class__.__name__}"
    try:
        import socket

        socket.create_connection(("127.0.0.1", 9), timeout=1)
        seen["socket"] = "connected"
    except Exception as e:  # noqa: BLE001 - any refusal is the answer
        seen["socket"] = f"error: {e.__class__.__name__}"
    return json.dumps(seen).encode()


class WitWorld(wit_world.WitWorld):
    def init(self, config):
        return None

    def call(self, function, input):
        if function == "greet":
            return _greet(bytes(input))
        if function == "sandbox":
            return _sandbox()
        raise Err(PluginError(message=f"no function `{function}`", code=None))
