/**
 * The PeerJS server (npm `peer`, a dev dependency) as bench:gateway's baseline, in a process of its
 * own (run through bench-child.ts). Defaults except: loopback, a free port, no client limit (its
 * default refuses the 5001st), and clients are not dropped for missing HEARTBEATs within an hour
 * (the bench's idle sockets send none; a real PeerJS client sends one every 5 s).
 * Prints `peerjs listening on <port>`.
 */
import { PeerServer } from "peer";

PeerServer(
  { host: "127.0.0.1", port: 0, path: "/", concurrent_limit: 10_000_000, alive_timeout: 3_600_000 },
  (server) => {
    const address = server.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;
    process.stdout.write(`peerjs listening on ${port}\n`);
  },
);
