/** The embedded store's schema, as ordered migrations. Each runs once, recorded in PRAGMA user_version. */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);

  CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'technician')),
    password_hash TEXT NOT NULL,
    attended_access INTEGER NOT NULL,
    share_sessions INTEGER NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
  );

  CREATE TABLE auth_sessions (
    token_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  );
  CREATE INDEX auth_sessions_account ON auth_sessions(account_id);

  CREATE TABLE channels (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('private', 'team')),
    name TEXT NOT NULL,
    owner_id TEXT REFERENCES accounts(id),
    session_expiry_minutes INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE UNIQUE INDEX channels_team_name ON channels(lower(name)) WHERE kind = 'team';
  CREATE UNIQUE INDEX channels_private_owner ON channels(owner_id) WHERE kind = 'private';

  CREATE TABLE channel_access (
    channel_id TEXT NOT NULL REFERENCES channels(id),
    account_id TEXT NOT NULL REFERENCES accounts(id),
    PRIMARY KEY (channel_id, account_id)
  );

  CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    channel_id TEXT NOT NULL REFERENCES channels(id),
    name TEXT NOT NULL,
    note TEXT NOT NULL,
    status TEXT NOT NULL,
    assignee_id TEXT REFERENCES accounts(id),
    created_by TEXT NOT NULL REFERENCES accounts(id),
    created_at INTEGER NOT NULL,
    last_activity_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    link_token TEXT NOT NULL UNIQUE,
    pin TEXT,
    resume_secret_hash TEXT,
    device TEXT,
    deleted_at INTEGER
  );
  CREATE UNIQUE INDEX sessions_live_pin ON sessions(pin) WHERE pin IS NOT NULL;
  CREATE INDEX sessions_channel ON sessions(channel_id) WHERE deleted_at IS NULL;
  CREATE INDEX sessions_status ON sessions(status) WHERE deleted_at IS NULL;

  CREATE TABLE session_invites (
    session_id TEXT NOT NULL REFERENCES sessions(id),
    account_id TEXT NOT NULL REFERENCES accounts(id),
    invited_at INTEGER NOT NULL,
    PRIMARY KEY (session_id, account_id)
  );

  CREATE TABLE session_permissions (
    session_id TEXT NOT NULL REFERENCES sessions(id),
    account_id TEXT NOT NULL REFERENCES accounts(id),
    state TEXT NOT NULL,
    access TEXT,
    request_id TEXT,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (session_id, account_id)
  );

  CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id TEXT,
    actor_name TEXT,
    action TEXT NOT NULL,
    session_id TEXT,
    detail TEXT NOT NULL
  );
  CREATE INDEX audit_session ON audit_log(session_id);
  CREATE INDEX audit_actor ON audit_log(actor_id);
  `,
  // 2: the chat of each session (chat-queries.ts).
  `
  CREATE TABLE chat_lines (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL REFERENCES sessions(id),
    at INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('technician', 'enduser', 'joined', 'left')),
    technician_id TEXT REFERENCES accounts(id),
    technician_name TEXT,
    text TEXT NOT NULL
  );
  CREATE INDEX chat_lines_session ON chat_lines(session_id, id);
  `,
  // 3: the end user's computer's facts, the last asked for per session (system-info-queries.ts).
  `
  CREATE TABLE session_system_info (
    session_id TEXT PRIMARY KEY REFERENCES sessions(id),
    request_id TEXT NOT NULL,
    requested_by TEXT NOT NULL REFERENCES accounts(id),
    requested_at INTEGER NOT NULL,
    info TEXT,
    received_at INTEGER
  );
  `,
  // 4: session recordings (recording-queries.ts): the channel's setting, the "view recordings"
  // permission, and one row per recording (its file is <data dir>/recordings/<id>.webm).
  `
  ALTER TABLE channels ADD COLUMN recording_mode TEXT NOT NULL DEFAULT 'off' CHECK (recording_mode IN ('off', 'request', 'always'));
  ALTER TABLE channels ADD COLUMN recording_retention_days INTEGER NOT NULL DEFAULT 30;
  ALTER TABLE accounts ADD COLUMN view_recordings INTEGER NOT NULL DEFAULT 0;
  CREATE TABLE recordings (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions(id),
    technician_id TEXT NOT NULL REFERENCES accounts(id),
    technician_name TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    confirmed_at INTEGER,
    ended_at INTEGER,
    last_chunk_at INTEGER,
    bytes INTEGER NOT NULL DEFAULT 0,
    duration_ms INTEGER
  );
  CREATE INDEX recordings_session ON recordings(session_id);
  `,
  // 5: consent that stays current (signaling/domain/continuation.ts): each channel's re-confirmation
  // interval, and each session's clock (running since, the open question and its deadline).
  `
  ALTER TABLE channels ADD COLUMN reconfirm_minutes INTEGER NOT NULL DEFAULT 30;
  CREATE TABLE session_continuation (
    session_id TEXT PRIMARY KEY REFERENCES sessions(id),
    state TEXT NOT NULL,
    since INTEGER NOT NULL,
    request_id TEXT,
    deadline INTEGER
  );
  `,
  // 6: a channel's file size limit in MiB (shared/limits.ts: at most and by default MAX_FILE_BYTES).
  `
  ALTER TABLE channels ADD COLUMN file_size_limit_mb INTEGER NOT NULL DEFAULT 4096;
  `,
];
