#!/usr/bin/env python3
"""x402 over MCP with the official Python SDK (x402.mcp, x402 2.25.0) and the `mcp` package.

    py_mcp.py client --key-env PAYER_KEY --out RESULT.json --call get_quote [--call broken]
        The SDK's paying MCP client (x402.mcp.client.x402MCPSession around mcp.ClientSession),
        speaking MCP on this process's stdin/stdout: the Swift test is the MCP server on the other
        end of the pipes. Calls each tool once ({"symbol": "ETH"}), paying when asked. The result
        goes to --out (stdout carries the protocol):
          {"calls": [{"tool", "isError", "paymentMade", "paymentResponse", "text", "structuredContent"}]}

    py_mcp.py server --facilitator-url URL --pay-to 0x… [--network eip155:84532] [--price '$0.01']
        An MCP tool server on stdio (FastMCP) whose tools are wrapped by the SDK's
        x402.mcp.create_payment_wrapper: `get_quote` (paid, {"symbol", "price"}) and `broken` (paid,
        always returns isError: the SDK does not settle it). Stdout carries the protocol; logs go
        to stderr.

    py_mcp.py drive-wallet --x402 PATH --url URL --out RESULT.json [--x402-arg ARG]…
        Drives `x402 mcp` (stdio) with the `mcp` package's client as an agent host would: lists the
        tools, calls `fetch` (expects awaiting_approval and a fetch_id), runs the owner's
        `x402 approvals approve ID`, calls `confirm`, calls `confirm` again (expects no second
        payment), then `history` and `limits`. The key reaches `x402 mcp` through the environment
        inherited from this process (never an argument). Writes every answer to --out (and one line
        on stdout).

Test infrastructure only (swift-x402 interop); the SDK is called, never copied.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import DEFAULT_NETWORK, add_common_args, emit, fail, load_key, setup_logging  # noqa: E402

# The real stdout, taken before setup_logging points sys.stdout at stderr.
_PROTOCOL_OUT = sys.stdout.buffer
_PROTOCOL_IN = sys.stdin.buffer


def _write(path: str, obj) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(obj, fh, separators=(",", ":"))


def _text(result) -> str | None:
    for item in (result.content or []):
        text = getattr(item, "text", None)
        if text is None and isinstance(item, dict):
            text = item.get("text")
        if text is not None:
            return text
    return None


def _dump(obj):
    if obj is None:
        return None
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json", by_alias=True, exclude_none=True)
    return obj


def _stdio_streams():
    import anyio
    from mcp.server.stdio import stdio_server

    stdin = anyio.wrap_file(io.TextIOWrapper(_PROTOCOL_IN, encoding="utf-8", errors="replace"))
    stdout = anyio.wrap_file(io.TextIOWrapper(_PROTOCOL_OUT, encoding="utf-8"))
    return stdio_server(stdin=stdin, stdout=stdout)


# ---------------------------------------------------------------------------------------------
# client: the SDK's paying MCP client over this process's stdio


async def run_client(args, key: str) -> None:
    from eth_account import Account
    from mcp import ClientSession
    from x402 import x402Client
    from x402.mcp.client import x402MCPSession
    from x402.mechanisms.evm.exact import register_exact_evm_client
    from x402.mechanisms.evm.signers import EthAccountSigner

    payments = x402Client()
    register_exact_evm_client(payments, EthAccountSigner(Account.from_key(key)))
    calls = []
    async with _stdio_streams() as (read_stream, write_stream):
        async with ClientSession(read_stream, write_stream) as session:
            mcp = x402MCPSession(session, payments, auto_payment=True)
            await mcp.initialize()
            tools = await mcp.list_tools()
            for name in args.call:
                result = await mcp.call_tool(name, {"symbol": "ETH"})
                raw = result.raw_result
                calls.append({
                    "tool": name,
                    "isError": bool(result.is_error),
                    "paymentMade": bool(result.payment_made),
                    "paymentResponse": _dump(result.payment_response),
                    "text": _text(result),
                    "structuredContent": getattr(raw, "structuredContent", None) if raw is not None else None,
                })
            # Leaving the stdio streams waits for stdin to close, which the server on the other
            # end (the test) only does when it stops: write the result and exit now.
            _write(args.out, {"tools": [t.name for t in tools.tools], "calls": calls})
            sys.stderr.flush()
            os._exit(0)


# ---------------------------------------------------------------------------------------------
# server: paid FastMCP tools wrapped by the SDK


def run_server(args) -> None:
    import httpx
    from mcp.server.fastmcp import FastMCP
    from mcp.types import CallToolResult, TextContent
    from x402.http import FacilitatorConfig, HTTPFacilitatorClient
    from x402.mcp import create_payment_wrapper
    from x402.mechanisms.evm.exact import register_exact_evm_server
    from x402.schemas.config import ResourceConfig
    from x402.server import x402ResourceServer

    url = args.facilitator_url.rstrip("/")
    try:
        httpx.get(f"{url}/supported", timeout=10).raise_for_status()
    except Exception as e:  # noqa: BLE001
        print(f"facilitator {url} did not answer GET /supported: {e}", file=sys.stderr)
        sys.exit(2)
    resource_server = x402ResourceServer(HTTPFacilitatorClient(FacilitatorConfig(url=url)))
    register_exact_evm_server(resource_server, args.network)
    resource_server.initialize()
    accepts = resource_server.build_payment_requirements(
        ResourceConfig(scheme="exact", network=args.network, pay_to=args.pay_to, price=args.price))

    mcp = FastMCP("py-x402-tools", log_level="WARNING")
    paid = create_payment_wrapper(resource_server, accepts=accepts)

    @mcp.tool(name="get_quote", description="A price quote (paid)")
    @paid
    async def get_quote(symbol: str) -> dict:
        return {"symbol": symbol, "price": "3120.55"}

    @mcp.tool(name="broken", description="Always fails (paid, never settled)")
    @paid
    async def broken(symbol: str) -> CallToolResult:
        return CallToolResult(content=[TextContent(type="text", text="upstream down")], isError=True)

    async def serve() -> None:
        async with _stdio_streams() as (read_stream, write_stream):
            await mcp._mcp_server.run(read_stream, write_stream, mcp._mcp_server.create_initialization_options())

    asyncio.run(serve())


# ---------------------------------------------------------------------------------------------
# drive-wallet: an agent host driving `x402 mcp`


async def run_drive_wallet(args) -> dict:
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    env = dict(os.environ)
    params = StdioServerParameters(command=args.x402, args=["mcp", *args.x402_arg], env=env)
    steps: dict = {}

    def answer(result) -> dict:
        text = _text(result)
        try:
            body = json.loads(text) if text else None
        except json.JSONDecodeError:
            body = {"text": text}
        return {"isError": bool(result.isError), "json": body,
                "structured": result.structuredContent}

    async with stdio_client(params, errlog=sys.stderr) as (read_stream, write_stream):
        async with ClientSession(read_stream, write_stream) as session:
            await session.initialize()
            tools = await session.list_tools()
            steps["tools"] = sorted(t.name for t in tools.tools)
            steps["fetch"] = answer(await session.call_tool("fetch", {"url": args.url}))
            fetch_id = (steps["fetch"]["json"] or {}).get("fetch_id")
            # The agent cannot confirm before the owner approved.
            if fetch_id:
                steps["confirmEarly"] = answer(await session.call_tool("confirm", {"fetch_id": fetch_id}))
                # The owner approves on the command line (the same wallet home, through the environment).
                approve = subprocess.run([args.x402, "approvals", "approve", fetch_id, *args.x402_arg, "--json"],
                                         capture_output=True, text=True, env=env, timeout=120)
                steps["approve"] = {"exit": approve.returncode, "stdout": approve.stdout.strip()}
                steps["confirm"] = answer(await session.call_tool("confirm", {"fetch_id": fetch_id}))
                steps["confirmAgain"] = answer(await session.call_tool("confirm", {"fetch_id": fetch_id}))
            steps["history"] = answer(await session.call_tool("history", {"limit": 10}))
            steps["limits"] = answer(await session.call_tool("limits", {}))
            steps["bodyFile"] = answer(await session.call_tool("fetch", {"url": args.url, "body": "@/etc/passwd"}))
    return steps


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="mode", required=True)

    c = sub.add_parser("client")
    add_common_args(c)
    c.add_argument("--out", required=True)
    c.add_argument("--call", action="append", required=True)

    s = sub.add_parser("server")
    s.add_argument("--facilitator-url", required=True)
    s.add_argument("--pay-to", required=True)
    s.add_argument("--price", default="$0.01")
    s.add_argument("--network", default=DEFAULT_NETWORK)
    s.add_argument("--log-level", default="WARNING")

    d = sub.add_parser("drive-wallet")
    d.add_argument("--x402", required=True, help="the x402 executable")
    d.add_argument("--x402-arg", action="append", default=[], help="an option for every x402 command")
    d.add_argument("--url", required=True)
    d.add_argument("--out", required=True)
    d.add_argument("--log-level", default="WARNING")

    args = p.parse_args()
    setup_logging(args.log_level)
    if args.mode == "client":
        key = load_key(args)
        try:
            asyncio.run(run_client(args, key))
        except Exception as e:  # noqa: BLE001
            _write(args.out, {"error": f"{type(e).__name__}: {e}"})
            return 2
        return 0
    if args.mode == "server":
        run_server(args)
        return 0
    try:
        steps = asyncio.run(run_drive_wallet(args))
    except Exception as e:  # noqa: BLE001
        fail(f"{type(e).__name__}: {e}")
    _write(args.out, steps)
    emit({"ok": True})
    return 0


if __name__ == "__main__":
    sys.exit(main())
