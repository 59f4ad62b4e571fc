/** Numbers every part of the product agrees on. */

/** Protocol version carried as `v` in every socket hello. */
export const PROTOCOL_VERSION = 1;

/** Largest WebSocket frame the gateway accepts; a larger one closes that socket with 1009. */
export const MAX_SOCKET_FRAME_BYTES = 64 * 1024;

/**
 * Most messages of one socket the gateway holds waiting for their turn (each is handled after the
 * ones before it, some wait on the store): a socket that sends more at once is closed with 4429.
 */
export const MAX_QUEUED_SOCKET_MESSAGES = 256;

/** Largest JSON nesting depth accepted in a socket message. */
export const MAX_JSON_DEPTH = 16;

/** One assignee plus at most two invited technicians. */
export const MAX_TECHNICIANS_PER_SESSION = 3;
export const MAX_INVITED_TECHNICIANS = MAX_TECHNICIANS_PER_SESSION - 1;

/** Session PIN: nine decimal digits, unique among live sessions. */
export const PIN_LENGTH = 9;

/** Link tokens carry 128 bits or more of randomness (base64url of 18 bytes = 144 bits). */
export const LINK_TOKEN_BYTES = 18;

/** Default expiry of a team channel's sessions, in minutes. */
export const DEFAULT_SESSION_EXPIRY_MINUTES = 24 * 60;

/** How long a connected agent may be gone before its Active session falls back to Waiting. */
export const AGENT_RESUME_GRACE_MS = 60_000;

/** How long the agent waits for the end user's consent answer before it counts as a deny. */
export const DEFAULT_CONSENT_TIMEOUT_MS = 60_000;

/** Longest name (session, technician, channel, organization), after trimming. */
export const MAX_NAME_LENGTH = 100;

/** Longest session note (multi-line). */
export const MAX_NOTE_LENGTH = 1000;

/** Longest host name, user name or OS string an agent reports. */
export const MAX_DEVICE_FIELD_LENGTH = 256;

/** Longest agent version an agent reports. */
export const MAX_AGENT_VERSION_LENGTH = 64;
/** At most this many feature names in an agent's hello, each at most this long (shared/agent-protocol.ts). */
export const MAX_AGENT_FEATURES = 32;
export const MAX_AGENT_FEATURE_LENGTH = 32;

/** A branded build's organization name and support message. */
export const MAX_BRAND_LENGTH = 40;
export const MAX_SUPPORT_MESSAGE_LENGTH = 300;

/**
 * What the agent prints of one field that came from outside (a name, a gateway address), in
 * characters, with "…" ending a cut one; the support message keeps its own limit above.
 */
export const MAX_PRINTED_FIELD_LENGTH = MAX_NAME_LENGTH;

/** What the agent prints of its last line (which may carry a gateway's error message). */
export const MAX_PRINTED_OUTCOME_LENGTH = 300;

/**
 * Longest clipboard text on the control channel, either way: the agent sends no longer text, the
 * console's clipboard field takes no more.
 */
export const MAX_CLIPBOARD_CHARS = 60_000;

/**
 * Longest chat line, in characters after trimming, either way (a technician's in the console, the
 * end user's in the agent's terminal); a longer one is refused with BAD_REQUEST and not stored.
 */
export const MAX_CHAT_LINE_CHARS = 1000;

/**
 * Most chat lines one session keeps (both sides and the joined/left lines together); a line past
 * it is refused with CHAT_FULL and not stored.
 */
export const MAX_CHAT_LINES_PER_SESSION = 1000;

/**
 * How fast one sender (a technician on a session, or the session's end user) may chat: a burst of
 * CHAT_BURST_LINES at once (a pasted paragraph), then CHAT_LINES_PER_SECOND. A line past it is
 * refused with CHAT_TOO_FAST (its `retryAfter` says when the next one is taken) and not stored.
 */
export const CHAT_BURST_LINES = 20;
export const CHAT_LINES_PER_SECOND = 2;

/**
 * A technician's request for the end user's computer's facts (`system.request`) is taken at most
 * once per session in this time; one sooner is RATE_LIMITED with `retryAfter`.
 */
export const SYSTEM_INFO_REQUEST_INTERVAL_MS = 5_000;

/** Largest recording chunk the console uploads in one request (`POST /api/recordings/:id/chunks`). */
export const MAX_RECORDING_CHUNK_BYTES = 8 * 1024 * 1024;

/**
 * Free space a recording chunk never eats into on the recordings' disk: by default the data
 * directory's, where the SQLite database lives too, so recordings filling the disk would stop every
 * write of the gateway. A chunk past it is refused with RECORDING_STORAGE_FAILED.
 */
export const RECORDING_DISK_RESERVE_BYTES = 256 * 1024 * 1024;

/** How often the console hands the gateway what it recorded so far: a closed tab loses at most this. */
export const RECORDING_CHUNK_INTERVAL_MS = 2_000;

/** Days a recording is kept by default (a channel setting), and the most a channel may set. */
export const DEFAULT_RECORDING_RETENTION_DAYS = 30;
export const MAX_RECORDING_RETENTION_DAYS = 3650;

/** How long the console waits for the end user's agent to confirm the recording notice. */
export const RECORDING_CONFIRM_TIMEOUT_MS = 10_000;

/**
 * A channel's re-confirmation interval: after this many minutes the agent asks the end user again
 * whether the session may continue (0: never). The default, and the most a channel may set.
 */
export const DEFAULT_RECONFIRM_MINUTES = 30;
export const MAX_RECONFIRM_MINUTES = 24 * 60;

/** How long the end user has to answer "may the session continue?" before the session ends. */
export const CONTINUE_ANSWER_MS = 5 * 60_000;

/**
 * A question still open when the agent comes back (its connection or the gateway restarted) gets
 * at least this long again: the end user could not answer while the agent was away.
 */
export const CONTINUE_ANSWER_AFTER_RECONNECT_MS = 60_000;

/**
 * File transfer (the `files` data channel, shared/file-transfer.ts): the largest file either side
 * sends or takes on any gateway. Each channel sets its own limit below it (`fileSizeLimitMb`).
 */
export const MAX_FILE_BYTES = 4 * 1024 ** 3;

/** A channel's file size limit is set in MiB: at least 1, at most (and by default) MAX_FILE_BYTES. */
export const MIB = 1024 ** 2;
export const MAX_FILE_SIZE_LIMIT_MB = MAX_FILE_BYTES / MIB;
export const DEFAULT_FILE_SIZE_LIMIT_MB = MAX_FILE_SIZE_LIMIT_MB;

/** Bytes of one binary message on the `files` channel (header and data): werift's largest message. */
export const FILE_MESSAGE_BYTES = 64 * 1024;

/**
 * Flow control of the sender: it stops queueing at FILE_BUFFER_HIGH_BYTES on the channel and goes
 * on when the channel's bufferedAmount falls below FILE_BUFFER_LOW_BYTES (bufferedAmountLowThreshold).
 * 4 MB keeps the native files connection (node-datachannel) busy: agent to agent on loopback, two
 * processes, 59 MB/s at 4 MB against 39 MB/s at 1 MB; Chromium closes a channel only at 16 MB.
 */
export const FILE_BUFFER_HIGH_BYTES = 4 * 1024 * 1024;
export const FILE_BUFFER_LOW_BYTES = 1024 * 1024;

/** The receiver tells its progress at most this often (and once at the end). */
export const FILE_PROGRESS_INTERVAL_MS = 250;

/**
 * A receiver that writes to disk (the agent) asks the sender to keep at most this many bytes ahead
 * of what it wrote (`file.accept {window}`; its `file.progress` then counts written bytes, told at
 * least every quarter of it): a slow disk slows the sender instead of filling the receiver's memory.
 */
export const FILE_WRITE_WINDOW_BYTES = 16 * 1024 * 1024;

/**
 * A transfer interrupted by its `files` channel going away (the files connection failed, the
 * view's peer was replaced) waits this long for a channel to the same technician to open again:
 * the sender keeps it, the receiver keeps what it got, and it goes on from there. Then it fails
 * (`INTERRUPTED`) and the receiver removes what it had.
 */
export const FILE_RESUME_WINDOW_MS = 2 * 60_000;

/** Longest file name the receiver keeps, in characters (a longer one is cut, its extension kept). */
export const MAX_FILE_NAME_CHARS = 120;

/**
 * How fast an agent may report finished files of one technician on its session (`file.transferred`,
 * each audited as `session.file`): a burst of FILE_REPORT_BURST at once (many small files dropped
 * together), then FILE_REPORTS_PER_SECOND. A report past it is refused with RATE_LIMITED (its
 * `retryAfter` says when the next one is taken) and nothing is audited, so an agent (or a script
 * speaking its protocol) cannot fill the audit log.
 */
export const FILE_REPORT_BURST = 50;
export const FILE_REPORTS_PER_SECOND = 5;

/** Transfers one technician's peer may have under way at once, each way. */
export const MAX_TRANSFERS_PER_PEER = 8;

/** A folder the console packs as a .zip before sending (read whole into memory): at most this many bytes of files. */
export const MAX_FOLDER_ZIP_BYTES = 512 * 1024 * 1024;
