import { api, errorText, isUnauthenticated, setCsrfToken } from "../lib/api.ts";
import { startConnection, stopConnection } from "./connection.ts";
import { auth, showNotice } from "./stores.ts";

/** Signing in and out; a signed-in console keeps its socket open. */

export async function loadAuth(): Promise<void> {
  try {
    const me = await api.me();
    setCsrfToken(me.csrfToken);
    auth.set({ kind: "signedIn", me });
    startConnection();
  } catch (error) {
    // Unreachable or broken: the sign-in page, with the reason above it.
    if (!isUnauthenticated(error)) showNotice("error", errorText(error));
    const setup = await api.setupState().catch(() => ({ open: false }));
    auth.set({ kind: "signedOut", setupOpen: setup.open });
  }
}

export async function signIn(email: string, password: string): Promise<void> {
  const me = await api.signIn({ email, password });
  setCsrfToken(me.csrfToken);
  auth.set({ kind: "signedIn", me });
  startConnection();
}

export async function signOut(): Promise<void> {
  try {
    await api.signOut();
  } finally {
    stopConnection();
    setCsrfToken("");
    auth.set({ kind: "signedOut", setupOpen: false });
  }
}
