/**
 * A TURN client run as a child process (inside a test network namespace): allocates on a TURN
 * server with werift's TURN client (`createTurnClient`, the one the agent's ICE uses), then asks for
 * a permission to each given peer (CreatePermission), and prints one JSON line with what the server
 * answered. Used by tests/relay: `node tests/helpers/turn-probe.ts '<ProbeRequest as JSON>'`.
 *
 * `raw: true` allocates with werift's STUN codec (Message, makeIntegrityKey) instead of its client:
 * werift's client drops an error response whose MESSAGE-INTEGRITY does not verify, and a server that
 * refuses a credential cannot sign its 401 with it, so the client only ever sees a timeout. The raw
 * exchange (unauthenticated Allocate, 401 with realm and nonce, authenticated Allocate) reads the
 * server's final answer as it is.
 */
import { createSocket } from "node:dgram";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import {
  classes,
  createTurnClient,
  Message,
  makeIntegrityKey,
  methods,
  parseMessage,
  type TurnProtocol,
} from "werift";
import { z } from "zod";

const address = z.tuple([z.string(), z.number().int().min(0).max(65_535)]).readonly();
const probeRequestSchema = z.object({
  server: address,
  transport: z.enum(["udp", "tcp", "tls"]),
  username: z.string(),
  password: z.string(),
  /** For tls: the CA to trust and the name to check. */
  caFile: z.string().optional(),
  servername: z.string().optional(),
  peers: z.array(address).readonly().optional(),
  /** Allocate with werift's codec only and report the server's final answer (udp or tcp). */
  raw: z.boolean().optional(),
});
export type ProbeRequest = z.input<typeof probeRequestSchema>;

/** What the server said: ok, or its STUN error code and reason; a timeout when it said nothing. */
export type ProbeAnswer =
  | { ok: true }
  | { ok: false; code: number; reason: string }
  | { ok: false; timeout: true };

export type ProbeResult = {
  readonly allocate: ProbeAnswer & { relayed?: readonly [string, number] };
  readonly permissions: readonly { readonly peer: readonly [string, number]; readonly answer: ProbeAnswer }[];
};

/**
 * werift rejects a refused request with its TransactionFailed (the server's error response in
 * `response`) and a silent server with TransactionTimeout; it does not export either class, so they
 * are told apart by shape and name here.
 */
function answerOf(error: unknown): ProbeAnswer {
  if (error instanceof Error && "response" in error && error.response instanceof Message) {
    const value: unknown = error.response.getAttributeValue("ERROR-CODE");
    if (Array.isArray(value) && typeof value[0] === "number") {
      return { ok: false, code: value[0], reason: String(value[1] ?? "") };
    }
  }
  if (error instanceof Error && error.constructor.name === "TransactionTimeout")
    return { ok: false, timeout: true };
  throw error;
}

const RAW_TIMEOUT_MS = 3_000;

type StunConnection = {
  /** Sends a request and resolves with the answer of the same transaction id, or undefined after a timeout. */
  request(message: Message): Promise<Message | undefined>;
  close(): void;
};

/** One UDP socket or TCP connection for a whole exchange: coturn ties a nonce to the 5-tuple. */
function stunConnection(transport: "udp" | "tcp", server: readonly [string, number]): StunConnection {
  const waiting = new Map<string, (message: Message) => void>();
  const onBytes = (bytes: Buffer) => {
    const message = parseMessage(bytes);
    if (message) waiting.get(message.transactionIdHex)?.(message);
  };
  let send: (bytes: Buffer) => void;
  let close: () => void;
  if (transport === "udp") {
    const socket = createSocket(server[0].includes(":") ? "udp6" : "udp4");
    socket.on("message", onBytes);
    send = (bytes) => socket.send(bytes, server[1], server[0]);
    close = () => socket.close();
  } else {
    const socket = connect({ host: server[0], port: server[1] });
    let buffered = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      // STUN over TCP: each message is its 20-byte header plus the length it announces.
      while (buffered.length >= 20 && buffered.length >= 20 + buffered.readUInt16BE(2)) {
        const size = 20 + buffered.readUInt16BE(2);
        onBytes(buffered.subarray(0, size));
        buffered = buffered.subarray(size);
      }
    });
    send = (bytes) => socket.write(bytes);
    close = () => socket.destroy();
  }
  return {
    request: (message) =>
      new Promise((resolve) => {
        const timer = setTimeout(() => {
          waiting.delete(message.transactionIdHex);
          resolve(undefined);
        }, RAW_TIMEOUT_MS);
        waiting.set(message.transactionIdHex, (answer) => {
          clearTimeout(timer);
          waiting.delete(message.transactionIdHex);
          resolve(answer);
        });
        send(message.bytes);
      }),
    close,
  };
}

function answerOfMessage(message: Message | undefined): ProbeAnswer {
  if (message === undefined) return { ok: false, timeout: true };
  if (message.messageClass === classes.RESPONSE) return { ok: true };
  const value: unknown = message.getAttributeValue("ERROR-CODE");
  if (Array.isArray(value) && typeof value[0] === "number")
    return { ok: false, code: value[0], reason: String(value[1] ?? "") };
  return { ok: false, code: 0, reason: "an error response without ERROR-CODE" };
}

async function rawAllocate(request: z.output<typeof probeRequestSchema>): Promise<ProbeResult> {
  if (request.transport === "tls") throw new Error("raw allocation speaks udp or tcp");
  const allocate = () =>
    new Message(methods.ALLOCATE, classes.REQUEST)
      .setAttribute("LIFETIME", 600)
      .setAttribute("REQUESTED-TRANSPORT", 0x11000000);
  const connection = stunConnection(request.transport, request.server);
  try {
    return await allocateOn(connection, request, allocate);
  } finally {
    connection.close();
  }
}

async function allocateOn(
  connection: StunConnection,
  request: { readonly username: string; readonly password: string },
  allocate: () => Message,
): Promise<ProbeResult> {
  const challenge = await connection.request(allocate());
  const realm: unknown = challenge?.getAttributeValue("REALM");
  const nonce: unknown = challenge?.getAttributeValue("NONCE");
  if (typeof realm !== "string" || !Buffer.isBuffer(nonce))
    return { allocate: answerOfMessage(challenge), permissions: [] };
  const authenticated = allocate()
    .setAttribute("USERNAME", request.username)
    .setAttribute("REALM", realm)
    .setAttribute("NONCE", nonce)
    .addMessageIntegrity(makeIntegrityKey(request.username, realm, request.password))
    .addFingerprint();
  return {
    allocate: answerOfMessage(await connection.request(authenticated)),
    permissions: [],
  };
}

async function probe(request: z.output<typeof probeRequestSchema>): Promise<ProbeResult> {
  let turn: TurnProtocol;
  try {
    turn = await createTurnClient(
      {
        address: [request.server[0], request.server[1]],
        username: request.username,
        password: request.password,
      },
      {
        transport: request.transport,
        connectTimeoutMs: 5_000,
        ...(request.transport === "tls"
          ? {
              tlsOptions: {
                ...(request.caFile ? { ca: readFileSync(request.caFile) } : {}),
                ...(request.servername ? { servername: request.servername } : {}),
              },
            }
          : {}),
      },
    );
  } catch (error) {
    return { allocate: answerOf(error), permissions: [] };
  }
  const permissions: { peer: readonly [string, number]; answer: ProbeAnswer }[] = [];
  try {
    for (const peer of request.peers ?? []) {
      const answer = await turn
        .getPermission([peer[0], peer[1]])
        .then((): ProbeAnswer => ({ ok: true }), answerOf);
      permissions.push({ peer, answer });
    }
  } finally {
    await turn.close();
  }
  const relayed: readonly [string, number] = [turn.relayedAddress[0], turn.relayedAddress[1]];
  return { allocate: { ok: true, relayed }, permissions };
}

const argument = process.argv[2];
if (argument === undefined) {
  console.error("usage: turn-probe.ts '<json request>'");
  process.exit(2);
}
const request = probeRequestSchema.parse(JSON.parse(argument));
const result = request.raw === true ? await rawAllocate(request) : await probe(request);
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
