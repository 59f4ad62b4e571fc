import { SosError } from "../../shared/errors.ts";
import type { Organization, Role, TechnicianPermissions } from "../../shared/model.ts";
import { AttemptLimiter } from "../auth/attempt-limiter.ts";
import { KeyedQueue } from "../auth/keyed-queue.ts";
import { hashPassword, UNUSABLE_PASSWORD_HASH, verifyPassword } from "../auth/passwords.ts";
import { hashSecret, newId, newSecret } from "../auth/tokens.ts";
import type { Clock } from "../clock.ts";
import type { AuthSessionRow, TechnicianRow } from "../store/rows.ts";
import type { Store } from "../store/store.ts";
import type { AuditLog } from "./audit.ts";
import type { Channels } from "./channels.ts";
import type { Desk } from "./desk/desk.ts";
import type { DomainEvents } from "./events.ts";
import { requireAdmin } from "./policy.ts";

export type TechniciansDeps = {
  store: Store;
  clock: Clock;
  audit: AuditLog;
  desk: Desk;
  channels: Channels;
  events: DomainEvents;
  licensedFeatures: Organization["features"];
};

const AUTH_SESSION_MS = 12 * 60 * 60_000;
const SETUP_TOKEN_KEY = "setup_token_hash";
const ORG_NAME_KEY = "organization_name";

/** Sign-in throttling: per account and per address, with a block that doubles each time. */
export const SIGN_IN_LIMITS = {
  maxFailures: 5,
  windowMs: 15 * 60_000,
  baseBlockMs: 30_000,
  maxBlockMs: 60 * 60_000,
} as const;

/** Technicians, sign-in, the one-time setup, and the organization. */
export class Technicians {
  readonly #d: TechniciansDeps;
  readonly #byAccount: AttemptLimiter;
  readonly #byAddress: AttemptLimiter;
  /** Sign-in attempts queued per account and per address (see signIn). */
  readonly #signInQueue = new KeyedQueue();

  constructor(deps: TechniciansDeps) {
    this.#d = deps;
    this.#byAccount = new AttemptLimiter(SIGN_IN_LIMITS, deps.clock);
    this.#byAddress = new AttemptLimiter(
      { ...SIGN_IN_LIMITS, maxFailures: SIGN_IN_LIMITS.maxFailures * 4 },
      deps.clock,
    );
  }

  async organization(): Promise<Organization> {
    return {
      name: (await this.#d.store.getSetting(ORG_NAME_KEY)) ?? "SOS",
      features: this.#d.licensedFeatures,
    };
  }

  async renameOrganization(actor: TechnicianRow, name: string): Promise<Organization> {
    requireAdmin(actor);
    await this.#d.store.transaction(async () => {
      await this.#d.store.setSetting(ORG_NAME_KEY, name);
      await this.#d.audit.record({ kind: "technician", account: actor }, "organization.updated", null, {
        name,
      });
    });
    return this.organization();
  }

  /** Setup is open only while no admin exists. */
  async setupOpen(): Promise<boolean> {
    return (await this.#d.store.countAdmins()) === 0;
  }

  /**
   * On a start with no admin: create one from the given credentials, or make a one-time setup token
   * (returned once, stored hashed). Returns the token when one was made.
   */
  async bootstrap(
    admin: { email: string; password: string; name: string } | undefined,
  ): Promise<string | undefined> {
    if (!(await this.setupOpen())) {
      await this.#d.store.deleteSetting(SETUP_TOKEN_KEY);
      return undefined;
    }
    if (admin !== undefined) {
      await this.#createAccount({
        ...admin,
        role: "admin",
        permissions: { attendedAccess: true, shareSessions: true, viewRecordings: true },
      });
      await this.#d.audit.record({ kind: "system" }, "setup.completed", null, {
        email: admin.email,
        via: "environment",
      });
      return undefined;
    }
    const token = newSecret();
    await this.#d.store.setSetting(SETUP_TOKEN_KEY, hashSecret(token));
    return token;
  }

  async completeSetup(input: {
    token: string;
    email: string;
    name: string;
    password: string;
  }): Promise<TechnicianRow> {
    if (!(await this.setupOpen())) throw new SosError("SETUP_CLOSED", "Not found.");
    const stored = await this.#d.store.getSetting(SETUP_TOKEN_KEY);
    if (stored === undefined || stored !== hashSecret(input.token)) {
      throw new SosError("SETUP_TOKEN_INVALID", "The setup token is not valid.");
    }
    const account = await this.#createAccount({
      ...input,
      role: "admin",
      permissions: { attendedAccess: true, shareSessions: true, viewRecordings: true },
    });
    await this.#d.store.deleteSetting(SETUP_TOKEN_KEY);
    await this.#d.audit.record({ kind: "technician", account }, "setup.completed", null, { via: "token" });
    return account;
  }

  /** A sign-in tried on another gateway instance: counted here as if tried here (limits are shared). */
  heardSignIn(email: string, address: string, outcome: "failed" | "succeeded"): void {
    if (outcome === "failed") {
      this.#byAccount.fail(email);
      this.#byAddress.fail(address);
    } else {
      this.#byAccount.succeed(email);
      this.#byAddress.succeed(address);
    }
  }

  /**
   * Attempts for the same account or from the same address run one at a time, so simultaneous
   * guesses see each other's failures: otherwise all of them pass the throttle check before the
   * first slow password check fails.
   */
  signIn(
    email: string,
    password: string,
    address: string,
  ): Promise<{ account: TechnicianRow; token: string; session: AuthSessionRow }> {
    return this.#signInQueue.run([`account:${email}`, `address:${address}`], () =>
      this.#attemptSignIn(email, password, address),
    );
  }

  async #attemptSignIn(
    email: string,
    password: string,
    address: string,
  ): Promise<{ account: TechnicianRow; token: string; session: AuthSessionRow }> {
    const retry = Math.max(this.#byAccount.retryAfterMs(email), this.#byAddress.retryAfterMs(address));
    if (retry > 0) {
      this.#d.events.emit("signInRefused", "throttled");
      throw new SosError("SIGNIN_THROTTLED", "Too many failed sign-ins. Wait and try again.", {
        retryAfter: Math.ceil(retry / 1000),
      });
    }
    const account = await this.#d.store.getTechnicianByEmail(email);
    const ok = await verifyPassword(password, account?.passwordHash ?? UNUSABLE_PASSWORD_HASH);
    if (account === undefined || !ok || account.disabled) {
      this.#byAccount.fail(email);
      this.#byAddress.fail(address);
      this.#d.events.emit("signInTried", email, address, "failed");
      await this.#d.audit.record({ kind: "system" }, "auth.sign_in_failed", null, { email, address });
      this.#d.events.emit("signInRefused", "invalid_credentials");
      throw new SosError("INVALID_CREDENTIALS", "Wrong email or password.");
    }
    this.#byAccount.succeed(email);
    this.#byAddress.succeed(address);
    this.#d.events.emit("signInTried", email, address, "succeeded");
    const token = newSecret();
    const now = this.#d.clock.now();
    const session: AuthSessionRow = {
      tokenHash: hashSecret(token),
      technicianId: account.id,
      csrfToken: newSecret(),
      createdAt: now,
      expiresAt: now + AUTH_SESSION_MS,
    };
    await this.#d.store.insertAuthSession(session);
    await this.#d.audit.record({ kind: "technician", account }, "auth.signed_in", null, { address });
    return { account, token, session };
  }

  /** The signed-in account behind a cookie token, or undefined. */
  async authenticate(
    token: string,
  ): Promise<{ account: TechnicianRow; session: AuthSessionRow } | undefined> {
    const session = await this.#d.store.getAuthSession(hashSecret(token));
    if (session === undefined) return undefined;
    if (session.expiresAt <= this.#d.clock.now()) {
      await this.#d.store.deleteAuthSession(session.tokenHash);
      return undefined;
    }
    const account = await this.#d.store.getTechnician(session.technicianId);
    if (account === undefined || account.disabled) return undefined;
    return { account, session };
  }

  async signOut(account: TechnicianRow, session: AuthSessionRow): Promise<void> {
    await this.#d.store.deleteAuthSession(session.tokenHash);
    await this.#d.audit.record({ kind: "technician", account }, "auth.signed_out", null);
  }

  async list(actor: TechnicianRow): Promise<TechnicianRow[]> {
    if (actor.disabled) throw SosError.forbidden();
    return this.#d.store.listTechnicians();
  }

  async create(
    actor: TechnicianRow,
    input: { email: string; name: string; password: string; role: Role; permissions: TechnicianPermissions },
  ): Promise<TechnicianRow> {
    requireAdmin(actor);
    const account = await this.#createAccount(input);
    await this.#d.audit.record({ kind: "technician", account: actor }, "technician.created", null, {
      technicianId: account.id,
      email: account.email,
      role: account.role,
      permissions: input.permissions,
    });
    return account;
  }

  async update(
    actor: TechnicianRow,
    id: string,
    input: {
      name?: string | undefined;
      password?: string | undefined;
      permissions?:
        | {
            attendedAccess?: boolean | undefined;
            shareSessions?: boolean | undefined;
            viewRecordings?: boolean | undefined;
          }
        | undefined;
      disabled?: boolean | undefined;
    },
  ): Promise<TechnicianRow> {
    requireAdmin(actor);
    const { store } = this.#d;
    // Hashed first (slow), then decided on the account as it is inside the transaction: an edit
    // made meanwhile by another admin (a disable, say) is kept, never overwritten by a stale copy.
    const passwordHash = input.password === undefined ? undefined : await hashPassword(input.password);
    const { next, lostAccess } = await store.transaction(async () => {
      const current = await store.lockTechnician(id);
      if (current === undefined) throw new SosError("TECHNICIAN_NOT_FOUND", "No such technician.");
      if (input.disabled === true && current.id === actor.id) {
        throw SosError.forbidden("You cannot disable your own account.");
      }
      const next: TechnicianRow = {
        ...current,
        name: input.name ?? current.name,
        passwordHash: passwordHash ?? current.passwordHash,
        attendedAccess: input.permissions?.attendedAccess ?? current.attendedAccess,
        shareSessions: input.permissions?.shareSessions ?? current.shareSessions,
        viewRecordings: input.permissions?.viewRecordings ?? current.viewRecordings,
        disabled: input.disabled ?? current.disabled,
      };
      const lostAccess =
        (!current.disabled && next.disabled) || (current.attendedAccess && !next.attendedAccess);
      await store.updateTechnician(next);
      if (lostAccess || input.password !== undefined) await store.deleteAuthSessionsOf(id);
      await this.#d.audit.record({ kind: "technician", account: actor }, "technician.updated", null, {
        technicianId: id,
        name: input.name,
        permissions: input.permissions,
        disabled: input.disabled,
        passwordChanged: input.password !== undefined,
      });
      return { next, lostAccess };
    });
    if (lostAccess) {
      await this.#d.desk.permissions.forgetTechnician(id);
      this.#d.events.emit("technicianDisabled", id);
    }
    this.#d.events.emit("technicianUpdated", next);
    this.#d.events.emit("accessChanged");
    return next;
  }

  async #createAccount(input: {
    email: string;
    name: string;
    password: string;
    role: Role;
    permissions: TechnicianPermissions;
  }): Promise<TechnicianRow> {
    if ((await this.#d.store.getTechnicianByEmail(input.email)) !== undefined) {
      throw new SosError("EMAIL_TAKEN", "An account with that email exists.");
    }
    const account: TechnicianRow = {
      id: newId(),
      email: input.email,
      name: input.name,
      role: input.role,
      passwordHash: await hashPassword(input.password),
      attendedAccess: input.permissions.attendedAccess,
      shareSessions: input.permissions.shareSessions,
      viewRecordings: input.permissions.viewRecordings,
      disabled: false,
      createdAt: this.#d.clock.now(),
    };
    await this.#d.store.transaction(async () => {
      if ((await this.#d.store.getTechnicianByEmail(input.email)) !== undefined) {
        throw new SosError("EMAIL_TAKEN", "An account with that email exists.");
      }
      await this.#d.store.insertTechnician(account);
      await this.#d.channels.createPrivate(account);
    });
    return account;
  }
}
