#!/usr/bin/python3
"""A minimal SOS technician console in Python: docs/console-client.md walks through it.

Signs in (cookie + CSRF token), creates a session (or takes --session), prints its PIN, waits for
the end user's SOS app, asks for permission, opens the remote view over /ws/console, answers the
agent's WebRTC offer with aiortc, decodes video frames, moves the end user's pointer over the
`control` data channel and waits until the agent reports the pointer there.

Output (one line each, flushed): `PIN <nine digits>`, `LINK <url>`, `WAITING <what>`, and at the
end `RESULT <json>` with the frames received, their size, where the pointer was sent and where the
agent reported it. Exit codes: 0 done, 1 refused or failed (the line says why), 2 bad arguments.

Debian: apt-get install python3-aiortc python3-aiohttp (aiortc 1.4, aiohttp 3.8).
"""

import argparse
import asyncio
import json
import logging
import ssl
import sys
from urllib.parse import urlsplit

import aiohttp
from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.sdp import candidate_from_sdp


def say(*words):
    print(*words, flush=True)


def note(*words):
    """Progress details on stderr (connection states, signals)."""
    print(*words, file=sys.stderr, flush=True)


class Refused(Exception):
    """The gateway refused: its stable error code and message."""


class Gateway:
    """REST with the sign-in cookie (kept by aiohttp's cookie jar) and the CSRF token."""

    def __init__(self, base, http):
        self.base = base.rstrip("/")
        self.http = http
        self.csrf = None

    async def call(self, method, path, body=None):
        headers = {} if method == "GET" or self.csrf is None else {"x-csrf-token": self.csrf}
        async with self.http.request(method, self.base + path, json=body, headers=headers) as response:
            data = await response.json(content_type=None)
            if response.status != 200:
                error = data["error"]
                raise Refused(f"{method} {path}: {response.status} {error['code']}: {error['message']}")
            return data

    async def sign_in(self, email, password):
        me = await self.call("POST", "/api/auth/sign-in", {"email": email, "password": password})
        self.csrf = me["csrfToken"]
        return me


class ConsoleSocket:
    """/ws/console: one reader; session updates kept by id, signals queued, the rest awaited."""

    def __init__(self, ws):
        self.ws = ws
        self.sessions = {}
        self.signals = asyncio.Queue()
        self.opened = {}
        self.changed = asyncio.Event()
        self.errors = []
        self.closed = False

    async def read(self):
        async for message in self.ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            data = json.loads(message.data)
            kind = data["type"]
            if kind == "sessions":
                self.sessions = {s["id"]: s for s in data["sessions"]}
            elif kind == "session.updated":
                self.sessions[data["session"]["id"]] = data["session"]
            elif kind == "remote.opened":
                self.opened[data["sessionId"]] = data
            elif kind == "remote.signal":
                # remote.connect without "filesConnection": no "peer": "files" signal comes.
                await self.signals.put(data["data"])
            elif kind == "error":
                self.errors.append(data)
            self.changed.set()
        self.closed = True
        self.changed.set()

    async def send(self, message):
        await self.ws.send_str(json.dumps(message))

    async def until(self, check, what, timeout):
        """Waits until check() returns something other than None; an `error` message is a refusal."""
        say("WAITING", what)

        async def wait():
            while True:
                if self.errors:
                    message = self.errors.pop(0)
                    error = message["error"]
                    raise Refused(f"{message.get('inReplyTo')}: {error['code']}: {error['message']}")
                if self.closed:
                    raise Refused("the console socket closed")
                found = check()
                if found is not None:
                    return found
                self.changed.clear()
                await self.changed.wait()

        return await asyncio.wait_for(wait(), timeout)


def ice_servers(servers):
    """remote.opened's iceServers ({urls, username?, credential?}) in aiortc's form."""
    return [
        RTCIceServer(urls=s["urls"], username=s.get("username"), credential=s.get("credential"))
        for s in servers
    ]


async def answer_signals(console, pc, session_id):
    """The agent's offer and trickled candidates, in order; our answer carries all our candidates."""
    while True:
        data = await console.signals.get()
        note("signal from the agent:", data["kind"], data.get("type") or data.get("candidate"))
        if data["kind"] == "description" and data["type"] == "offer":
            await pc.setRemoteDescription(RTCSessionDescription(sdp=data["sdp"], type="offer"))
            # aiortc gathers every local candidate inside setLocalDescription: no trickling back.
            await pc.setLocalDescription(await pc.createAnswer())
            answer = {"kind": "description", "type": "answer", "sdp": pc.localDescription.sdp}
            await console.send({"type": "signal", "sessionId": session_id, "data": answer})
        elif data["kind"] == "candidate" and data["candidate"]:
            line = data["candidate"]
            candidate = candidate_from_sdp(line.split(":", 1)[1] if line.startswith("candidate:") else line)
            candidate.sdpMid = data["sdpMid"]
            candidate.sdpMLineIndex = data["sdpMLineIndex"]
            await pc.addIceCandidate(candidate)


async def run(args):
    gateway_url = urlsplit(args.gateway)
    origin = f"{gateway_url.scheme}://{gateway_url.netloc}"
    ws_url = ("wss" if gateway_url.scheme == "https" else "ws") + f"://{gateway_url.netloc}/ws/console"
    tls = ssl.create_default_context(cafile=args.ca) if args.ca else None
    # unsafe=True: keep cookies of a gateway addressed by IP (aiohttp drops them otherwise).
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar, connector=aiohttp.TCPConnector(ssl=tls)) as http:
        gateway = Gateway(origin, http)
        me = await gateway.sign_in(args.email, args.password)
        technician_id = me["technician"]["id"]

        if args.session:
            session_id = args.session
            invitation = await gateway.call("GET", f"/api/sessions/{session_id}/invitation?for=pin")
        else:
            created = await gateway.call("POST", "/api/sessions", {"channelId": "home", "name": args.name})
            session_id = created["session"]["id"]
            invitation = created["invitation"]
        say("PIN", invitation["pin"])
        say("LINK", invitation["link"])

        # The upgrade carries the cookie (from the jar) and the gateway's own Origin.
        ws = await http.ws_connect(ws_url, origin=origin)
        console = ConsoleSocket(ws)
        reader = asyncio.create_task(console.read())

        def session():
            return console.sessions.get(session_id)

        def my_permission():
            s = session()
            mine = [p for p in s["permissions"] if p["technicianId"] == technician_id] if s else []
            return mine[0] if mine else {"state": "none"}

        await console.until(
            lambda: True if session() and session()["agent"]["connected"] else None,
            "for the end user's SOS app to join with the PIN",
            args.timeout,
        )
        if my_permission()["state"] != "granted":
            await gateway.call("POST", f"/api/sessions/{session_id}/permission")
        granted = await console.until(
            lambda: my_permission() if my_permission()["state"] in ("granted", "denied") else None,
            "for the end user to allow the remote session",
            args.timeout,
        )
        if granted["state"] != "granted":
            raise Refused("the end user denied the remote session")

        await console.send({"type": "remote.connect", "sessionId": session_id})
        opened = await console.until(
            lambda: console.opened.get(session_id),
            "for remote.opened",
            args.timeout,
        )
        pc = RTCPeerConnection(RTCConfiguration(iceServers=ice_servers(opened["iceServers"])))
        frames = []
        first_frame = asyncio.get_running_loop().create_future()
        enough_frames = asyncio.Event()
        channel_open = asyncio.get_running_loop().create_future()
        agent_state = {}
        cursor = asyncio.Queue()

        @pc.on("track")
        def on_track(track):
            async def receive():
                while True:
                    frame = await track.recv()
                    frames.append((frame.width, frame.height))
                    if len(frames) == 1:
                        note("first frame:", frame.width, "x", frame.height)
                    if not first_frame.done():
                        first_frame.set_result(frame)
                    if len(frames) >= args.frames:
                        enough_frames.set()

            note("track:", track.kind)
            if track.kind == "video":
                asyncio.ensure_future(receive())

        @pc.on("datachannel")
        def on_datachannel(channel):
            note("data channel:", channel.label)
            if channel.label != "control":
                return

            @channel.on("message")
            def on_message(text):
                message = json.loads(text)
                if message["type"] == "state":
                    agent_state.update(message)
                    if not channel_open.done():
                        channel_open.set_result(channel)
                elif message["type"] == "cursor":
                    cursor.put_nowait(message)

        @pc.on("connectionstatechange")
        def on_state():
            note("peer connection:", pc.connectionState, "ice:", pc.iceConnectionState)

        signals = asyncio.create_task(answer_signals(console, pc, session_id))
        say("WAITING", "for a decoded video frame and the control channel")
        frame = await asyncio.wait_for(first_frame, args.timeout)
        control = await asyncio.wait_for(channel_open, args.timeout)
        # A few more frames, so the count says the stream flows.
        await asyncio.wait_for(enough_frames.wait(), args.timeout)

        # Normalized coordinates: pixel column round(x * (width - 1)) of the shown monitor.
        monitor = agent_state["monitors"][agent_state["monitor"]]
        width, height = monitor["width"], monitor["height"]
        target = {"x": round(args.pointer[0] * (width - 1)), "y": round(args.pointer[1] * (height - 1))}
        control.send(json.dumps({"type": "pointer", "x": args.pointer[0], "y": args.pointer[1]}))
        say("WAITING", "for the agent to report the pointer at", target["x"], target["y"])

        async def landed():
            while True:
                report = await cursor.get()
                at = {"x": round(report["x"] * (width - 1)), "y": round(report["y"] * (height - 1))}
                if abs(at["x"] - target["x"]) <= 1 and abs(at["y"] - target["y"]) <= 1:
                    return at

        reported = await asyncio.wait_for(landed(), args.timeout)
        say(
            "RESULT",
            json.dumps(
                {
                    "frames": len(frames),
                    "frame": {"width": frame.width, "height": frame.height},
                    "monitor": {"width": width, "height": height},
                    "access": opened["access"],
                    "pointer": target,
                    "cursorReported": reported,
                }
            ),
        )

        await console.send({"type": "remote.disconnect", "sessionId": session_id})
        signals.cancel()
        await pc.close()
        await ws.close()
        reader.cancel()


def unit_pair(text):
    x, y = (float(part) for part in text.split(","))
    if not (0 <= x <= 1 and 0 <= y <= 1):
        raise argparse.ArgumentTypeError("both between 0 and 1")
    return x, y


def main():
    parser = argparse.ArgumentParser(description="Minimal SOS technician console (docs/console-client.md)")
    parser.add_argument("--gateway", required=True, help="the gateway's public URL, http(s)://host:port")
    parser.add_argument("--email", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--session", help="an existing session's id (default: create one in Home)")
    parser.add_argument("--name", default="Python console", help="name of the session it creates")
    parser.add_argument("--pointer", type=unit_pair, default=(0.25, 0.75), help="x,y in 0..1 (default 0.25,0.75)")
    parser.add_argument("--frames", type=int, default=5, help="frames to receive before moving the pointer")
    parser.add_argument("--timeout", type=float, default=60, help="seconds to wait for each step")
    parser.add_argument("--ca", help="a CA certificate (PEM) for a gateway with a private certificate")
    parser.add_argument("--verbose", action="store_true", help="aiortc's debug log on stderr")
    args = parser.parse_args()
    if args.verbose:
        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
    try:
        asyncio.run(run(args))
    except Refused as refusal:
        say("REFUSED", refusal)
        sys.exit(1)
    except asyncio.TimeoutError:
        say("FAILED timed out")
        sys.exit(1)
    except (aiohttp.ClientError, OSError) as error:
        say("FAILED", error)
        sys.exit(1)


if __name__ == "__main__":
    main()
