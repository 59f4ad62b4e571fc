import type { PoolClient } from "pg";

/**
 * The PostgreSQL store's schema, as ordered migrations: the same tables, columns and indexes as the
 * SQLite store's (migrations.ts), in PostgreSQL's types. Each runs once, in its own transaction,
 * recorded in `schema_migrations`; a new migration is appended, never edited.
 *
 * Times are epoch milliseconds (BIGINT), flags 0/1 (SMALLINT with a CHECK), JSON as text: the same
 * values the shared queries write to SQLite. The database enforces what matters: one live session
 * per PIN (sessions_live_pin), one Private channel per technician, unique team channel names, and
 * every reference.
 */
export const POSTGRES_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);

  CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'technician')),
    password_hash TEXT NOT NULL,
    attended_access SMALLINT NOT NULL CHECK (attended_access IN (0, 1)),
    share_sessions SMALLINT NOT NULL CHECK (share_sessions IN (0, 1)),
    disabled SMALLINT NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at BIGINT NOT NULL
  );

  CREATE TABLE auth_sessions (
    token_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
  );
  CREATE INDEX auth_sessions_account ON auth_sessions(account_id);

  CREATE TABLE channels (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('private', 'team')),
    name TEXT NOT NULL,
    owner_id TEXT REFERENCES accounts(id),
    session_expiry_minutes INTEGER NOT NULL,
    created_at BIGINT NOT NULL
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
    created_at BIGINT NOT NULL,
    last_activity_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    link_token TEXT NOT NULL UNIQUE,
    pin TEXT,
    resume_secret_hash TEXT,
    device TEXT,
    deleted_at BIGINT
  );
  CREATE UNIQUE INDEX sessions_live_pin ON sessions(pin) WHERE pin IS NOT NULL;
  CREATE INDEX sessions_channel ON sessions(channel_id) WHERE deleted_at IS NULL;
  CREATE INDEX sessions_status ON sessions(status) WHERE deleted_at IS NULL;

  CREATE TABLE session_invites (
    session_id TEXT NOT NULL REFERENCES sessions(id),
    account_id TEXT NOT NULL REFERENCES accounts(id),
    invited_at BIGINT NOT NULL,
    PRIMARY KEY (session_id, account_id)
  );
  CREATE INDEX session_invites_account ON session_invites(account_id);

  CREATE TABLE session_permissions (
    session_id TEXT NOT NULL REFERENCES sessions(id),
    account_id TEXT NOT NULL REFERENCES accounts(id),
    state TEXT NOT NULL,
    access TEXT,
    request_id TEXT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (session_id, account_id)
  );

  CREATE TABLE audit_log (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at BIGINT NOT NULL,
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
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions(id),
    at BIGINT NOT NULL,
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
    requested_at BIGINT NOT NULL,
    info TEXT,
    received_at BIGINT
  );
  `,
  // 4: several instances on one database (signaling/cluster/postgres-cluster.ts): who is alive, which
  // instance holds each agent, and bus messages too large for a NOTIFY.
  `
  CREATE TABLE gateway_instances (
    id TEXT PRIMARY KEY,
    started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    heartbeat_at TIMESTAMPTZ NOT NULL DEFAULT now()
  );

  CREATE TABLE agent_presence (
    session_id TEXT PRIMARY KEY,
    instance_id TEXT NOT NULL,
    since TIMESTAMPTZ NOT NULL DEFAULT now()
  );
  CREATE INDEX agent_presence_instance ON agent_presence(instance_id);

  CREATE TABLE bus_payloads (
    id BIGSERIAL PRIMARY KEY,
    body TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
  );
  `,
  // 5: session recordings (recording-queries.ts), as SQLite's migration 4.
  `
  ALTER TABLE channels ADD COLUMN recording_mode TEXT NOT NULL DEFAULT 'off' CHECK (recording_mode IN ('off', 'request', 'always'));
  ALTER TABLE channels ADD COLUMN recording_retention_days INTEGER NOT NULL DEFAULT 30;
  ALTER TABLE accounts ADD COLUMN view_recordings SMALLINT NOT NULL DEFAULT 0 CHECK (view_recordings IN (0, 1));
  CREATE TABLE recordings (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions(id),
    technician_id TEXT NOT NULL REFERENCES accounts(id),
    technician_name TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    confirmed_at BIGINT,
    ended_at BIGINT,
    last_chunk_at BIGINT,
    bytes BIGINT NOT NULL DEFAULT 0,
    duration_ms BIGINT
  );
  CREATE INDEX recordings_session ON recordings(session_id);
  `,
  // 6: consent that stays current (SQLite's 5) (signaling/domain/continuation.ts): each channel's re-confirmation
  // interval, and each session's clock (running since, the open question and its deadline).
  `
  ALTER TABLE channels ADD COLUMN reconfirm_minutes INTEGER NOT NULL DEFAULT 30;
  CREATE TABLE session_continuation (
    session_id TEXT PRIMARY KEY REFERENCES sessions(id),
    state TEXT NOT NULL,
    since BIGINT NOT NULL,
    request_id TEXT,
    deadline BIGINT
  );
  `,
  // 7 (SQLite's 6): a channel's file size limit in MiB (shared/limits.ts: at most and by default MAX_FILE_BYTES).
  `
  ALTER TABLE channels ADD COLUMN file_size_limit_mb INTEGER NOT NULL DEFAULT 4096;
  `,
];

/** The advisory lock every starting gateway takes before it looks at the schema (any 64-bit key). */
export const MIGRATION_LOCK_KEY = "7534071892345001";

/**
 * Applies the migrations not applied yet. Gateways starting at once on one database take the
 * advisory lock in turn: the first applies, the others find everything applied. Returns the
 * versions this call applied.
 */
export async function migratePostgres(client: PoolClient): Promise<number[]> {
  await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
  try {
    await client.query(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)",
    );
    const done = await client.query<{ version: number }>("SELECT version FROM schema_migrations");
    const applied = new Set(done.rows.map((row) => Number(row.version)));
    const now: number[] = [];
    for (const [index, sql] of POSTGRES_MIGRATIONS.entries()) {
      const version = index + 1;
      if (applied.has(version)) continue;
      await client.query("BEGIN");
      try {
        await client.query(sql);
        await client.query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)", [
          version,
          Date.now(),
        ]);
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK").catch(() => {
          // The migration's own error is the one to report; a lost connection rolls back by itself.
        });
        throw error;
      }
      now.push(version);
    }
    return now;
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]);
  }
}
