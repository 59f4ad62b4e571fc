import type { RemoteCloseReason } from "../../../shared/console-protocol.ts";
import type { ErrorCode } from "../../../shared/errors.ts";

/**
 * What the console says for each code the gateway sends: every error code (shared/errors.ts) and
 * every reason a remote view closes (shared/console-protocol.ts). The types demand one text per
 * code, so a new code does not compile until it has one here and in codes.de.ts.
 */
export type CodeMessages = Readonly<
  Record<`error.${ErrorCode}` | `remote.closed.${RemoteCloseReason}`, string>
>;

export const codesEn = {
  "error.BAD_REQUEST": "The request was not valid.",
  "error.UNSUPPORTED_VERSION": "This version is not supported by the gateway.",
  "error.MESSAGE_TOO_LARGE": "The message is too large.",
  "error.HEADERS_TOO_LARGE": "The request headers are too large.",
  "error.REQUEST_TIMEOUT": "The request took too long.",
  "error.UNAUTHENTICATED": "Please sign in.",
  "error.INVALID_CREDENTIALS": "The email or password is wrong.",
  "error.SIGNIN_THROTTLED": "Too many sign-in attempts.",
  "error.CSRF_FAILED": "The page is out of date. Reload it and try again.",
  "error.ORIGIN_FORBIDDEN": "Requests from this address are not allowed.",
  "error.FORBIDDEN": "You are not allowed to do that.",
  "error.NOT_LICENSED": "This is not part of the organization's license.",
  "error.NOT_FOUND": "Not found.",
  "error.SETUP_CLOSED": "The gateway is already set up.",
  "error.SETUP_TOKEN_INVALID": "The setup token is not valid.",
  "error.EMAIL_TAKEN": "An account with this email already exists.",
  "error.CHANNEL_NOT_FOUND": "The channel does not exist.",
  "error.CHANNEL_NAME_TAKEN": "A channel with this name already exists.",
  "error.TECHNICIAN_NOT_FOUND": "The technician does not exist.",
  "error.TECHNICIAN_DISABLED": "The technician is disabled.",
  "error.SESSION_NOT_FOUND": "The session does not exist.",
  "error.SESSION_CLOSED": "The session is closed.",
  "error.SESSION_EXPIRED": "The session has expired.",
  "error.INVALID_TRANSITION": "The session cannot do that in its current status.",
  "error.INVITE_LIMIT": "No more technicians can join this session.",
  "error.ALREADY_ON_SESSION": "The technician is already on this session.",
  "error.NOT_ON_SESSION": "You are not on this session.",
  "error.PERMISSION_NOT_GRANTED": "The end user has not granted you access.",
  "error.PERMISSION_PENDING": "The end user has not answered yet.",
  "error.AGENT_OFFLINE": "The end user's app is not connected.",
  "error.AGENT_ALREADY_CONNECTED": "The end user's app is already connected.",
  "error.RESUME_INVALID": "The connection could not be resumed.",
  "error.NOT_JOINED": "Not joined yet.",
  "error.ALREADY_JOINED": "Already joined.",
  "error.PEER_NOT_FOUND": "The connection does not exist.",
  "error.CHAT_FULL": "This session's chat is full: no more lines can be sent.",
  "error.CHAT_TOO_FAST": "Too many chat lines at once: this one was not sent.",
  "error.PIN_RATE_LIMITED": "Too many PIN attempts.",
  "error.RATE_LIMITED": "Too many requests.",
  "error.BUILD_RUNNING": "A build is already running. Wait for it or cancel it.",
  "error.BUILD_NOT_RUNNING": "No build is running.",
  "error.RECORDING_OFF": "This session's channel does not record sessions.",
  "error.RECORDING_NOT_FOUND": "No such recording.",
  "error.RECORDING_NOT_CONFIRMED": "The end user's app has not confirmed the recording notice yet.",
  "error.RECORDING_ENDED": "The recording was stopped (its view closed, or its channel no longer records).",
  "error.RECORDING_OFFSET_MISMATCH":
    "The recording on the gateway has a different length; the upload resumes from there.",
  "error.RECORDING_STORAGE_FAILED":
    "The gateway could not store the recording (its disk refused). Try again later.",
  "error.RECORDINGS_NOT_PERMITTED":
    "You are not allowed to see recordings (ask an admin for the “view recordings” permission).",
  "error.STORE_UNAVAILABLE": "The gateway cannot store anything right now. Try again shortly.",
  "error.INTERNAL": "Something went wrong in the gateway.",
  "remote.closed.disconnected": "You disconnected.",
  "remote.closed.ended_by_user": "The session was ended by the user.",
  "remote.closed.revoked": "The end user withdrew permission.",
  "remote.closed.session_closed": "The session was closed.",
  "remote.closed.agent_offline": "The end user's app went offline.",
  "remote.closed.replaced": "The remote view was opened elsewhere.",
  "remote.closed.removed_from_session": "You are no longer on this session.",
  "remote.closed.technician_disabled": "Your account was disabled.",
  "remote.closed.peer_failed": "The connection to the end user's computer failed.",
  "remote.closed.no_answer": "The end user's computer got no answer from this browser.",
  "remote.closed.no_path":
    "No connection to the end user's computer could be made, not even through the relay.",
  "remote.closed.path_lost": "The connection to the end user's computer was lost (no answer for 30 seconds).",
} satisfies CodeMessages;
